"""Reading portraits: any common image file or array -> ``[H, W, 3]`` uint8 RGB.

Handles EXIF orientation, alpha (composited over white), grayscale / palette /
16-bit images, and downscales huge images so the long side is at most ``max_side``.
Unreadable, corrupt or non-image files raise a one-line :class:`InputError` naming the
file.

Memory stays bounded for any file: the pixel count is read from the header first;
JPEGs are decoded at 1/2 to 1/8 scale by the decoder itself (draft mode) when large;
any other image over :data:`MAX_MEGAPIXELS` is refused before decoding; decoded images
are reduced (box filter) before any conversion, and 16-bit images are converted to
8 bits with integer arithmetic (no float copies).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.io import require_file

MAX_SIDE = 2048
"""Default long-side limit: larger portraits are downscaled (faces stay far above the
tracker's minimum, and the renderer stays fast)."""
MIN_SIDE = 16
MAX_MEGAPIXELS = 64
"""Largest image decoded at full size, in megapixels (a 64 MP phone photo fits; a
portrait needs 1-4 MP). Larger JPEGs are decoded at reduced scale; others are refused."""

PortraitLike = Union[str, os.PathLike, np.ndarray]


def load_portrait(source: PortraitLike, max_side: int = MAX_SIDE) -> np.ndarray:
    """Load a portrait as ``[H, W, 3]`` uint8 RGB.

    Args:
        source: an image path (JPEG, PNG, WebP, BMP, TIFF, ...) or an array ``[H, W]``,
            ``[H, W, 1]``, ``[H, W, 3]`` or ``[H, W, 4]`` (uint8, uint16, or float in [0, 1]).
        max_side: downscale (area filter) so that ``max(H, W) <= max_side``.

    Raises:
        InputError: missing, empty, corrupt or non-image file; unsupported array; image
            smaller than 16 px.
    """
    if isinstance(source, np.ndarray):
        image, name = _array_to_rgb(source, "portrait array"), "portrait array"
    else:
        image, name = _read_file(Path(source), max_side), str(source)
    if min(image.shape[:2]) < MIN_SIDE:
        raise InputError(f"{name}: image is {image.shape[1]}x{image.shape[0]} px; need at least "
                         f"{MIN_SIDE} px on each side")
    return _limit_size(image, max_side)


def _read_file(path: Path, max_side: int) -> np.ndarray:
    from PIL import Image, ImageOps, UnidentifiedImageError

    require_file(path, "portrait")
    try:
        with Image.open(path) as im:
            width, height = im.size
            # JPEG draft mode decodes big photos at a reduced scale directly (fast, less memory).
            if im.format == "JPEG" and max(im.size) > 2 * max_side:
                im.draft("RGB", (max_side, max_side))
            if im.size[0] * im.size[1] > MAX_MEGAPIXELS * 1_000_000:
                raise InputError(f"portrait {path} is {width}x{height} px ({width * height / 1e6:.0f} MP), over the "
                                 f"limit of {MAX_MEGAPIXELS} MP; downscale it (a portrait needs 1-4 MP)")
            im.load()
            im = _reduce(im, max_side)
            im = ImageOps.exif_transpose(im)
            return _pil_to_rgb(im)
    except InputError:
        raise
    except UnidentifiedImageError:
        raise InputError(f"portrait {path} is not an image file (or its format is not supported)") from None
    except Image.DecompressionBombError as exc:
        raise InputError(f"portrait {path} is too large to decode safely ({exc})") from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"portrait {path} is corrupt or truncated ({exc})") from None


def _reduce(im, max_side: int):
    """Box-reduce a decoded image by a whole factor so its long side is near ``max_side``
    (at most 2x over it); the exact size is reached later by an area filter."""
    factor = max(im.size) // max_side
    if factor < 2:
        return im
    if im.mode.startswith("I;16"):
        im = im.convert("I")  # Pillow reduces 32-bit integer images, not 16-bit ones
    try:
        return im.reduce(factor)
    except (ValueError, NotImplementedError):  # modes reduce does not support (1, P, CMYK, ...)
        return im


def _pil_to_rgb(im) -> np.ndarray:
    from PIL import Image

    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        return _gray16_to_rgb(np.asarray(im))
    if im.mode == "F":
        return _array_to_rgb(np.asarray(im, np.float32), "portrait")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), np.uint8))


def _gray16_to_rgb(arr: np.ndarray) -> np.ndarray:
    """A 16-bit (or 32-bit integer) grayscale image -> ``[H, W, 3]`` uint8, with integer
    arithmetic (values over 255 mean a 16-bit range; otherwise 8-bit values in an int image)."""
    top = 65535 if int(arr.max(initial=0)) > 255 else 255
    work = np.clip(arr, 0, top).astype(np.uint32)
    if top == 65535:
        work *= 255
        work += 32767
        work //= 65535
    gray = work.astype(np.uint8)
    del work
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))


def _array_to_rgb(arr: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise InputError(f"{name}: expected [H, W], [H, W, 3] or [H, W, 4], got shape {arr.shape}")
    if arr.dtype == np.uint8:
        img = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.uint16:
        img = arr.astype(np.float32) / 65535.0
    elif arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise InputError(f"{name}: contains NaN or infinite values")
        img = np.clip(arr.astype(np.float32), 0.0, 1.0)
    elif arr.dtype == bool:
        img = arr.astype(np.float32)
    else:
        raise InputError(f"{name}: unsupported dtype {arr.dtype}; use uint8, uint16 or float in [0, 1]")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    elif img.shape[2] == 4:  # alpha over white
        alpha = img[:, :, 3:4]
        img = img[:, :, :3] * alpha + (1.0 - alpha)
    return np.ascontiguousarray(np.round(img * 255.0).astype(np.uint8))


def _limit_size(image: np.ndarray, max_side: int) -> np.ndarray:
    import cv2

    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

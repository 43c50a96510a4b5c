"""The optional visible "AI-generated" label (``output.label=true``).

A small white caption on a translucent dark box in a corner, sized relative to the
frame, so it reads on any background and any frame size. It is drawn before the
invisible watermark is added (the watermark then covers the label area too).
"""

from __future__ import annotations

import functools

import numpy as np

from openinfp.core.errors import InputError

DEFAULT_TEXT = "AI-generated"
CORNERS = ("bottom-right", "bottom-left", "top-right", "top-left")


@functools.lru_cache(maxsize=8)
def _label_layer(height: int, width: int, text: str, corner: str) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray]:
    """Pre-rendered label: ``(box, rgb [h, w, 3] float32, alpha [h, w, 1] float32)``,
    where ``box`` is the ``(rows, cols)`` region of the frame it covers."""
    import cv2  # lazy: only needed when a label is drawn

    font = cv2.FONT_HERSHEY_SIMPLEX
    target = max(8.0, 0.035 * min(height, width))  # text height in px
    (tw, th), _ = cv2.getTextSize(text, font, 1.0, 1)
    scale = target / th
    thickness = max(1, int(round(scale * 2)))
    (tw, th), base = cv2.getTextSize(text, font, scale, thickness)
    pad = max(2, int(round(0.4 * th)))
    margin = max(2, int(round(0.02 * min(height, width))))
    box_w, box_h = tw + 2 * pad, th + base + 2 * pad
    if box_w + 2 * margin > width or box_h + 2 * margin > height:
        raise InputError(f"frame {width}x{height} is too small for the {text!r} label")
    x0 = margin if corner.endswith("left") else width - margin - box_w
    y0 = margin if corner.startswith("top") else height - margin - box_h
    text_mask = np.zeros((box_h, box_w), np.uint8)
    cv2.putText(text_mask, text, (pad, pad + th), font, scale, 255, thickness, cv2.LINE_AA)
    t = text_mask.astype(np.float32) / 255.0
    rgb = np.repeat(255.0 * t[..., None], 3, axis=2)
    alpha = np.maximum(0.55, t)[..., None]  # translucent dark box under opaque white text
    box = (slice(y0, y0 + box_h), slice(x0, x0 + box_w))
    return box, rgb, alpha


def draw_label(frame: np.ndarray, text: str = DEFAULT_TEXT, corner: str = "bottom-right") -> np.ndarray:
    """Return a copy of ``frame`` (``[H, W, 3]`` uint8 RGB) with the visible label drawn.

    Raises:
        InputError: bad frame, unknown corner, or a frame too small to hold the text.
    """
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InputError(f"label needs [H, W, 3] uint8 RGB frames, got {frame.dtype} {frame.shape}")
    if corner not in CORNERS:
        raise InputError(f"unknown label corner {corner!r}; valid choices: {', '.join(CORNERS)}")
    if not text.isascii() or not text.strip():
        raise InputError("the label text must be non-empty ASCII")
    box, rgb, alpha = _label_layer(frame.shape[0], frame.shape[1], text, corner)
    out = frame.copy()
    blended = frame[box].astype(np.float32) * (1.0 - alpha) + rgb * alpha
    out[box] = np.clip(np.rint(blended), 0, 255).astype(np.uint8)
    return out


"""Closing eyelids drawn over the eye opening (blinks), instead of warped down.

Warping the upper lid down to close an eye drags whatever lies above it into the
opening: on a portrait with glasses the dark frame just above the eyes is smeared into
vertical streaks, and the compressed iris stays visible. So the renderer warps the
face *without* the closing part of a blink and this module paints the lid that covers
the opening: eyelid skin (the eye opening and nearby dark pixels such as lashes, brows
and glasses frames inpainted once from the surrounding skin, then warped with the
face), a soft shadow towards the lid edge, and a lash line along the edge.
The painted part grows with the blink, so a half blink covers the top of the iris and a
full one the whole opening; zero blink paints nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openinfp.head.landmarks import (
    LEFT_EYE,
    LEFT_EYE_CORNERS,
    LEFT_EYE_LOWER,
    LEFT_EYE_UPPER,
    RIGHT_EYE,
    RIGHT_EYE_CORNERS,
    RIGHT_EYE_LOWER,
    RIGHT_EYE_UPPER,
)


@dataclass(frozen=True)
class EyeLayout:
    """Landmark indices of one eye (MediaPipe topology)."""

    contour: tuple[int, ...]   # closed polygon of the opening
    upper: tuple[int, ...]     # upper lid, outer -> inner corner
    lower: tuple[int, ...]     # lower lid, outer -> inner corner (pairs with ``upper``)
    corners: tuple[int, int]   # (outer, inner)


EYES = (
    EyeLayout(RIGHT_EYE, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, (RIGHT_EYE_CORNERS[0], RIGHT_EYE_CORNERS[1])),
    EyeLayout(LEFT_EYE, LEFT_EYE_UPPER, LEFT_EYE_LOWER, (LEFT_EYE_CORNERS[0], LEFT_EYE_CORNERS[1])),
)
"""The subject's right eye, then the left (the order of the blink weights below)."""

_SHIFT = 3  # sub-pixel bits for cv2.fillPoly / polylines
LID_SHADOW = 0.16
"""How much darker the lid is at its edge than at its top (the lid curves away from the light)."""
LASH_WIDTH = 0.045
"""Lash line thickness in eye widths (corner to corner)."""
LID_SAMPLES = 17
"""Points along each lid line (corner to corner) of the painted lid."""
LASH_REACH_UP, LASH_REACH_DOWN, LASH_REACH_SIDE = 0.11, 0.04, 0.05
"""How far (eye widths) the lashes reach beyond the lid lines and corners: the part of
the source filled with skin. A fully closed lid also covers ``LASH_REACH_UP`` above the
open lid (hiding the open eye's own lash line, which would otherwise read as a
still-open lid), but never reaches past the corners (they anchor the tracker's pose)."""
DARK_FRACTION = 0.6
"""Pixels darker than this fraction of the skin around an eye are not skin (lashes, brows,
frames): never a source of the lid's colour."""


@dataclass(frozen=True)
class LidSkin:
    """What a portrait's closed lids look like, prepared once per source.

    Attributes:
        image: ``[H, W, 3]`` uint8 RGB, the source canvas with each eye opening (and its
            lashes) filled with the surrounding skin; it is warped like the source and
            shown where a lid comes down.
        lash: ``[2, 3]`` float32 RGB lash-line colour per eye (subject's right, left).
    """

    image: np.ndarray
    lash: np.ndarray


def _poly(points: np.ndarray, origin: np.ndarray) -> np.ndarray:
    return np.round((points - origin) * (1 << _SHIFT)).astype(np.int32)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def prepare_lid_skin(image: np.ndarray, landmarks: np.ndarray) -> LidSkin:
    """Fill each eye opening of a portrait with lid skin.

    Args:
        image: ``[H, W, 3]`` uint8 RGB (the renderer's source canvas).
        landmarks: ``[478, 2]`` the source's landmarks on that canvas.

    The opening, widened to take in the lashes around it, is inpainted (OpenCV's Telea
    method) from the skin just outside: the lid skin above the lash line and the
    under-eye skin below, so the fill is the person's own skin tone and shading whatever
    lies further out (brows, a glasses frame). Lash colour: the darker pixels along the
    open upper lid line.
    """
    h, w = image.shape[:2]
    filled = image.copy()
    lashes = []
    for eye in EYES:
        upper = landmarks[[eye.corners[0], *eye.upper, eye.corners[1]]]
        lower = landmarks[[eye.corners[0], *eye.lower, eye.corners[1]]]
        width = float(np.linalg.norm(upper[0] - upper[-1]))
        pad = int(np.ceil(0.25 * width)) + 4
        x0, y0 = np.floor(np.minimum(upper.min(0), lower.min(0))).astype(int) - pad
        x1, y1 = np.ceil(np.maximum(upper.max(0), lower.max(0))).astype(int) + pad + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 3 or y1 - y0 < 3:
            lashes.append(np.zeros(3, np.float32))
            continue
        origin = np.array([x0, y0], np.float64)
        roi = image[y0:y1, x0:x1]
        # The opening plus the lashes: upper lid raised, lower lid lowered, corners widened.
        up = np.array([0.0, LASH_REACH_UP * width])
        down = np.array([0.0, LASH_REACH_DOWN * width])
        along = LASH_REACH_SIDE * (upper[-1] - upper[0])  # outer -> inner corner
        top, bottom = upper - up, lower + down
        top[0] -= along
        bottom[0] -= along
        top[-1] += along
        bottom[-1] += along
        mask = np.zeros(roi.shape[:2], np.uint8)
        cv2.fillPoly(mask, [_poly(np.concatenate([top, bottom[::-1]]), origin)], 255, cv2.LINE_8, _SHIFT)
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
        # Dark things near the eye (lashes beyond the band, brows, a glasses frame) are
        # filled too, so no dark colour bleeds into the lid skin.
        luma = _luma(roi.astype(np.float32))
        outside = luma[mask == 0]
        if outside.size:
            skin_luma = float(np.percentile(outside, 75))
            mask[luma < DARK_FRACTION * skin_luma] = 255
        radius = max(2.0, 0.12 * width)
        filled[y0:y1, x0:x1] = cv2.inpaint(roi, mask, radius, cv2.INPAINT_TELEA)
        # Lash colour: the darkest third along the open upper lid line.
        line = np.zeros(roi.shape[:2], np.uint8)
        cv2.polylines(line, [_poly(upper, origin)], False, 1, max(1, int(round(0.04 * width))), cv2.LINE_8, _SHIFT)
        on_line = roi[line > 0].astype(np.float32)
        if len(on_line) == 0:
            on_line = roi.reshape(-1, 3).astype(np.float32)
        dark = on_line[_luma(on_line) <= np.percentile(_luma(on_line), 33)]
        lashes.append(np.median(dark, axis=0))
    return LidSkin(filled, np.array(lashes, np.float32))


def _eye_axes(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """An eye's own frame from its two corners: origin (the viewer's left corner), unit
    axis to the other corner, unit normal pointing down the face, eye width in px."""
    left, right = (a, b) if a[0] <= b[0] else (b, a)
    width = float(np.linalg.norm(right - left))
    axis = (right - left) / max(width, 1e-9)
    return left, axis, np.array([-axis[1], axis[0]]), width


def _profile(points: np.ndarray, origin: np.ndarray, axis: np.ndarray, normal: np.ndarray,
             u: np.ndarray) -> np.ndarray:
    """A lid line ``[K, 2]`` (image px) as its depth below the corner axis at ``u`` ``[M]``."""
    rel = points - origin
    pu, pv = rel @ axis, rel @ normal
    order = np.argsort(pu)
    return np.interp(u, pu[order], pv[order])


def paint_closing_lids(frame: np.ndarray, xy: np.ndarray, open_lm: np.ndarray,
                       closed_lm: np.ndarray, closing: np.ndarray, skin: LidSkin) -> None:
    """Paint the part of each eye opening that a blink covers (in place).

    Args:
        frame: ``[H, W, 3]`` uint8 RGB, warped with the eyes as they are without the blink.
        xy: the ``cv2.remap`` map ``[H, W, 2]`` float32 (x, y) that warped the frame;
            the same warp carries the lid skin.
        open_lm: ``[478, 2]`` landmarks the frame was warped to (eye openings as drawn).
        closed_lm: ``[478, 2]`` the same with the blink (where the lids should be).
        closing: ``[2]`` blink weight added on top of the warp per eye (subject's right,
            left), in [0, 1]; 0 paints nothing for that eye.
        skin: the portrait's lid skin (:func:`prepare_lid_skin`).

    Works in each eye's own frame (along the corner-to-corner axis and across it), so a
    rolled head closes its lids along the eye, not along the image's vertical.
    """
    h, w = frame.shape[:2]
    u_unit = np.linspace(0.0, 1.0, LID_SAMPLES)
    for k, eye in enumerate(EYES):
        if float(closing[k]) <= 1e-3:
            continue
        origin, axis, normal, width = _eye_axes(open_lm[eye.corners[0]], open_lm[eye.corners[1]])
        if width < 2.0:
            continue
        u = u_unit * width
        upper = _profile(open_lm[list(eye.upper)], origin, axis, normal, u)
        lower = _profile(open_lm[list(eye.lower)], origin, axis, normal, u)
        driven = _profile(closed_lm[list(eye.upper)], origin, axis, normal, u)
        upper[[0, -1]] = lower[[0, -1]] = driven[[0, -1]] = 0.0  # the corners
        # How far the lid came down: 0 (open) .. 1 (meets the lower lid).
        inner = slice(1, -1)
        gap = np.maximum(lower[inner] - upper[inner], 1e-6)
        closure = float(np.clip(np.median((driven[inner] - upper[inner]) / gap), 0.0, 1.0))
        if closure <= 1e-3:
            continue
        edge_v = upper + closure * (lower - upper)
        # The lid covers from its edge up to the open lid line, reaching over the open
        # eye's own lashes as it closes (the filled region of the lid skin).
        reach = closure * LASH_REACH_UP * width
        top_v = np.concatenate([[0.0], upper[inner] - reach, [0.0]])
        edge_pts = origin + u[:, None] * axis + edge_v[:, None] * normal
        top_pts = origin + u[:, None] * axis + top_v[:, None] * normal
        cover = np.concatenate([top_pts, edge_pts[::-1]])
        pad = int(np.ceil(LASH_WIDTH * width)) + 3
        x0, y0 = np.floor(cover.min(0)).astype(int) - pad
        x1, y1 = np.ceil(cover.max(0)).astype(int) + pad + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        roi_origin = np.array([x0, y0], np.float64)
        mask = np.zeros((y1 - y0, x1 - x0), np.float32)
        cv2.fillPoly(mask, [_poly(cover, roi_origin)], 1.0, cv2.LINE_AA, _SHIFT)
        # Shading: darker towards the edge (0 at the edge, 1 a lid height above it).
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float64) - origin[0], np.arange(y0, y1) - origin[1])
        pu, pv = gx * axis[0] + gy * axis[1], gx * normal[0] + gy * normal[1]
        lid_h = max(float(np.median(edge_v[inner] - upper[inner])) + reach, 1.0)
        t = np.clip((np.interp(pu, u, edge_v) - pv) / lid_h, 0.0, 1.0).astype(np.float32)
        shade = (1.0 - LID_SHADOW * (1.0 - t))[..., None]
        lid = cv2.remap(skin.image, np.ascontiguousarray(xy[y0:y1, x0:x1]), None, cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REPLICATE).astype(np.float32) * shade
        # Lash line along the edge, fading in over the first quarter of the blink.
        lash = np.zeros_like(mask)
        thick = max(1, int(round(LASH_WIDTH * width)))
        cv2.polylines(lash, [_poly(edge_pts, roi_origin)], False, 1.0, thick, cv2.LINE_AA, _SHIFT)
        lash = cv2.GaussianBlur(lash, (3, 3), 0) * min(1.0, closure / 0.25)
        roi = frame[y0:y1, x0:x1].astype(np.float32)
        alpha = cv2.GaussianBlur(mask, (3, 3), 0)[..., None]
        out = roi * (1 - alpha) + lid * alpha
        out = out * (1 - lash[..., None]) + skin.lash[k] * lash[..., None]
        frame[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)

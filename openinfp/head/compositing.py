"""Cheap per-frame touches the warp cannot make: the inside of an opening mouth.

When the lips part further than in the source photo, the warp can only stretch lip
pixels into the gap. We paint the inside of the mouth within the target inner-lip
contour, blended in proportion to how much of the opening is new: a cavity, a tongue on
wide openings, and the upper teeth: the portrait's own when its lips are parted in the
photo (carried by the upper lip), painted ones otherwise.

The painted colours come from the photo (:func:`mouth_palette`): the cavity and tongue
from its lips, everything in the photo's own tone, so a grayscale photo's mouth stays
gray, a sepia one's sepia, and teeth are never brighter than the photo's brightest skin.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openinfp.head.landmarks import (
    FACE_OVAL,
    LIPS_INNER,
    LIPS_INNER_LOWER,
    LIPS_INNER_UPPER,
    LIPS_OUTER,
    polygon_area,
)

CAVITY_RGB = np.array([34, 12, 16], np.float32)
TEETH_RGB = np.array([236, 230, 218], np.float32)
_SHIFT = 3  # sub-pixel bits for cv2.fillPoly


def _poly(points: np.ndarray, origin: np.ndarray) -> np.ndarray:
    return np.round((points - origin) * (1 << _SHIFT)).astype(np.int32)


def opening_strength(target_area: float, source_area: float) -> float:
    """How strongly to paint the interior, from the mouth's opening in the face's own
    (frontal, canonical) frame, so a nod that only changes the projected lip outline
    paints nothing. Full strength once the opening is 30 % larger than the source's (a
    source that shows its teeth would otherwise get them stretched); none at the
    source's own opening."""
    return float(np.clip((target_area / max(source_area, 1e-6) - 1.0) / 0.3, 0.0, 1.0))


def _mouth_axes(upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Unit vector from corner to corner of the inner upper lip ``[K, 2]``, the unit normal
    pointing to the chin (image y grows downwards), and the mouth's width in pixels."""
    across = upper[-1] - upper[0]
    width = max(float(np.linalg.norm(across)), 1e-6)
    axis = across / width
    down = np.array([-axis[1], axis[0]])
    return axis, (down if down[1] >= 0 else -down), width


def uncross_lips(upper: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner-lip contours ``[K, 2]`` (upper corner to corner, lower the other way round)
    with no point of the lower lip above its upper partner: such pairs (near the corners,
    when a turn or nod projects the lips across each other) meet at their midpoint, so the
    mouth polygon does not cross itself and paint a spike outside the mouth."""
    _, down, _ = _mouth_axes(upper)
    partner = lower[::-1]
    gap = (partner - upper) @ down
    crossed = gap < 0
    if not crossed.any():
        return upper, lower
    mid = 0.5 * (upper + partner)
    upper = np.where(crossed[:, None], mid, upper)
    partner = np.where(crossed[:, None], mid, partner)
    return upper, partner[::-1]


@dataclass(frozen=True)
class SourceTeeth:
    """What the portrait shows between its lips (its own teeth), kept at setup so an
    opening mouth shows them under the upper lip instead of painted ones.

    Attributes:
        patch: ``[h, w, 3]`` float32 crop of the source canvas around the mouth.
        alpha: ``[h, w]`` float32: 1 in the upper part of the source's lip opening, fading
            out towards its lower lip (lower teeth would float in an opened mouth).
        upper: ``[11, 2]`` the source's inner upper-lip points in patch pixels.
    """

    patch: np.ndarray
    alpha: np.ndarray
    upper: np.ndarray


MIN_SOURCE_GAP = 0.08
"""Lip gap (share of the mouth's width) from which the portrait's own teeth are reused."""


def prepare_source_teeth(canvas: np.ndarray, landmarks: np.ndarray) -> SourceTeeth | None:
    """The portrait's own mouth opening as a :class:`SourceTeeth`, or ``None`` when its
    lips are (nearly) closed. ``canvas``: ``[H, W, 3]`` uint8; ``landmarks``: ``[478, 2]``."""
    upper = landmarks[list(LIPS_INNER_UPPER)].astype(np.float64)
    lower = landmarks[list(LIPS_INNER_LOWER)].astype(np.float64)
    mouth_w = float(np.linalg.norm(upper[-1] - upper[0]))
    gap = float(np.median(lower[::-1, 1] - upper[:, 1]))
    if mouth_w < 8 or gap < MIN_SOURCE_GAP * mouth_w:
        return None
    h, w = canvas.shape[:2]
    pts = np.concatenate([upper, lower])
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int) - 4, 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 5, [w, h])
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    origin = np.array([x0, y0], np.float64)
    mask = np.zeros((y1 - y0, x1 - x0), np.float32)
    cv2.fillPoly(mask, [_poly(np.concatenate([upper, lower[1:-1]]), origin)], 1.0, cv2.LINE_AA, _SHIFT)
    # Fade with depth below the upper lip, as a share of the opening in each column: full
    # over its upper 55 %, gone at 85 %.
    xs = np.arange(x0, x1, dtype=np.float64)
    up_order, low_order = np.argsort(upper[:, 0]), np.argsort(lower[:, 0])
    top = np.interp(xs, upper[up_order, 0], upper[up_order, 1]) - y0
    bottom = np.interp(xs, lower[low_order, 0], lower[low_order, 1]) - y0
    rows = np.arange(y1 - y0, dtype=np.float64)[:, None]
    depth = (rows - top[None, :]) / np.maximum(bottom - top, 1.0)[None, :]
    fade = np.clip((0.85 - depth) / 0.3, 0.0, 1.0).astype(np.float32)
    return SourceTeeth(canvas[y0:y1, x0:x1].astype(np.float32), mask * fade, upper - origin)


@dataclass(frozen=True)
class MouthPalette:
    """Colours ``[3]`` float32 RGB of the painted mouth interior, in the photo's tone."""

    cavity: np.ndarray
    cavity_edge: np.ndarray
    tongue: np.ndarray
    teeth: np.ndarray


LUMA = np.array([0.299, 0.587, 0.114], np.float32)
COLOUR_FULL = 10.0
"""Mean off-tone chroma (0-255) of a photo from which the painted colours keep their own hue;
grayscale and sepia photos measure under 2 (their pixels all share one tint)."""
LIP_SHARE = 0.5
"""Share of the photo's own lip colour in the cavity edge and the tongue."""


def _polygon_mask(shape: tuple[int, int], points: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask.astype(bool)


def mouth_palette(canvas: np.ndarray, landmarks: np.ndarray) -> MouthPalette:
    """Mouth-interior colours for a photo (``canvas`` ``[H, W, 3]`` uint8, ``landmarks``
    ``[478, 2]`` on it). The photo's tint is the mean colour per unit of brightness; the
    painted colours keep their hue only in proportion to how colourful the photo is
    (:data:`COLOUR_FULL`), else they take its tint at their own brightness."""
    img = canvas.astype(np.float32)
    luma = img @ LUMA
    tint = img.reshape(-1, 3).sum(0) / max(float(luma.sum()), 1.0)
    off_tone = float(np.abs(img - luma[..., None] * tint).mean())
    colourful = float(np.clip(off_tone / COLOUR_FULL, 0.0, 1.0))
    face = _polygon_mask(luma.shape, landmarks[list(FACE_OVAL)])
    lips = (_polygon_mask(luma.shape, landmarks[list(LIPS_OUTER)])
            & ~_polygon_mask(luma.shape, landmarks[list(LIPS_INNER)]))
    bright = float(np.percentile(luma[face], 97)) if face.any() else 255.0
    if lips.sum() >= 4:
        lip = np.median(img[lips], axis=0)
    else:
        lip = np.median(img[face], axis=0) if face.any() else tint * 128

    def tone(rgb: np.ndarray) -> np.ndarray:
        grey = float(rgb @ LUMA) * tint
        return (grey + colourful * (rgb - grey)).astype(np.float32)

    teeth = tone(TEETH_RGB)
    teeth *= min(1.0, bright / max(float(teeth @ LUMA), 1.0))
    lip_t = tone(lip.astype(np.float32))
    return MouthPalette(
        cavity=tone(CAVITY_RGB),
        cavity_edge=((1 - LIP_SHARE) * tone(CAVITY_EDGE_RGB) + LIP_SHARE * 0.45 * lip_t).astype(np.float32),
        tongue=((1 - LIP_SHARE) * tone(TONGUE_RGB) + LIP_SHARE * 0.8 * lip_t).astype(np.float32),
        teeth=teeth.astype(np.float32),
    )


def default_palette() -> MouthPalette:
    """The fixed colours (a colour photo of average tone)."""
    return MouthPalette(CAVITY_RGB, CAVITY_EDGE_RGB, TONGUE_RGB, TEETH_RGB)


def paint_mouth_interior(frame: np.ndarray, target_lm: np.ndarray, strength: float,
                         source_teeth: SourceTeeth | None = None,
                         palette: MouthPalette | None = None) -> None:
    """Paint the mouth interior into ``frame`` (in place).

    Args:
        frame: ``[H, W, 3]`` uint8 RGB, the warped frame.
        target_lm: ``[478, 2]`` landmark positions in this frame.
        strength: 0..1 blend of the painted interior (:func:`opening_strength`).
        source_teeth: the portrait's own teeth (:func:`prepare_source_teeth`): shown
            under the upper lip, carried by it, instead of painted teeth.
    """
    palette = palette or default_palette()
    if strength <= 0.02:
        return
    upper, lower = uncross_lips(target_lm[list(LIPS_INNER_UPPER)], target_lm[list(LIPS_INNER_LOWER)])
    inner = np.concatenate([upper, lower[1:-1]])
    area = polygon_area(inner)
    if area < 4.0:
        return
    h, w = frame.shape[:2]
    x0, y0 = np.floor(inner.min(0)).astype(int) - 3
    x1, y1 = np.ceil(inner.max(0)).astype(int) + 4
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return
    origin = np.array([x0, y0], np.float64)
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    mask = np.zeros(roi.shape[:2], np.float32)
    cv2.fillPoly(mask, [_poly(inner, origin)], 1.0, cv2.LINE_AA, _SHIFT)

    # Mouth axis (corner to corner) and its downward normal, for shading by position.
    axis, down, mouth_w = _mouth_axes(upper)
    gap = float(np.median((lower[::-1] - upper) @ down))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    centre = 0.5 * (upper[0] + upper[-1])
    u = ((xx - centre[0]) * axis[0] + (yy - centre[1]) * axis[1]) / (0.5 * mouth_w)  # -1..1 corner to corner
    side = np.clip(np.abs(u), 0.0, 1.0)

    tongue_at = lower[len(lower) // 2] - origin - 0.1 * gap * down  # just inside the lower lip's middle
    interior = _cavity(mask, gap, side, tongue_at, mouth_w, down, palette)
    band = min(0.45 * gap, 0.11 * mouth_w)
    if source_teeth is not None:
        interior = _own_teeth(interior, source_teeth, upper - origin)
    elif band > 0.8:
        teeth = np.zeros_like(mask)
        step = band * down
        cv2.fillPoly(teeth, [_poly(np.concatenate([upper, upper[::-1] + step]), origin)], 1.0, cv2.LINE_AA, _SHIFT)
        lower_teeth = np.zeros_like(mask)
        cv2.fillPoly(lower_teeth, [_poly(np.concatenate([lower, lower[::-1] - 0.5 * step]), origin)], 1.0,
                     cv2.LINE_AA, _SHIFT)
        soft = _odd(0.35 * band)
        # Teeth recede into shadow towards the corners and under the lips.
        fade = np.clip((0.92 - side) / 0.35, 0.0, 1.0)
        teeth = cv2.GaussianBlur(teeth, (soft, soft), 0) * mask * fade
        lower_teeth = cv2.GaussianBlur(lower_teeth, (soft, soft), 0) * mask * fade * LOWER_TEETH_SHOW
        shade = (0.72 + 0.28 * (1.0 - side ** 2))[..., None]
        gaps = _tooth_gaps(u, mouth_w)[..., None]
        enamel = palette.teeth * shade * gaps
        interior = interior * (1 - lower_teeth[..., None]) + 0.8 * enamel * lower_teeth[..., None]
        interior = interior * (1 - teeth[..., None]) + enamel * teeth[..., None]
    alpha = cv2.GaussianBlur(mask, (3, 3), 0)[..., None] * strength
    frame[y0:y1, x0:x1] = np.clip(roi * (1 - alpha) + interior * alpha + 0.5, 0, 255).astype(np.uint8)


LOWER_TEETH_SHOW = 0.2
"""Opacity of the lower teeth (mostly hidden by the lower lip and in shadow)."""
CAVITY_EDGE_RGB = np.array([96, 38, 40], np.float32)
"""Colour just inside the lips (lit, reddish); the cavity darkens to ``CAVITY_RGB`` inside."""
TONGUE_RGB = np.array([150, 66, 70], np.float32)
TONGUE_SHOW = 0.8
"""Opacity of the tongue at its middle."""


def _own_teeth(interior: np.ndarray, teeth: SourceTeeth, upper: np.ndarray) -> np.ndarray:
    """``interior`` ``[h, w, 3]`` with the portrait's own teeth laid under the target upper
    lip ``upper`` ``[11, 2]`` (ROI pixels): the source opening follows the upper lip by a
    similarity transform (the upper teeth move with the skull, not with the jaw)."""
    # The middle of the upper lip rides on the skull; its ends drop with an opening jaw.
    mid = slice(2, len(upper) - 2)
    m, _ = cv2.estimateAffinePartial2D(teeth.upper[mid].astype(np.float32), upper[mid].astype(np.float32))
    if m is None:
        return interior
    h, w = interior.shape[:2]
    patch = cv2.warpAffine(teeth.patch, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpAffine(teeth.alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
    return interior * (1 - alpha) + patch * alpha


def _odd(size: float) -> int:
    return max(3, int(round(size)) // 2 * 2 + 1)


def _cavity(mask: np.ndarray, gap: float, side: np.ndarray, tongue_at: np.ndarray, mouth_w: float,
            down: np.ndarray, palette: MouthPalette) -> np.ndarray:
    """``[h, w, 3]`` float cavity colours: reddish just inside the lips, darkening with
    depth (distance from the lips) and towards the corners, and on a wide opening the
    tongue: a rounded, dim blob resting inside the lower lip (``tongue_at``, ROI pixels)."""
    inside = (mask > 0.5).astype(np.uint8)
    depth = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
    t = np.clip(depth / max(0.4 * gap, 1.0), 0.0, 1.0)[..., None]
    t = t * t * (3 - 2 * t)  # smoothstep
    colour = palette.cavity_edge * (1 - t) + palette.cavity * t
    colour *= (1.0 - 0.35 * side ** 2)[..., None]
    if gap > 0.12 * mouth_w and gap > 4.0:
        yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]].astype(np.float32)
        rel = np.stack([xx - tongue_at[0], yy - tongue_at[1]], -1)
        along = rel @ np.array([down[1], -down[0]], np.float32)  # across the mouth
        up = -(rel @ down.astype(np.float32))  # towards the upper lip
        half_w, height = 0.32 * mouth_w, 0.42 * gap
        r2 = (along / half_w) ** 2 + (np.maximum(up, 0.0) / height) ** 2
        body = np.clip((1.0 - r2) / 0.25, 0.0, 1.0)
        back = np.clip(up / height, 0.0, 1.0)  # its back lies deeper in shadow
        tongue = (body * TONGUE_SHOW)[..., None]
        colour = colour * (1 - tongue) + (palette.tongue * (1.0 - 0.55 * back)[..., None]) * tongue
    return colour


def _tooth_gaps(u: np.ndarray, mouth_w: float) -> np.ndarray:
    """Slightly darker lines between the front teeth (about 8 teeth across the mouth)."""
    if mouth_w < 40:  # too small to show
        return np.ones_like(u)
    phase = np.abs(np.cos(np.pi * u * 4.0))
    return 1.0 - 0.12 * np.clip((phase - 0.93) / 0.07, 0.0, 1.0)


TOOTH_MARGIN = 0.3
"""A pixel inside closed lips counts as tooth when its brightness lies this share of the way
from the lips' median brightness to white."""


def hide_teeth(canvas: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``canvas`` ``[H, W, 3]`` uint8 with tooth-bright pixels inside the outer lip contour
    of ``landmarks`` ``[478, 2]`` inpainted from the lips around them (used once, after a
    photo's parted lips have been closed: slivers of teeth squeezed between the lips
    would otherwise show as white streaks). Returns a new image."""
    h, w = canvas.shape[:2]
    lips = np.zeros((h, w), np.uint8)
    cv2.fillPoly(lips, [np.round(landmarks[list(LIPS_OUTER)]).astype(np.int32)], 1)
    if lips.sum() < 16:
        return canvas.copy()
    luma = canvas.astype(np.float32) @ LUMA
    level = float(np.median(luma[lips > 0]))
    teeth = ((lips > 0) & (luma > level + TOOTH_MARGIN * (255.0 - level))).astype(np.uint8)
    if not teeth.any():
        return canvas.copy()
    teeth = cv2.dilate(teeth, np.ones((3, 3), np.uint8)) & cv2.dilate(lips, np.ones((3, 3), np.uint8))
    return cv2.inpaint(canvas, teeth, 3, cv2.INPAINT_TELEA)

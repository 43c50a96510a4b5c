"""Cheap per-frame touches the warp cannot make: the inside of an opening mouth.

When the lips part further than in the source photo, the warp can only stretch lip
pixels into the gap. We paint a dark cavity with a hint of upper and lower teeth
inside the target inner-lip contour, blended in proportion to how much of the opening
is new (so a source that already shows its teeth keeps them).
"""

from __future__ import annotations

import cv2
import numpy as np

from openinfp.head.landmarks import LIPS_INNER_LOWER, LIPS_INNER_UPPER, polygon_area

CAVITY_RGB = np.array([40, 14, 18], np.float32)
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


def uncross_lips(upper: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner-lip contours ``[K, 2]`` (upper corner to corner, lower the other way round)
    with no point of the lower lip above its upper partner: such pairs (near the corners,
    when a turn or nod projects the lips across each other) meet at their midpoint, so the
    mouth polygon does not cross itself and paint a spike outside the mouth."""
    across = upper[-1] - upper[0]
    down = np.array([-across[1], across[0]]) / max(float(np.linalg.norm(across)), 1e-9)
    if down[1] < 0:  # image y points down: "down" is towards the chin
        down = -down
    partner = lower[::-1]
    gap = (partner - upper) @ down
    crossed = gap < 0
    if not crossed.any():
        return upper, lower
    mid = 0.5 * (upper + partner)
    upper = np.where(crossed[:, None], mid, upper)
    partner = np.where(crossed[:, None], mid, partner)
    return upper, partner[::-1]


def paint_mouth_interior(frame: np.ndarray, target_lm: np.ndarray, strength: float) -> None:
    """Paint the mouth interior into ``frame`` (in place).

    Args:
        frame: ``[H, W, 3]`` uint8 RGB, the warped frame.
        target_lm: ``[478, 2]`` landmark positions in this frame.
        strength: 0..1 blend of the painted interior (:func:`opening_strength`).
    """
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

    mouth_w = float(np.linalg.norm(upper[0] - upper[-1]))
    gap = float(np.median(lower[::-1, 1] - upper[:, 1])) if len(lower) == len(upper) else area / max(mouth_w, 1)
    # Cavity darker towards the middle (depth), then upper and lower teeth bands.
    interior = np.empty_like(roi)
    interior[:] = CAVITY_RGB
    teeth = np.zeros_like(mask)
    band = min(0.45 * gap, 0.11 * mouth_w)
    if band > 0.8:
        down = np.array([0.0, band])
        cv2.fillPoly(teeth, [_poly(np.concatenate([upper, upper[::-1] + down]), origin)], 1.0, cv2.LINE_AA, _SHIFT)
        cv2.fillPoly(teeth, [_poly(np.concatenate([lower, lower[::-1] - 0.6 * down]), origin)], 0.55, cv2.LINE_AA,
                     _SHIFT)
    teeth = cv2.GaussianBlur(teeth, (3, 3), 0) * mask
    interior = interior * (1 - teeth[..., None]) + TEETH_RGB * teeth[..., None]
    alpha = cv2.GaussianBlur(mask, (3, 3), 0)[..., None] * strength
    frame[y0:y1, x0:x1] = np.clip(roi * (1 - alpha) + interior * alpha + 0.5, 0, 255).astype(np.uint8)

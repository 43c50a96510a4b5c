"""The photo's own expression, undone: generated mouth shapes are rendered absolutely.

A portrait that screams, laughs or pouts would keep doing so if the motion's ARKit
weights were only added to it. The renderer therefore removes the photo's own mouth
expression (:func:`undone_weights`: the tracked weights of the mouth-shaping
blendshapes, small ones left alone because the tracker reads 0.1-0.5 of them on plainly
neutral faces) and, where the photo's lips are parted, sets the inner-lip opening to
the one the motion's weights give on the neutral template face (:func:`set_lip_gap`),
so that listening closes the lips over the teeth the photo shows; the chin follows a
lower lip lifted far more than it (:func:`follow_jaw`). Closed-mouth photos render as before.
"""

from __future__ import annotations

import numpy as np

from openinfp.core.arkit import arkit_index
from openinfp.head.landmarks import CHIN, LIP_OUTER_CENTER_LOWER, LIPS_INNER_LOWER, LIPS_INNER_UPPER

UNDONE = tuple(arkit_index(n) for n in (
    "jawOpen", "mouthFunnel", "mouthPucker", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft",
    "mouthStretchRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
))
"""Blendshapes of the photo's own expression that the renderer takes away (the mouth's
opening, pout and smile); the rest (brows, gaze, jaw sideways) stays the photo's own."""
KEEP_BELOW, UNDO_ABOVE = 0.2, 0.5
"""A photo's weight below KEEP_BELOW is taken as part of a neutral face (kept); above
UNDO_ABOVE it is undone in full; smooth in between."""
OPEN_GAP = 0.06
"""Inner-lip gap (inter-ocular units, canonical frame) from which a photo's lips count as parted."""
UPPER_SHARE = 0.1
"""When parted lips close, the upper lip moves this share of the way (the lower lip the rest)."""
_UPPER = np.array(LIPS_INNER_UPPER[1:-1])
_LOWER = np.array(LIPS_INNER_LOWER[::-1][1:-1])  # the lower partner of each upper point


def undone_weights(weights: np.ndarray) -> np.ndarray:
    """The part ``[52]`` of a photo's tracked weights ``[52]`` that the renderer removes."""
    w = np.asarray(weights, np.float64)
    t = np.clip((w - KEEP_BELOW) / (UNDO_ABOVE - KEEP_BELOW), 0.0, 1.0)
    out = np.zeros_like(w)
    idx = list(UNDONE)
    out[idx] = w[idx] * (t[idx] * t[idx] * (3 - 2 * t[idx]))
    return out


def _across_mouth(x: np.ndarray, corners_x: np.ndarray, ends: float) -> np.ndarray:
    """Weight ``[N]`` of points at ``x`` ``[N]`` across the mouth whose lip points lie at
    ``corners_x``: 1 within ``ends - 1`` mouth half-widths of its middle, fading to 0 at
    ``ends`` half-widths (past the corners)."""
    half = 0.5 * (corners_x.max() - corners_x.min()) + 1e-6
    return np.clip(ends - np.abs(x - 0.5 * (corners_x.max() + corners_x.min())) / half, 0.0, 1.0)


def lip_gaps(shape: np.ndarray) -> np.ndarray:
    """``[9]`` inner-lip gaps (canonical y up, so upper minus lower) of a ``[478, 3]`` shape."""
    return shape[_UPPER, 1] - shape[_LOWER, 1]


def middle_gap(shape: np.ndarray) -> float:
    """Inner-lip gap (IOD) of a canonical ``[478, 3]`` face: median of the middle three pairs."""
    return float(np.median(lip_gaps(shape)[3:6]))


def lips_parted(shape: np.ndarray) -> bool:
    """Whether a canonical ``[478, 3]`` face shows parted lips (:func:`middle_gap`)."""
    return middle_gap(shape) > OPEN_GAP


def set_lip_gap(shape: np.ndarray, template_shape: np.ndarray, template_neutral: np.ndarray) -> np.ndarray:
    """``shape`` ``[478, 3]`` with its inner-lip gaps set to how far the motion opens the
    template's lips beyond its neutral (``template_shape`` minus ``template_neutral``: the
    template's neutral lips are slightly parted, a closed photo mouth is not): each pair
    of inner-lip points meets at a point :data:`UPPER_SHARE` of the way down, then opens by
    that much. The lips and the skin around them follow their inner edge with a smooth
    falloff (:data:`FALLOFF`), so no part of a lip is pushed past its neighbours."""
    out = shape.copy()
    want = np.maximum(lip_gaps(template_shape) - lip_gaps(template_neutral), 0.0)
    up, low = shape[_UPPER, 1], shape[_LOWER, 1]
    meet = up - UPPER_SHARE * (up - low)
    d_up = meet + UPPER_SHARE * want - up          # [9] vertical move of each upper inner point
    d_low = meet - (1.0 - UPPER_SHARE) * want - low
    xs_up, xs_low = shape[_UPPER, 0], shape[_LOWER, 0]
    o_up, o_low = np.argsort(xs_up), np.argsort(xs_low)
    x, y = shape[:, 0], shape[:, 1]
    line_up = np.interp(x, xs_up[o_up], up[o_up])
    line_low = np.interp(x, xs_low[o_low], low[o_low])
    move_up = np.interp(x, xs_up[o_up], d_up[o_up])
    move_low = np.interp(x, xs_low[o_low], d_low[o_low])
    across = _across_mouth(x, xs_up, 1.5)
    mid = 0.5 * (line_up + line_low)
    above = y >= mid
    dist = np.where(above, np.maximum(y - line_up, 0.0), np.maximum(line_low - y, 0.0))
    fall = np.exp(-0.5 * (dist / FALLOFF) ** 2) * across
    out[:, 1] += np.where(above, move_up, move_low) * fall
    out[_UPPER, 1] = up + d_up
    out[_LOWER, 1] = low + d_low
    return out


FALLOFF = 0.35
"""Width (inter-ocular units) over which the lips' move fades out away from the mouth."""


JAW_FOLLOW = 0.7
"""Share of the lower lip's extra rise (over the chin's) that the chin takes along when a
photo's open mouth is undone (see :func:`follow_jaw`)."""
JAW_FADE = 0.3
"""Distance (inter-ocular units) below the chin over which that rise fades out."""


def follow_jaw(photo_shape: np.ndarray, shape: np.ndarray) -> np.ndarray:
    """``shape`` ``[478, 3]`` (the photo's canonical face ``photo_shape`` ``[478, 3]`` with
    its open mouth undone) with the chin raised towards the lower lip's rise.

    Undoing a yell lifts the lower lip far more than the chin (the mouth's own pull on the
    lower lip goes with it), so the skin between them, squeezed short in the photo, was
    stretched to nearly twice its height: a smooth band of lip-coloured skin and a long
    chin. The chin here takes :data:`JAW_FOLLOW` of that difference along, the points
    between lower lip and chin in proportion to their height between them, fading out
    below the chin and past the mouth's corners."""
    out = shape.copy()
    lift = (shape[:, 1] - photo_shape[:, 1])
    extra = JAW_FOLLOW * max(float(lift[LIP_OUTER_CENTER_LOWER] - lift[CHIN]), 0.0)
    if extra <= 0.0:
        return out
    y, x = shape[:, 1], shape[:, 0]
    lip_y, chin_y = float(shape[LIP_OUTER_CENTER_LOWER, 1]), float(shape[CHIN, 1])
    span = max(lip_y - chin_y, 1e-6)
    ramp = np.clip((lip_y - y) / span, 0.0, None)  # 0 at the lower lip, 1 at the chin
    below = np.maximum(chin_y - y, 0.0)
    weight = np.minimum(ramp, 1.0) * np.exp(-0.5 * (below / JAW_FADE) ** 2)
    out[:, 1] += extra * weight * _across_mouth(x, shape[list(LIPS_INNER_UPPER), 0], 2.0)
    return out

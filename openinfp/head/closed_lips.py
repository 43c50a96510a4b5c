"""Relaxed closed lips drawn over a wide-open photo mouth (used once, at setup).

Squeezing a photo's parted lips shut (:func:`openinfp.head.warp.forward_triangle_warp`)
closes the opening between MediaPipe's inner-lip landmarks. On a wide-open mouth (a
scream, a yell, a shocked "O") those landmarks do not lie on the lips' inner edge: they
sit on the teeth or on the tongue, and the lips themselves are stretched thin. Squeezed,
such a mouth shows a crumpled band of tongue, gum and stretched lip (the listening frame of
a shocked "O" re-tracked a lip gap of 0.32 pupil distances; closed lips read under 0.05).

:func:`redraw_closed_lips` therefore replaces the whole squeezed mouth: the area inside
the closed target's outer lip contour (and the lips about to be drawn), grown a little,
is inpainted from the skin around it, and a relaxed pair of lips is painted on the meeting
line: the neutral template's lip thickness, the photo's own lip colour, a darker upper
lip, a soft seam where the lips meet. Blended in with :func:`redraw_strength` (by how wide
the photo's mouth is open), so talking or smiling photos keep their own squeezed lips.
"""

from __future__ import annotations

import cv2
import numpy as np

from openinfp.head.landmarks import LIPS_INNER, LIPS_INNER_UPPER, LIPS_OUTER

UPPER_LIP, LOWER_LIP = 0.124, 0.204
"""Lip thickness at the middle of a relaxed closed mouth, pupil distances (the shipped
neutral template's: outer to inner lip contour, landmarks 0-13 and 14-17)."""
REDRAW_FROM, REDRAW_FULL = 0.3, 0.45
"""Photo's inner-lip gap (pupil distances, face frame) from which the closed lips are
redrawn, and at which fully. The real set: talking, smiling and laughing mouths 0.1-0.26
(squeezing closes them cleanly), screams, yells and an "O" 0.56-0.73."""
MARGIN = 0.05
"""The erased area reaches this far (pupil distances) past the lip contours."""


def redraw_strength(gap_iod: float) -> float:
    """0..1: how much of the redrawn closed lips to show for a photo lip gap (IOD)."""
    t = float(np.clip((gap_iod - REDRAW_FROM) / (REDRAW_FULL - REDRAW_FROM), 0.0, 1.0))
    return t * t * (3 - 2 * t)


def lip_colour(canvas: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """``[3]`` float32: median colour of the upper lip (between its outer and inner contour:
    in an open mouth the lower band may hold tongue or teeth) of ``landmarks`` ``[478, 2]``."""
    h, w = canvas.shape[:2]
    outer = np.zeros((h, w), np.uint8)
    cv2.fillPoly(outer, [np.round(landmarks[list(LIPS_OUTER)]).astype(np.int32)], 1)
    inner = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inner, [np.round(landmarks[list(LIPS_INNER)]).astype(np.int32)], 1)
    band = (outer > 0) & (inner == 0)
    top = landmarks[list(LIPS_INNER_UPPER)]
    ys = np.arange(h)[:, None]
    xs = np.arange(w)[None, :]
    order = np.argsort(top[:, 0])
    line = np.interp(xs, top[order, 0], top[order, 1])
    upper = band & (ys <= line)
    pick = upper if upper.sum() >= 8 else band
    if pick.sum() < 4:
        return canvas.reshape(-1, 3).mean(0).astype(np.float32)
    return np.median(canvas[pick].astype(np.float32), axis=0)


def _axes(meet: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    across = meet[-1] - meet[0]
    width = max(float(np.linalg.norm(across)), 1e-6)
    axis = across / width
    down = np.array([-axis[1], axis[0]])
    return axis, (down if down[1] >= 0 else -down), width


SEARCH_BELOW = 0.6
"""Tongue, gum or stretched lip left by the squeeze is looked for down to this far below
the meeting line (pupil distances), and as far sideways as the mouth is wide."""
SKIN_SPREAD = 2.5
"""A pixel counts as mouth-coloured when its colour lies this many times the skin's own
spread (median distance from the skin's median, at least :data:`MIN_DISTANCE`) from the skin's."""
MIN_DISTANCE = 8.0
LAB_WEIGHTS = np.array([0.5, 1.0, 1.0], np.float32)
"""Lightness counts half in that distance (shading changes it on skin too)."""


def _mouth_coloured(image: np.ndarray, erase: np.ndarray, meet: np.ndarray, px_per_iod: float) -> np.ndarray:
    """``[H, W]`` uint8: pixels around the mouth whose colour (Lab) is not the skin's and
    that are redder or lighter than it (not a beard's or a shadow's darker grey),
    connected to the ``erase`` area: what a squeezed scream leaves of tongue and lips below
    and beside the closed contour. The skin is sampled in a ring around ``erase`` above the
    meeting line ``meet`` ``[K, 2]`` (below it the ring may lie on the tongue)."""
    h, w = erase.shape
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32) * LAB_WEIGHTS
    axis, down, width = _axes(meet)
    centre = 0.5 * (meet[0] + meet[-1])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    along = (xx - centre[0]) * axis[0] + (yy - centre[1]) * axis[1]
    below = (xx - centre[0]) * down[0] + (yy - centre[1]) * down[1]
    r = max(2, int(round(0.12 * px_per_iod)))
    ring = cv2.dilate(erase, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))) & ~erase.astype(bool)
    ring = ring.astype(bool) & (below < 0)
    if ring.sum() < 10:
        return np.zeros_like(erase)
    skin = np.median(lab[ring], axis=0)
    dist = np.linalg.norm(lab - skin, axis=2)
    spread = max(MIN_DISTANCE, SKIN_SPREAD * float(np.median(dist[ring])))
    window = (np.abs(along) < 0.6 * width) & (below > -0.1 * px_per_iod) & (below < SEARCH_BELOW * px_per_iod)
    # Tongue, gum and lips are redder than the skin, teeth lighter; a beard or a shadow is
    # darker and no redder: it stays.
    redder = lab[..., 1] - skin[1] > 0.5 * spread
    not_darker = lab[..., 0] >= skin[0]
    odd = ((dist > spread) & (redder | not_darker) & window).astype(np.uint8) | erase
    n, labels = cv2.connectedComponents(odd, connectivity=8)
    touching = np.unique(labels[erase > 0])
    keep = np.isin(labels, touching[touching > 0]).astype(np.uint8)
    grow = max(1, int(round(MARGIN * px_per_iod)))
    return cv2.dilate(keep, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8)) & window.astype(np.uint8)


RIM = 0.04
"""Width (pupil distances) of the ring around the erased mouth where the skin colour is sampled."""
LIP_DEEPEN, LIP_SATURATE, LIP_OWN = 0.8, 1.25, 0.5
"""Lips are darker than the skin and more saturated along its own hue; the painted lips'
colour mixes :data:`LIP_OWN` of the photo's sampled lip colour (all of it when that is as
saturated as the deepened skin: lipstick) with the skin's colour so deepened (a grey-brown sampled lip on
orange skin read as grey, muddy lips)."""


def lip_like(lip: np.ndarray, skin: np.ndarray) -> np.ndarray:
    """``[3]`` float32 RGB: the photo's sampled ``lip`` colour mixed with its ``skin`` colour
    darkened and saturated along the skin's own hue (:data:`LIP_DEEPEN`,
    :data:`LIP_SATURATE`): a grey photo stays grey (no chroma to saturate), a sepia one
    keeps its tint."""
    skin, lip = np.asarray(skin, np.float32), np.asarray(lip, np.float32)
    grey = float(skin.mean())
    deep = (grey + (skin - grey) * LIP_SATURATE) * LIP_DEEPEN
    # Lips as saturated as that already (red lipstick) are kept as they are.
    chroma_lip, chroma_deep = float(np.ptp(lip)), float(np.ptp(deep))
    own = 1.0 if chroma_lip >= chroma_deep else LIP_OWN
    return np.clip(own * lip + (1.0 - own) * deep, 0.0, 255.0)


RIM_REDDER = 2.0
"""Lab a* above the skin's from which a pixel next to the erased mouth is erased too."""


def _rim(image: np.ndarray, erase: np.ndarray, rim: int) -> np.ndarray:
    """``[H, W]`` uint8: pixels within ``rim`` px outside ``erase`` that are redder (Lab a*,
    by :data:`RIM_REDDER`) than the skin farther out: the squeezed lower lip's edge, which
    stayed as a line around the fill. A beard or a shadow is no redder: it stays."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rim + 1, 2 * rim + 1))
    band = cv2.dilate(erase, disc) & ~erase
    outer = cv2.dilate(erase, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (6 * rim + 1, 6 * rim + 1))) & ~erase
    outer &= ~band
    if outer.sum() < 10:
        return np.zeros_like(erase)
    a = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 1].astype(np.float32)
    return (band.astype(bool) & (a > np.median(a[outer > 0]) + RIM_REDDER)).astype(np.uint8)


FILL_BLUR = 0.08
"""Scale (pupil distances) of the smooth fill of the erased mouth from the skin around it."""


def _smooth_fill(image: np.ndarray, hole: np.ndarray, px_per_iod: float) -> np.ndarray:
    """``image`` ``[H, W, 3]`` uint8 with ``hole`` ``[H, W]`` (uint8) filled smoothly from the
    pixels around it: ``[H, W, 3]`` float32. Normalised blurs of the known pixels, coarse to
    fine (a fine one wherever it has enough support), plus the Telea inpaint's fine
    grain. Telea alone drew the shapes of the squeezed mouth's rim into the fill as
    streaks and a darker U below the lips (the shocked "O" of the real set)."""
    known = (hole == 0).astype(np.float32)
    img = image.astype(np.float32)
    fill = np.zeros_like(img)
    have = np.zeros(hole.shape, np.float32)
    for k in (4.0, 2.0, 1.0):  # coarse to fine: the finest scale with support wins
        sigma = max(1.0, k * FILL_BLUR * px_per_iod)
        num = cv2.GaussianBlur(img * known[..., None], (0, 0), sigma)
        den = cv2.GaussianBlur(known, (0, 0), sigma)
        est = num / np.maximum(den, 1e-4)[..., None]
        w = np.clip(den / 0.2, 0.0, 1.0)
        fill = fill * (1 - w[..., None]) + est * w[..., None]
        have = np.maximum(have, w)
    telea = cv2.inpaint(image, hole, 3, cv2.INPAINT_TELEA).astype(np.float32)
    grain = telea - cv2.GaussianBlur(telea, (0, 0), max(1.0, 0.03 * px_per_iod))
    out = img.copy()
    inside = hole > 0
    out[inside] = (fill + 0.5 * grain)[inside]
    return out


def closed_lip_outlines(meet: np.ndarray, px_per_iod: float) -> tuple[np.ndarray, np.ndarray]:
    """Outer outlines ``[K, 2]`` of relaxed closed lips along the meeting line ``meet``
    ``[K, 2]`` (corner to corner, canvas px): the upper and lower lip's outer edges, the
    template thickness (:data:`UPPER_LIP`, :data:`LOWER_LIP`) at the middle, tapering to
    the corners."""
    axis, down, width = _axes(meet)
    centre = 0.5 * (meet[0] + meet[-1])
    u = np.clip(((meet - centre) @ axis) / (0.5 * width), -1.0, 1.0)
    profile = np.clip(1.0 - u * u, 0.0, 1.0) ** 0.6
    upper = meet - down * (UPPER_LIP * px_per_iod * profile)[:, None]
    lower = meet + down * (LOWER_LIP * px_per_iod * profile)[:, None]
    return upper, lower


def redraw_closed_lips(closed: np.ndarray, target: np.ndarray, colour: np.ndarray, px_per_iod: float,
                       strength: float) -> np.ndarray:
    """``closed`` ``[H, W, 3]`` uint8 (the squeezed face) with relaxed lips drawn over its
    mouth (module docstring). ``target``: ``[478, 2]`` its landmarks (inner lips meeting);
    ``colour``: ``[3]`` the photo's lip colour (:func:`lip_colour`); ``px_per_iod``: canvas px
    per pupil distance; ``strength``: 0..1 blend. Returns a new image."""
    if strength <= 0.0:
        return closed.copy()
    h, w = closed.shape[:2]
    meet = target[list(LIPS_INNER_UPPER)].astype(np.float64)
    upper, lower = closed_lip_outlines(meet, px_per_iod)
    lips_poly = np.concatenate([upper, lower[::-1]])
    erase = np.zeros((h, w), np.uint8)
    cv2.fillPoly(erase, [np.round(target[list(LIPS_OUTER)]).astype(np.int32)], 1)
    cv2.fillPoly(erase, [np.round(lips_poly).astype(np.int32)], 1)
    grow = max(1, int(round(MARGIN * px_per_iod)))
    erase = cv2.dilate(erase, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    erase |= _mouth_coloured(closed, erase, meet, px_per_iod)
    rim = max(1, int(round(RIM * px_per_iod)))
    erase |= _rim(closed, erase, rim)
    skin = _smooth_fill(closed, erase, px_per_iod)
    ring = cv2.dilate(erase, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (4 * rim + 1, 4 * rim + 1))) & ~erase
    if ring.sum() >= 10:
        colour = lip_like(colour, np.median(closed[ring > 0].astype(np.float32), axis=0))

    # Lips: the photo's colour, the upper lip in shadow, the lower lip lit a little more in its middle.
    axis, down, width = _axes(meet)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rel_down = (xx - meet[:, 0].mean()) * down[0] + (yy - meet[:, 1].mean()) * down[1]
    upper_mask = np.zeros((h, w), np.float32)
    cv2.fillPoly(upper_mask, [np.round(np.concatenate([upper, meet[::-1]]) * 8).astype(np.int32)], 1.0,
                 cv2.LINE_AA, 3)
    lower_mask = np.zeros((h, w), np.float32)
    cv2.fillPoly(lower_mask, [np.round(np.concatenate([meet, lower[::-1]]) * 8).astype(np.int32)], 1.0,
                 cv2.LINE_AA, 3)
    soft = max(0.6, 0.02 * px_per_iod)
    upper_mask = cv2.GaussianBlur(upper_mask, (0, 0), soft)
    lower_mask = cv2.GaussianBlur(lower_mask, (0, 0), soft)
    lower_t = np.clip(rel_down / max(LOWER_LIP * px_per_iod, 1.0), 0.0, 1.0)
    lower_shade = 0.92 + 0.14 * np.sin(np.pi * lower_t) - 0.1 * lower_t  # lit in the middle, darker at its edge
    col = np.asarray(colour, np.float32)
    # Keep the skin's fine texture (its deviation from a blurred copy) on the lips.
    detail = skin - cv2.GaussianBlur(skin, (0, 0), max(1.0, 0.03 * px_per_iod))
    lips = (upper_mask[..., None] * (0.82 * col) + lower_mask[..., None] * (lower_shade[..., None] * col)
            + (upper_mask + lower_mask)[..., None] * detail)
    cover = np.clip(upper_mask + lower_mask, 0.0, 1.0)[..., None]
    out = skin * (1 - cover) + lips
    # The seam where the lips meet: a soft dark line, faint at the corners.
    seam = np.zeros((h, w), np.float32)
    thick = max(1, int(round(0.025 * px_per_iod)))
    cv2.polylines(seam, [np.round(meet * 8).astype(np.int32)], False, 1.0, thick, cv2.LINE_AA, 3)
    seam = cv2.GaussianBlur(seam, (0, 0), max(0.5, 0.5 * thick))
    seam /= max(float(seam.max()), 1e-6)
    u = np.clip(np.abs((xx - meet[:, 0].mean()) * axis[0] + (yy - meet[:, 1].mean()) * axis[1]) / (0.5 * width),
                0.0, 1.0)
    seam *= 0.55 * (1.0 - 0.4 * u)
    out = out * (1 - seam[..., None]) + (0.45 * col) * seam[..., None]
    region = cv2.GaussianBlur(erase.astype(np.float32), (0, 0), soft)[..., None]
    result = closed.astype(np.float32) * (1 - strength * region) + out * (strength * region)
    return np.clip(result + 0.5, 0, 255).astype(np.uint8)

"""How badly one frame of the portrait warp smears the person near the face.

The hole measure of the tests (background showing inside the face outline) misses what a
person sees first on a turned photo turned back (19, 28, 17, 23, 20, 30 of the real
set): a far cheek, ear, jaw or mouth drawn from a few source pixels. That shows in the
frame's backward map without looking at colours: a visible person pixel (warped person
mask > 0.5) is *smeared* where the warp magnifies it, in its most stretched direction,
more than :data:`SMEAR_STRETCH` times (the largest singular value of the forward warp's
Jacobian, i.e. ``1 / sigma_min`` of the backward map's). Counted near the face (its
target outline grown by :data:`NEAR` face heights: ears, hair beside it, jaw and neck
down to the collar) on the warp's coarse grid, per mille of the face's own area, so
photos of any framing compare.

Checked by eye on the real set at 512 px: frames scoring up to 35 (02, 05, 26 turned
20-24 degrees) show nothing wrong; from about 50 a smear is plain (13's beard, 19's far
cheek and jaw, 25's and 29's necks, 20's mouth, 17's ear at 50-200).

A warp can also *tear* without smearing: where the photo's jaw lay over the collar (19 of
the real set, turned 25 degrees, turned back towards the camera), the jaw moves away and
the pixels it covered sample the background beside it, so the still background plate
shows as a wedge between the jaw and the collar. :func:`tear` counts such pixels: person
in the photo, background now (the backward map lands outside the person), with the
frame's face right above them and the person right below (within :data:`TEAR_DEPTH`
face heights each way): a pocket of background under the jaw, which a real head turning
would fill with its neck. Background uncovered *beside* a turning head (the cheek or
hair moving away from the background behind them) is not under the face and does not
count.
"""

from __future__ import annotations

import cv2
import numpy as np

from openinfp.head.landmarks import polygon_area

SMEAR_STRETCH = 3.0
"""Magnification (in the most stretched direction) above which a pixel counts as smeared."""
SMEAR_MAX = 40.0
"""Largest smear (per mille of the face) the renderer draws a turn with (see pose_limit.py)."""
NEAR = 0.3
"""The region scored: the target face outline grown by this many face heights."""
TEAR_DEPTH = 0.05
"""How close (face heights, straight up and straight down) the face above and the person
below a torn pixel must be (:func:`tear`)."""
TEAR_RUN = 0.06
"""... and how long (face heights) a row of torn pixels must run across (:func:`tear`)."""
TEAR_MAX = 1.0
"""Largest tear (per mille of the face) the renderer draws a turn with (see pose_limit.py)."""


def carried(mask: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """The person ``mask`` ``[H, W]`` float32 carried by a frame's warp: sampled by its
    backward map ``xy`` ``[H, W, 2]`` (where the person lands in the frame)."""
    return cv2.remap(mask, xy, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def stretch_on_grid(xy: np.ndarray, step: int) -> np.ndarray:
    """Largest local magnification ``[h, w]`` of a backward map ``xy`` ``[H, W, 2]`` at every
    ``step``-th pixel (the warp's grid nodes, where the map is exact): ``1 / sigma_min`` of
    its Jacobian (a region sampled from few source pixels scores high)."""
    off = (step - 1) // 2
    g = xy[off::step, off::step].astype(np.float64)
    dx = np.gradient(g, axis=1) / step
    dy = np.gradient(g, axis=0) / step
    smin2, _, _ = _squared_singular_values(dx[..., 0], dx[..., 1], dy[..., 0], dy[..., 1])
    return 1.0 / np.sqrt(np.maximum(smin2, 1e-6))


def _squared_singular_values(a: np.ndarray, c: np.ndarray, b: np.ndarray, d: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per element of the Jacobians ``[[a, b], [c, d]]``: ``(sigma_min^2, sigma_max^2, det)``."""
    total = a * a + b * b + c * c + d * d
    det = a * d - b * c
    root = np.sqrt(np.maximum(total * total - 4.0 * det * det, 0.0))
    return 0.5 * (total - root), 0.5 * (total + root), det


def smear(xy: np.ndarray, alpha: np.ndarray, outline: np.ndarray, step: int = 4) -> float:
    """Smear (module docstring) of one frame, per mille of the face's area.

    Args:
        xy: ``[H, W, 2]`` backward map of the frame (canvas x, y each output pixel samples).
        alpha: ``[H, W]`` the person mask carried by that map (where the person lands).
        outline: ``[K, 2]`` the frame's face outline on the canvas (target landmarks).
        step: grid spacing (px) the measure is taken on.
    """
    if step < 1:
        raise ValueError(f"step must be >= 1, got {step}")
    off = (step - 1) // 2
    stretch = stretch_on_grid(xy, step)
    person = alpha[off::step, off::step] > 0.5
    near, area = near_face(outline, person.shape, step)
    return 1000.0 * float(((stretch > SMEAR_STRETCH) & person & near).sum()) * step * step / max(area, 1.0)


def forward_smear(fwd: np.ndarray, step: int, person: np.ndarray, near: np.ndarray, face_area: float) -> float:
    """A fast stand-in for :func:`smear` from the warp's *forward* field on its grid (no
    inversion: what the renderer's turn-limit search evaluates many times at setup).

    Args:
        fwd: ``[h, w, 2]`` forward displacement (px) of each grid node of the source canvas.
        step: grid spacing (px).
        person: ``[h, w]`` bool, source grid nodes on the person.
        near: ``[h, w]`` bool, source grid nodes near the face (as :data:`NEAR`).
        face_area: the frame's face area (px^2) the result is relative to.
    Returns the output area (per mille of ``face_area``) of the person near the face that
    the warp magnifies more than :data:`SMEAR_STRETCH` times in some direction.
    """
    dx = np.gradient(fwd, axis=1) / step
    dy = np.gradient(fwd, axis=0) / step
    _, smax2, det = _squared_singular_values(1.0 + dx[..., 0], dx[..., 1], dy[..., 0], 1.0 + dy[..., 1])
    hit = (smax2 > SMEAR_STRETCH * SMEAR_STRETCH) & person & near
    return 1000.0 * float(np.abs(det[hit]).sum()) * step * step / max(face_area, 1.0)


def near_face(outline: np.ndarray, shape: tuple[int, int], step: int) -> tuple[np.ndarray, float]:
    """Grid nodes ``[h, w]`` bool (``shape``, every ``step`` px from ``(step - 1) // 2``)
    within :data:`NEAR` face heights (the outline's vertical extent) of a face ``outline``
    ``[K, 2]`` (canvas px), and the outline's area in px^2."""
    off = (step - 1) // 2
    face = np.zeros(shape, np.uint8)
    cv2.fillPoly(face, [np.round((outline - off) / step * 8).astype(np.int32)], 1, cv2.LINE_8, 3)
    grow = max(1, round(NEAR * float(np.ptp(outline[:, 1])) / step))
    near = cv2.dilate(face, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))) > 0
    return near, polygon_area(outline)


def tear(carried: np.ndarray, mask: np.ndarray, outline: np.ndarray) -> float:
    """Tear (module docstring) of one frame, per mille of the face's area.

    Args:
        carried: ``[H, W]`` the person mask carried by the frame's warp (where the person
            lands: the photo's mask sampled by the backward map), on the full frame (on
            the warp's grid alone the small pockets it counts came out up to 2.5x off).
        mask: ``[H, W]`` the photo's own person mask.
        outline: ``[K, 2]`` the frame's face outline (target landmarks, canvas px).
    Returns the area of pixels that were person in the photo, show background now, lie
    within :data:`TEAR_DEPTH` face heights below the face and above the person, and run
    across for at least :data:`TEAR_RUN` face heights (a crack under the jaw; the small
    corner of background where a jaw meets a shoulder, which looks natural, is left out).
    """
    if carried.shape != mask.shape:
        raise ValueError(f"carried {carried.shape} and mask {mask.shape} differ")
    face = np.zeros(mask.shape, np.uint8)
    cv2.fillPoly(face, [np.round(outline * 8).astype(np.int32)], 1, cv2.LINE_8, 3)
    reach = max(1, round(TEAR_DEPTH * float(np.ptp(outline[:, 1]))))
    column = np.ones((reach + 1, 1), np.uint8)
    under_face = cv2.dilate(face, column, anchor=(0, reach)) > 0  # the face within reach above
    over_person = cv2.dilate((carried > 0.5).astype(np.uint8), column, anchor=(0, 0)) > 0  # ... person below
    torn = ((mask > 0.5) & (carried < 0.5) & under_face & over_person).astype(np.uint8)
    # a crack, not the corner where a jaw meets a shoulder: runs at least TEAR_RUN long
    run = max(1, round(TEAR_RUN * float(np.ptp(outline[:, 1]))))
    torn = cv2.morphologyEx(torn, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    return 1000.0 * float(torn.sum()) / max(polygon_area(outline), 1.0)

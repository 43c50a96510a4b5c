"""Person / background separation: the background stays still while the head moves.

MediaPipe's selfie segmentation (``mediapipe==0.10.21``; its weights ship inside the
wheel) gives a soft person mask of the canvas once, at setup. Per frame the warped
person is laid over the *still* canvas:

    a     = person mask carried by the warp (where the person's pixels land now)
    still = the canvas, except where the person has moved away: there the background
            plate (the background inpainted under the person, made once)
    out   = a * warped + (1 - a) * still

With zero motion ``a`` is the original mask and ``still`` the canvas, so the frame is
reproduced exactly; background pixels never move, however the warp bends around the
head. The torso is kept rigid by fixed control points (:func:`torso_points`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from openinfp.head.framing import face_height
from openinfp.head.landmarks import FACE_OVAL

PLATE_SIDE = 160
"""The background plate is inpainted at this resolution (long side) and upscaled: it
only shows in the sliver the moving head uncovers, and inpainting at 512 px takes seconds."""
MASK_FLOOR = 0.1
"""Person-mask values up to this count as background (and from 1 - this as person)."""
HALO_FLOOR = 0.3
"""... and up to this, farther than :data:`HALO_PX` from the person's core (mask > 0.5): a
faint halo there (dark hair against a dark background: 20 of the real set) moved with the
head over the still background (7 levels where 4 are allowed). The antialiased edge
right at the person keeps the lower floor."""
HALO_PX = 0.04
"""Width of that edge, as a share of the canvas side (20 px at 512: the frontal astronaut's mask
has no halo beyond it, so its closed loop is unchanged)."""
EDGE_BAND = 0.015
"""Width (face heights) of the band along the person's new edge where :func:`with_face` lets
colour take back what the face mesh adds beyond the outline (a few pixels of background
past a turned face's far cheek)."""
COLOUR_REACH = 0.1
"""... comparing with the person's and the background's colours within about this many
face heights."""
MESH_EDGE = 0.08
"""Longest edge (share of the face height) of a landmark triangle counted as face."""
MASK_DILATE = 0.06
"""The inpainted hole is the person mask grown by this share of the canvas side (hair edges)."""
MIRROR_GAP = 0.008
"""The plate under the person is the background mirrored across the person's outline grown
by this share of the canvas side (4 px at 512: past the antialiased edge)..."""
FRINGE = 0.02
"""... and past any segmentation value above this near the person."""
CORE_SMOOTH = 0.01
"""The person's core is where the mask smoothed over this share of the side (5 px at 512)
exceeds 0.6 ..."""
PLATE_REACH = 0.04
"""... and the plate may show within this share of the side of it (20 px at 512: the
antialiased and halo edge of the head; what the head uncovers lies inside its old core)."""
MIRROR_KEEP = 0.08
"""... kept as it is up to this depth (share of the side; a head turned 20 degrees uncovers
10-35 px at 512) ..."""
MIRROR_FADE = 0.04
"""... and fading over this depth into the inpainted plate. A smooth inpainting alone (Telea
at low resolution) drew the uncovered sliver as a flat, paler or darker band: the banded
backgrounds of the real set (a window sill, a ceiling edge) stopped at the old outline,
which showed as a ghost of the head where it had been."""


def person_mask(image: np.ndarray) -> np.ndarray:
    """Soft person mask ``[H, W]`` float32 in [0, 1] of an RGB uint8 image ``[H, W, 3]``."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    import mediapipe as mp

    from openinfp.quiet import native_stderr_filtered

    # MediaPipe's graph logs start-up noise from C++ threads (fd 2) until its first result
    with native_stderr_filtered(), mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        result = seg.process(np.ascontiguousarray(image))
    mask = result.segmentation_mask
    if mask is None:
        return np.zeros(image.shape[:2], np.float32)
    return np.clip(np.asarray(mask, np.float32), 0.0, 1.0)


@dataclass(frozen=True)
class StillBackground:
    """What :func:`composite_still` needs, prepared once per canvas.

    Attributes:
        alpha: ``[H, W]`` uint8 person alpha on the canvas (the renderer appends it to the
            canvas as a fourth channel, so one remap carries both).
        mask: ``[H, W]`` float32 the same alpha in [0, 1].
        inv_mask: ``[H, W]`` float32 ``1 / max(mask, eps)``.
        plate: ``[H, W, 3]`` uint8 background plate (the canvas outside the person).
        ones: ``[H, W]`` float32 ones (kept: blend weights are ``w`` and ``1 - w``).
        rim: ``[H, W]`` float32, 1 within :data:`MIRROR_GAP` of the person (alpha > 0) and
            near its core (:func:`_near_core`), else 0: the uncovered area is grown into it
            (the photo's antialiased outline there would stay behind as a thin line where
            the head was); outside it the plate never shows.
        grow: ``[k, k]`` uint8 structuring element of that growth (a square).
    """

    alpha: np.ndarray
    mask: np.ndarray
    inv_mask: np.ndarray
    plate: np.ndarray
    ones: np.ndarray
    rim: np.ndarray
    grow: np.ndarray


def prepare_still_background(canvas: np.ndarray, mask: np.ndarray) -> StillBackground:
    """Inpaint the background under the person (``canvas`` ``[H, W, 3]`` uint8, ``mask``
    ``[H, W]`` float32) at low resolution and keep it for :func:`composite_still`."""
    h, w = canvas.shape[:2]
    # The segmenter leaves faint values over the background; they would let it move a little.
    core = (mask > 0.5).astype(np.uint8)
    far = cv2.distanceTransform(1 - core, cv2.DIST_L2, 3) > HALO_PX * max(h, w)
    floor = np.where(far, HALO_FLOOR, MASK_FLOOR).astype(np.float32)
    # The mirror avoids the person's faint fringe as well (a lapel's or hair's edge the
    # floor calls background would be mirrored into the plate as a bright or dark streak).
    fringe = (mask > FRINGE) & ~far
    mask = np.clip((mask - floor) / (1.0 - 2 * floor), 0.0, 1.0).astype(np.float32)
    mask = _without_islands(mask, core)
    hard = (mask > 0.25).astype(np.uint8)
    grow = max(1, round(MASK_DILATE * max(h, w)))
    hole = cv2.dilate(hard, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    k = min(1.0, PLATE_SIDE / max(h, w))
    small = (max(1, round(w * k)), max(1, round(h * k)))
    img_s = cv2.resize(canvas, small, interpolation=cv2.INTER_AREA)
    hole_s = (cv2.resize(hole, small, interpolation=cv2.INTER_NEAREST) > 0).astype(np.uint8)
    if hole_s.all():  # no background to grow from: a flat plate of the canvas mean
        plate_s = np.full_like(img_s, canvas.reshape(-1, 3).mean(0).astype(np.uint8))
    else:
        plate_s = cv2.inpaint(img_s, hole_s, 5, cv2.INPAINT_TELEA)
        plate_s = cv2.GaussianBlur(plate_s, (5, 5), 0)
    plate = cv2.resize(plate_s, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    soft_hole = cv2.GaussianBlur(hole.astype(np.float32), (0, 0), grow / 2 + 0.5)
    base = canvas.astype(np.float32)
    plate = np.clip(base + (plate - base) * soft_hole[..., None] + 0.5, 0, 255).astype(np.uint8)
    alpha = np.round(mask * 255.0).astype(np.uint8)
    plate = _mirror_fill(canvas, plate, (alpha > 0) | fringe)
    gap = max(1, round(MIRROR_GAP * max(h, w)))
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1, 2 * gap + 1))
    rim = cv2.dilate((alpha > 0).astype(np.uint8), disc) & _near_core(mask, max(h, w))
    rim = rim.astype(np.float32)
    disc = np.ones_like(disc)  # per frame a square (separable, 4x faster); the rim bounds it
    mask = alpha.astype(np.float32) / np.float32(255.0)  # exactly what the warped layer carries
    return StillBackground(alpha, mask, (1.0 / np.maximum(mask, 0.02)).astype(np.float32), plate,
                           np.ones((h, w), np.float32), rim, disc)


def _near_core(mask: np.ndarray, side: int) -> np.ndarray:
    """``[H, W]`` uint8, 1 within :data:`PLATE_REACH` of the person's core: where the mask
    ``[H, W]`` float32, smoothed over :data:`CORE_SMOOTH`, exceeds 0.6. A mottled, half-sure
    region of the mask (a sleeve at the photo's edge: 0.3-0.5 with speckles) is no core, and
    the plate stays out of it: the warp shifts such a region by a pixel or two and its
    speckles read as uncovered, which drew the mirrored background in square blocks."""
    smooth = cv2.GaussianBlur(mask, (0, 0), max(1.0, CORE_SMOOTH * side))
    reach = max(1, round(PLATE_REACH * side))
    return cv2.dilate((smooth > 0.6).astype(np.uint8),
                      cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1)))


def _without_islands(mask: np.ndarray, core: np.ndarray) -> np.ndarray:
    """``mask`` ``[H, W]`` float32 without its faint islands: the connected parts of
    ``mask > 0`` that hold no pixel of the person's ``core`` ``[H, W]`` (uint8, mask > 0.5).
    A faint patch the segmenter leaves in the background away from the person (a window
    beside 28's head of the real set) was moved by the warp with the head, and the plate
    shown where it had been drew a ghost of it."""
    n, labels = cv2.connectedComponents((mask > 0).astype(np.uint8), connectivity=8)
    if n <= 2:
        return mask
    keep = np.zeros(n, bool)
    keep[np.unique(labels[core > 0])] = True
    keep[0] = False
    return np.where(keep[labels], mask, np.float32(0.0)).astype(np.float32)


def _nearest_along(bg: np.ndarray) -> np.ndarray:
    """For each pixel of ``bg`` ``[H, W]`` bool, the column of the nearest ``bg`` pixel at or
    left of it in its row (-1 where none): ``[H, W]`` int."""
    idx = np.where(bg, np.arange(bg.shape[1])[None, :], -1)
    return np.maximum.accumulate(idx, axis=1)


def _mirror_fill(canvas: np.ndarray, plate: np.ndarray, person: np.ndarray) -> np.ndarray:
    """``plate`` ``[H, W, 3]`` uint8 with the pixels under ``person`` ``[H, W]`` bool (and a
    :data:`MIRROR_GAP` around it) replaced near the outline by the background mirrored across
    it: each pixel takes the canvas at its reflection through the nearest background pixel
    in its row or column (left, right, above, below; the nearest whose reflection is
    background). Reflecting along the rows and columns, not along the outline's normal,
    keeps a horizontal sill horizontal beside a slanted cheek. Where no reflection lands
    on the background, and deeper than :data:`MIRROR_KEEP`, the inpainted plate stays."""
    h, w = person.shape
    side = max(h, w)
    gap = max(1, round(MIRROR_GAP * side))
    near = cv2.dilate(person.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * gap + 1, 2 * gap + 1)))
    if not near.any() or near.all():
        return plate
    bg = near == 0
    yy, xx = np.mgrid[0:h, 0:w]
    cands = []  # (distance, source y, source x) per direction, distance inf where invalid
    for flip_x, flip_y, transpose in ((False, False, False), (True, False, False), (False, False, True),
                                      (False, True, True)):
        m = bg.T if transpose else bg
        m = m[:, ::-1] if flip_x else (m[::-1] if flip_y else m)
        n = m.shape[1]
        edge = _nearest_along(m)
        pos = np.arange(n)[None, :]
        src = 2 * edge - pos
        ok = (edge >= 0) & (src >= 0) & (src < n)
        src_c = np.clip(src, 0, n - 1)
        ok &= np.take_along_axis(m, src_c, axis=1)
        dist = np.where(ok, pos - edge, np.inf).astype(np.float32)
        if flip_x:
            dist, src_c = dist[:, ::-1], (n - 1 - src_c)[:, ::-1]
        if flip_y:
            dist, src_c = dist[::-1], (n - 1 - src_c)[::-1]
        if transpose:
            dist, src_c = dist.T, src_c.T
            cands.append((dist, src_c, xx))
        else:
            cands.append((dist, yy, src_c))
    dists = np.stack([c[0] for c in cands])
    best = np.argmin(dists, axis=0)
    depth = np.take_along_axis(dists, best[None], 0)[0]
    sy = np.choose(best, [c[1] for c in cands]).astype(np.float32)
    sx = np.choose(best, [c[2] for c in cands]).astype(np.float32)
    t = np.clip((np.where(np.isfinite(depth), depth, side) - MIRROR_KEEP * side) / max(1.0, MIRROR_FADE * side), 0, 1)
    # 1 outside too, so the blur that softens the fade leaves no seam at the outline.
    weight = np.where(bg, 1.0, 1.0 - t * t * (3.0 - 2.0 * t))
    weight = cv2.GaussianBlur(weight.astype(np.float32), (0, 0), max(1.0, gap / 2)) * near
    mirrored = cv2.remap(canvas, sx, sy, cv2.INTER_NEAREST)
    out = plate.astype(np.float32) + (mirrored.astype(np.float32) - plate) * weight[..., None]
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def composite_still(warped: np.ndarray, canvas: np.ndarray, bg: StillBackground) -> np.ndarray:
    """The warped person over the still background (module docstring). ``warped``
    ``[H, W, 4]`` uint8: the canvas with ``bg.alpha`` as a fourth channel, remapped by
    the frame's warp (colour and person alpha in one pass). Returns a new ``[H, W, 3]`` uint8 frame."""
    frame = cv2.cvtColor(warped, cv2.COLOR_RGBA2RGB)
    a = np.multiply(cv2.extractChannel(warped, 3), np.float32(1.0 / 255.0), dtype=np.float32)
    uncovered = cv2.multiply(cv2.subtract(bg.mask, a), bg.inv_mask)
    np.clip(uncovered, 0.0, 1.0, out=uncovered)
    # cv2.blendLinear: per-pixel weighted mean of two uint8 images, 4x faster than the
    # same arithmetic in float numpy (measured 4 ms vs 16 ms per 512 px frame under load).
    # The plate only shows where the person moved away: blend it in over that box alone.
    rows = np.flatnonzero(uncovered.max(axis=1) > 0.0)
    still = canvas
    if rows.size:
        cols = np.flatnonzero(uncovered[rows[0]:rows[-1] + 1].max(axis=0) > 0.0)
        g = bg.grow.shape[0] // 2
        h, w = uncovered.shape
        box = (slice(max(0, rows[0] - g), min(h, rows[-1] + 1 + g)),
               slice(max(0, cols[0] - g), min(w, cols[-1] + 1 + g)))
        # Grown over the photo's antialiased outline next to it (zero motion: nothing
        # uncovered, nothing grown, the frame stays the photo exactly).
        u = cv2.multiply(cv2.dilate(uncovered[box], bg.grow), bg.rim[box])
        still = canvas.copy()
        still[box] = cv2.blendLinear(bg.plate[box], canvas[box], u, cv2.subtract(bg.ones[box], u))
    return cv2.blendLinear(frame, still, a, cv2.subtract(bg.ones, a))


def with_face(mask: np.ndarray, landmarks: np.ndarray, mesh: bool = True,
              image: np.ndarray | None = None) -> np.ndarray:
    """``mask`` ``[H, W]`` float32 with the tracked face counted as person in full: inside
    the outline of ``landmarks`` ``[478, 2]`` and, with ``mesh``, on the mesh beyond it (the
    far cheek of a turned face bulges past the outline, which lies behind it). The segmentation can cut
    into a face against a bright or skin-coloured background or in shadow (seen on 19, 28,
    30 of the real set); a head turned towards the camera then stretched its cheek over
    what the mask called background, and the still background showed through as a hole in
    the face.

    With the canvas ``image`` ``[H, W, 3]`` uint8, what the mesh adds beyond the outline
    within :data:`EDGE_BAND` of the person's new edge stays background where its colour
    is plainly the background's beside it, not the face's (:func:`_background_coloured`):
    the mesh's hull reaches a few pixels past a turned face's far cheek (28 of the real
    set, against a bright window), and turned back that sliver of background was
    stretched with the cheek into a pale crescent beside it."""
    face = np.zeros(mask.shape, np.float32)
    cv2.fillPoly(face, [np.round(landmarks[list(FACE_OVAL)] * 8).astype(np.int32)], 1.0, cv2.LINE_AA, 3)
    if not mesh:
        return np.maximum(mask, face)
    inside = face.copy()
    tri = Delaunay(landmarks).simplices
    corners = landmarks[tri]  # [T, 3, 2]
    longest = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=2).max(1)
    # Short triangles only: the mesh's own spacing, not bridges across the nose's profile.
    small = corners[longest < MESH_EDGE * face_height(landmarks)]
    cv2.fillPoly(face, list(np.round(small * 8).astype(np.int32)), 1.0, cv2.LINE_AA, 3)
    if image is not None:
        taken = _background_coloured(image, mask, face, inside, face_height(landmarks))
        face = np.where(taken, inside, face)
    return np.maximum(mask, face)


def _background_coloured(image: np.ndarray, mask: np.ndarray, face: np.ndarray, inside: np.ndarray,
                         face_px: float) -> np.ndarray:
    """``[H, W]`` bool: pixels the mesh ``face`` ``[H, W]`` float32 adds to the person
    ``mask`` (float32) beyond the face outline (``inside`` ``[H, W]`` float32, the filled
    outline) that lie within :data:`EDGE_BAND` face heights of the background left around
    both and whose colour (Lab of ``image`` ``[H, W, 3]`` uint8) is less than half as far
    from the local background colour as from the local colour of the face (normalised
    blurs over :data:`COLOUR_REACH` face heights; half: a shaded cheek stays face). Inside
    the outline and deeper in nothing is taken back: a segmentation that cuts into a face
    stays overruled."""
    person = mask > 0.5
    added = (face > 0.5) & ~person & (inside < 0.5)
    if not added.any():
        return np.zeros(mask.shape, bool)
    outside = (~person & (face <= 0.5)).astype(np.uint8)
    if not outside.any():
        return np.zeros(mask.shape, bool)
    band = cv2.distanceTransform(1 - outside, cv2.DIST_L2, 3) <= max(1.0, EDGE_BAND * face_px)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    sigma = max(1.0, COLOUR_REACH * face_px)

    def local_mean(where: np.ndarray) -> np.ndarray:
        w = where.astype(np.float32)
        num = cv2.GaussianBlur(lab * w[..., None], (0, 0), sigma)
        return num / np.maximum(cv2.GaussianBlur(w, (0, 0), sigma), 1e-4)[..., None]

    to_person = np.linalg.norm(lab - local_mean(person & (inside > 0.5)), axis=2)
    to_background = np.linalg.norm(lab - local_mean(outside > 0), axis=2)
    return added & band & (2.0 * to_background < to_person)


def torso_points(mask: np.ndarray, below_y: float, spacing: float, keep_away: np.ndarray) -> np.ndarray:
    """Fixed control points ``[K, 2]`` on the person below ``below_y`` (canvas px): the torso
    and shoulders stay rigid. Grid points every ``spacing`` px with the person mask > 0.5,
    at least ``spacing`` from any point of ``keep_away`` ``[N, 2]`` (the moving ones)."""
    h, w = mask.shape
    ys = np.arange(below_y, h - spacing / 3, spacing)
    xs = np.arange(spacing / 2, w - spacing / 3, spacing)
    if len(ys) == 0 or len(xs) == 0:
        return np.zeros((0, 2))
    grid = np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)
    on = mask[grid[:, 1].astype(int), grid[:, 0].astype(int)] > 0.5
    grid = grid[on]
    if len(grid) and len(keep_away):
        d = np.min(np.linalg.norm(grid[:, None, :] - keep_away[None, :, :], axis=2), axis=1)
        grid = grid[d >= spacing]
    return grid

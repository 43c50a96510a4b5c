"""Control points around the face (hair, ears, neck) for the portrait renderer's warp.

Rings of points are spread outwards from the face outline; each is lifted into 3D at a
depth guessed from the outline's and follows the head's rigid motion (fading to still
below the chin, where the neck meets the torso), plus a share of its outline point's
expression motion (the chin dropping stretches the neck instead of folding it).

The outline points a turned photo hides (:mod:`openinfp.head.silhouette`) are moved onto
the silhouette first, so a ring starts outside what the photo shows of the face; and per
frame no ring point comes closer to its outline point than a share of its own distance
(:data:`RINGS`), measured outwards: where the silhouette widens (a turned photo turned back
towards the camera) the rings make way instead of folding into the cheek.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from openinfp.head.fitting import lift_to_canonical
from openinfp.head.landmarks import FACE_OVAL

RINGS = ((1.15, 0.7, 0.7, 0.8, 0.5), (1.4, 0.4, 0.4, 0.45, 0.3), (1.8, 0.0, 0.0, 0.1, 0.3))
"""(radius factor vs. the face outline, canonical depth factor vs. the outline's depth,
rigid-motion weight straight below the face centre: the neck follows the head partly, the
shoulders not at all; share of the outline's expression motion, e.g. the chin dropping,
passed on so the neck stretches smoothly instead of folding; share of its source distance
beyond the outline the point keeps on every frame: the inner ring makes way for a widening
silhouette early, the outer ones, in the hair, only when it comes close, so that hair moves
over the still background no more than it must)."""


@dataclass(frozen=True)
class Rings:
    """Ring points on the canvas and how they move (``R`` points in all)."""

    points: np.ndarray   # [R, 2] positions on the canvas (x, y down)
    canon: np.ndarray    # [R, 3] canonical positions (rigid motion)
    weight: np.ndarray   # [R] rigid-motion weight
    oval: np.ndarray     # [R] face-outline landmark each point was spread from
    expr: np.ndarray     # [R] share of that landmark's expression motion it follows
    direction: np.ndarray  # [R, 2] unit direction from the outline outwards
    keep: np.ndarray     # [R] distance (px) kept beyond the outline point, along ``direction``


def build_rings(lm: np.ndarray, shape: np.ndarray, rot: np.ndarray, sigma: float, center: np.ndarray,
                height: int, width: int, hidden: np.ndarray | None = None) -> Rings:
    """Rings around the face outline of ``lm`` ``[478, 2]`` (canvas px; hidden outline
    points already on the silhouette); points off the canvas are left out. ``shape``
    ``[478, 3]``: the face's canonical landmarks; ``rot`` ``[3, 3]``, ``sigma`` (px per
    canonical unit) and ``center`` ``[2]`` (pivot on the canvas): its pose. ``hidden``
    ``[478]`` bool: the landmarks the photo hides; only rings spread from a hidden outline
    point keep their distance (elsewhere they move as before, rigidly: the closed loop's
    jaw reading on the frontal astronaut is sensitive to any change in how the hair moves)."""
    oval = lm[list(FACE_OVAL)]
    mid = oval.mean(0)
    reach = np.linalg.norm(oval - mid, axis=1)
    out = (oval - mid) / np.maximum(reach, 1e-9)[:, None]
    oval_depth = float(shape[list(FACE_OVAL), 2].mean())
    parts: list[tuple[np.ndarray, ...]] = []
    far = np.zeros(len(FACE_OVAL), bool) if hidden is None else hidden[list(FACE_OVAL)]
    for radius, depth, bottom_weight, expr_share, keep_share in RINGS:
        pts = mid + radius * (oval - mid)
        on = (pts[:, 0] > 1) & (pts[:, 0] < width - 2) & (pts[:, 1] > 1) & (pts[:, 1] < height - 2)
        pts, direction = pts[on], out[on]
        cam = np.stack([pts[:, 0] - center[0], center[1] - pts[:, 1]], 1)  # pivot-relative, y up
        canon = lift_to_canonical(cam, depth * oval_depth, sigma, rot, np.zeros(3))
        down = np.clip(direction[:, 1], 0.0, 1.0)
        parts.append((pts, canon, 1.0 - down * (1.0 - bottom_weight), np.asarray(FACE_OVAL)[on],
                      np.full(len(pts), expr_share), direction,
                      np.where(far[on], keep_share * (radius - 1.0) * reach[on], -np.inf)))
    return Rings(*(np.concatenate(p) for p in zip(*parts)))


def ring_targets(rings: Rings, rigid: np.ndarray, expression: np.ndarray, outline: np.ndarray) -> np.ndarray:
    """Where the ring points go on one frame: ``[R, 2]``.

    ``rigid`` ``[R, 2]``: the canonical ring points under the frame's full head motion;
    ``expression`` ``[478, 2]``: the landmarks' non-rigid motion; ``outline`` ``[478, 2]``:
    the landmarks' targets (hidden outline points on the silhouette).
    """
    moved = rings.points + ((rigid - rings.points) * rings.weight[:, None]
                            + expression[rings.oval] * rings.expr[:, None])
    beyond = np.einsum("ij,ij->i", moved - outline[rings.oval], rings.direction)
    return moved + np.maximum(rings.keep - beyond, 0.0)[:, None] * rings.direction

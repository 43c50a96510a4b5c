"""The face's silhouette and the landmarks a turned photo hides behind it.

On a photo turned 20-40 degrees, MediaPipe still places every landmark of the far side,
the hidden ones included: the far face outline (jaw, temple) projects *inside* the
visible cheek, onto skin that belongs to the front of the face. A warp that moves those
landmarks as their 3D model says folds the mesh: turned back towards the camera, the far
outline swings out past the cheek and the pixels it drags along come from the wrong side
of it (holes where the still background shows, split cheeks and chins, seen on 19, 28 and
30 of the development set).

:func:`hidden_landmarks` finds the landmarks that face away from the camera (from the
normals of the canonical face, rotated by the photo's pose); the renderer leaves the
hidden ones out of its warp, except the outline points, which it moves onto the silhouette
(:func:`onto_silhouette`): where the photo ends, as the visible cheek's edge, on every
frame. Turned back towards the camera, the hull of the moved landmarks widens on that side
and the cheek's edge is stretched over it instead of tearing.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
from scipy.spatial import cKDTree

from openinfp.head.basis import head_basis
from openinfp.head.landmarks import (
    FACE_OVAL,
    IRIS,
    LEFT_BROW,
    LEFT_EYE,
    LIPS_INNER,
    LIPS_OUTER,
    RIGHT_BROW,
    RIGHT_EYE,
)

HIDDEN_NZ = 0.4
"""A landmark whose surface normal's component towards the camera is below this, and
below its frontal value by :data:`TURNED_AWAY` or more, counts as hidden: grazing or facing
away on the side the photo turns away from. Set wide (the far cheek, not only the far
outline), so that a head turned back stretches a band of cheek, not a sliver of its edge:
with 0.1 (only what faces away) a turned-back 30 showed horizontal streaks."""
TURNED_AWAY = 0.1
"""How much less the normal must face the camera than in a frontal view (a frontal photo
hides nothing)."""
FEATURES = frozenset(LIPS_OUTER + LIPS_INNER + RIGHT_EYE + LEFT_EYE + IRIS + RIGHT_BROW + LEFT_BROW)
"""Landmarks never left out (the warp draws expressions with them)."""
NORMAL_NEIGHBOURS = 12
"""Landmarks a local plane is fitted to for each normal."""


@lru_cache(maxsize=1)
def landmark_normals() -> np.ndarray:
    """Unit normals ``[478, 3]`` of the canonical neutral face (towards +z, the viewer):
    a plane ``z = a x + b y + c`` fitted to each landmark's nearest neighbours in x, y."""
    neutral = head_basis().neutral
    _, idx = cKDTree(neutral[:, :2]).query(neutral[:, :2], NORMAL_NEIGHBOURS)
    rel = neutral[idx] - neutral[:, None, :]  # [478, k, 3]
    design = np.concatenate([rel[..., :2], np.ones(rel.shape[:2] + (1,))], -1)  # [478, k, 3]
    normals = np.empty_like(neutral)
    for i in range(len(neutral)):
        a, b, _ = np.linalg.lstsq(design[i], rel[i, :, 2], rcond=None)[0]
        normals[i] = (-a, -b, 1.0)
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def hidden_landmarks(rotation: np.ndarray, threshold: float = HIDDEN_NZ) -> np.ndarray:
    """``[478]`` bool: skin landmarks the photo hides or shows only at a grazing angle (see
    :data:`HIDDEN_NZ`) for a face with camera-frame ``rotation`` ``[3, 3]`` (z towards the
    viewer). The lips, eyes, irises and brows (:data:`FEATURES`) are never hidden."""
    normals = landmark_normals()
    nz = (normals @ np.asarray(rotation, np.float64).T)[:, 2]
    hidden = (nz < threshold) & (nz < normals[:, 2] - TURNED_AWAY)
    hidden[list(FEATURES)] = False
    return hidden


def hull_reach(points: np.ndarray, origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Distance ``[D]`` from ``origin`` ``[2]`` along each unit direction ``[D, 2]`` to the
    boundary of the convex hull of ``points`` ``[N, 2]`` (0 where the ray misses it: the
    origin should lie inside)."""
    hull = cv2.convexHull(np.asarray(points, np.float32)).reshape(-1, 2).astype(np.float64)
    edge = np.roll(hull, -1, axis=0) - hull  # [E, 2]
    rel = hull - origin  # [E, 2]
    # origin + t d = a + s e, solved for t (along the ray) and s (along the edge)
    den = directions[:, None, 1] * edge[None, :, 0] - directions[:, None, 0] * edge[None, :, 1]
    den = np.where(np.abs(den) < 1e-12, 1e-12, den)
    t = (rel[None, :, 1] * edge[None, :, 0] - rel[None, :, 0] * edge[None, :, 1]) / den
    s = (directions[:, None, 0] * rel[None, :, 1] - directions[:, None, 1] * rel[None, :, 0]) / den
    hit = (s >= -1e-9) & (s <= 1.0 + 1e-9) & (t > 0)
    return np.where(hit, t, 0.0).max(1)


def onto_silhouette(points: np.ndarray, which: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """``points[which]`` ``[K, 2]`` moved out along the ray from ``origin`` ``[2]`` onto the
    convex hull of all ``points`` ``[N, 2]`` (points already on it stay)."""
    rel = points[which] - origin
    dist = np.linalg.norm(rel, axis=1)
    direction = rel / np.maximum(dist, 1e-9)[:, None]
    reach = np.maximum(hull_reach(points, origin, direction), dist)
    return origin + direction * reach[:, None]


def hidden_outline_on_silhouette(landmarks: np.ndarray, hidden_oval: np.ndarray) -> np.ndarray:
    """A copy of ``landmarks`` ``[478, 2]`` with the hidden outline points ``hidden_oval``
    ``[K]`` moved onto the silhouette, out from the outline's centre (the photo's own
    landmarks once, and every frame's targets)."""
    if len(hidden_oval) == 0:
        return landmarks
    out = landmarks.copy()
    out[hidden_oval] = onto_silhouette(landmarks, hidden_oval, landmarks[list(FACE_OVAL)].mean(0))
    return out

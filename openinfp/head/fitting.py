"""Fitting head pose and ARKit weights to 3D face landmarks.

Model: ``X_i = s * R @ (N_i + sum_k w_k B_ki) + t`` for landmarks ``X`` in the camera
frame (x right, y up, z towards the viewer; pixels), with the canonical neutral ``N`` and
basis ``B`` of :mod:`openinfp.head.basis`. Pose is a weighted similarity (Umeyama)
alignment on the rigid part of the face; weights come from bounded linear least squares
on the pose-normalised landmarks; the two alternate a few times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import lsq_linear

from openinfp.head.basis import HeadBasis, head_basis

Z_WEIGHT = 0.4
"""Relative weight of MediaPipe's depth coordinate (noisier than x, y) in the expression fit."""
RIDGE = 2e-3
"""L2 penalty on the weights (per landmark-coordinate row; keeps unobservable shapes near 0)."""
UNOBSERVABLE = ("tongueOut",)
"""Shapes with no landmark signature (always fitted as 0)."""


@dataclass
class PoseFit:
    """Result of :func:`fit_pose_and_expression`.

    Attributes:
        rotation: ``[3, 3]`` head rotation in the camera frame.
        scale: pixels per canonical unit (= the face's inter-ocular distance in px).
        translation: ``[3]`` where the canonical origin (the head pivot) lands, camera
            frame, pixels (x right, y up).
        weights: ``[52]`` ARKit weights in [0, 1].
        shape: ``[478, 3]`` the landmarks brought back into the canonical frame (the
            person's own face shape with its expression).
        rms: root-mean-square residual of the rigid landmarks, canonical units.
    """

    rotation: np.ndarray
    scale: float
    translation: np.ndarray
    weights: np.ndarray
    shape: np.ndarray
    rms: float


def similarity_align(src: np.ndarray, dst: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted Umeyama: ``(s, R, t)`` minimising ``sum_i w_i |s R src_i + t - dst_i|^2``.

    ``src``/``dst``: ``[N, 3]``; ``weights``: ``[N]`` non-negative. ``R`` is a proper rotation.
    """
    w = weights / weights.sum()
    mu_s, mu_d = w @ src, w @ dst
    a, b = src - mu_s, dst - mu_d
    cov = (b * w[:, None]).T @ a
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[2] = -1.0
    rot = u @ np.diag(d) @ vt
    var_s = float(w @ np.sum(a * a, axis=1))
    scale = float((sig * d).sum() / var_s)
    return scale, rot, mu_d - scale * rot @ mu_s


@lru_cache(maxsize=1)
def _design() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row-weighted design matrix ``[3*478 + 52, 52]``, row weights, and fitted columns."""
    from openinfp.core.arkit import ARKIT_NAMES

    basis = head_basis()
    rows = np.tile(np.array([1.0, 1.0, Z_WEIGHT]), basis.neutral.shape[0])  # [3*478]
    cols = np.array([n not in UNOBSERVABLE for n in ARKIT_NAMES])
    a = basis.basis.reshape(52, -1).T[:, cols] * rows[:, None]
    a = np.vstack([a, np.sqrt(RIDGE * a.shape[0]) * np.eye(a.shape[1])])
    return a, rows, cols


def fit_expression(residual: np.ndarray) -> np.ndarray:
    """ARKit weights ``[52]`` in [0, 1] explaining ``residual`` = canonical shape - neutral ``[478, 3]``."""
    a, rows, cols = _design()
    b = np.concatenate([residual.reshape(-1) * rows, np.zeros(a.shape[1])])
    sol = lsq_linear(a, b, bounds=(0.0, 1.0), method="bvls", lsmr_tol="auto").x
    weights = np.zeros(52)
    weights[cols] = np.clip(sol, 0.0, 1.0)
    return weights


def fit_pose_and_expression(points: np.ndarray, basis: HeadBasis | None = None, iterations: int = 3) -> PoseFit:
    """Fit pose and ARKit weights to camera-frame landmarks ``[478, 3]`` (pixels)."""
    basis = basis or head_basis()
    weights = np.zeros(52)
    rigid = basis.rigidity
    for _ in range(iterations):
        model = basis.shape(weights)
        scale, rot, trans = similarity_align(model, points, rigid)
        shape = ((points - trans) @ rot) / scale  # R^T (X - t) / s, row-wise
        weights = fit_expression(shape - basis.neutral)
    model = basis.shape(weights)
    resid = np.sum((shape - model) ** 2, axis=1)
    rms = float(np.sqrt((rigid * resid).sum() / rigid.sum()))
    return PoseFit(rot, scale, trans, weights, shape, rms)

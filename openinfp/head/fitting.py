"""Fitting head pose and ARKit weights to 3D face landmarks.

Model: ``X_i = s * R @ (N_i + sum_k w_k B_ki) + t`` for landmarks ``X`` in the camera
frame (x right, y up, z towards the viewer; pixels), with the canonical neutral ``N`` and
basis ``B`` of :mod:`openinfp.head.basis`.

The image plane (x, y) carries the reliable evidence; MediaPipe's depth is a guess from
appearance. So the fit is a weak-perspective one: it minimises the 2D reprojection
error, with depth weighted by ``POSE_Z_WEIGHT`` / ``EXPR_Z_WEIGHT``. Pose: a weighted similarity
(Umeyama) alignment on the rigid part of the face to start, then Gauss-Newton steps on
the reprojection error. Expression: bounded linear least squares (``[0, 1]``, small
ridge) on all landmarks in the camera frame. The two alternate a few times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import lsq_linear

from openinfp.head.basis import HeadBasis, head_basis

POSE_Z_WEIGHT = 0.3
"""Weight of MediaPipe's depth residuals in the pose fit (relative to x, y). Measured on
renderings of the Anny head at known angles, depth is what makes pitch recoverable."""
EXPR_Z_WEIGHT = 0.15
"""Weight of MediaPipe's depth residuals in the expression fit (the image plane is more
reliable for lips and lids)."""
RIDGE = 0.15
"""L2 penalty on each weight relative to its column's norm (a shape alone is shrunk by
only ~2 %, but near-collinear combinations are kept from fighting each other)."""
SECONDARY_RIDGE = 30.0
"""Extra ridge factor for the shapes whose landmark signature overlaps a primary one
(e.g. ``mouthLowerDown`` vs ``jawOpen``), so the primary shape explains the motion."""
SECONDARY = ("mouthClose", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
             "mouthStretchLeft", "mouthStretchRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthPressLeft",
             "mouthPressRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
             "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "jawForward", "cheekPuff",
             "mouthFrownLeft", "mouthFrownRight", "eyeSquintLeft", "eyeSquintRight")
UNOBSERVABLE = ("tongueOut",)
"""Shapes with no landmark signature (always fitted as 0)."""
_POSE_W = np.array([1.0, 1.0, POSE_Z_WEIGHT])
_EXPR_W = np.array([1.0, 1.0, EXPR_Z_WEIGHT])


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
        rms: image-plane residual of the rigid landmarks, canonical units.
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


def _exp_so3(omega: np.ndarray) -> np.ndarray:
    angle = float(np.linalg.norm(omega))
    if angle < 1e-12:
        return np.eye(3)
    k = omega / angle
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def refine_pose(model: np.ndarray, points: np.ndarray, weights: np.ndarray, scale: float, rot: np.ndarray,
                trans: np.ndarray, steps: int = 4) -> tuple[float, np.ndarray, np.ndarray]:
    """Gauss-Newton on the weighted weak-perspective residual ``(s R model + t - points) * axis weights``.

    Parameters: a rotation increment (3), log-scale, translation (3). ``model``/``points``
    ``[N, 3]``; returns the refined ``(s, R, t)``.
    """
    sw = np.sqrt(weights)[:, None, None] * _POSE_W[None, :, None]  # [N, 3, 1]
    for _ in range(steps):
        q = model @ rot.T  # R @ model_i, row-wise
        resid = (scale * q + trans - points) * sw[..., 0]
        # d(sRm)/d(omega) = -s [Rm]_x ; d/d(log s) = s R m ; d/dt = I
        zero = np.zeros(len(q))
        skew = np.stack([np.stack([zero, q[:, 2], -q[:, 1]], 1),
                         np.stack([-q[:, 2], zero, q[:, 0]], 1),
                         np.stack([q[:, 1], -q[:, 0], zero], 1)], 1)  # [N, 3(xyz), 3(omega)]
        jac = np.concatenate([scale * skew, scale * q[:, :, None],
                              np.broadcast_to(np.eye(3), (len(q), 3, 3))], 2) * sw  # [N, 3, 7]
        jac = jac.reshape(-1, 7)
        delta = np.linalg.lstsq(jac, -resid.reshape(-1), rcond=None)[0]
        rot = _exp_so3(delta[:3]) @ rot
        scale *= float(np.exp(delta[3]))
        trans = trans + delta[4:]
        if np.abs(delta).max() < 1e-7:
            break
    return scale, rot, trans


@lru_cache(maxsize=1)
def _fitted_columns() -> np.ndarray:
    from openinfp.core.arkit import ARKIT_NAMES

    return np.array([n not in UNOBSERVABLE for n in ARKIT_NAMES])


@lru_cache(maxsize=1)
def _ridge_scale() -> np.ndarray:
    from openinfp.core.arkit import ARKIT_NAMES

    names = [n for n in ARKIT_NAMES if n not in UNOBSERVABLE]
    return np.sqrt(np.array([SECONDARY_RIDGE if n in SECONDARY else 1.0 for n in names]))


def fit_expression(points: np.ndarray, scale: float, rot: np.ndarray, trans: np.ndarray,
                   basis: HeadBasis | None = None) -> np.ndarray:
    """ARKit weights ``[52]`` in [0, 1] for camera-frame landmarks ``[478, 3]`` at a known pose."""
    basis = basis or head_basis()
    cols = _fitted_columns()
    # Columns: each shape's landmark displacement as seen by the camera (s R B_k).
    a = scale * np.einsum("ij,knj->nik", rot, basis.basis[cols]) * _EXPR_W[None, :, None]  # [478, 3, K]
    a = a.reshape(-1, cols.sum())
    b = ((points - (scale * basis.neutral @ rot.T + trans)) * _EXPR_W).reshape(-1)
    lam = RIDGE * np.linalg.norm(a, axis=0) * _ridge_scale()
    a = np.vstack([a, np.diag(lam)])
    b = np.concatenate([b, np.zeros(a.shape[1])])
    sol = lsq_linear(a, b, bounds=(0.0, 1.0), method="bvls").x
    weights = np.zeros(52)
    weights[cols] = np.clip(sol, 0.0, 1.0)
    return weights


def lift_to_canonical(points_xy: np.ndarray, depth: np.ndarray | float, scale: float, rot: np.ndarray,
                      trans: np.ndarray) -> np.ndarray:
    """Canonical 3D points ``[N, 3]`` that project (weak perspective) onto ``points_xy``.

    ``points_xy``: ``[N, 2]`` camera-frame x, y (pixels, y up); ``depth``: the canonical
    z of each point (``[N]`` or a scalar). Solves ``(s R P + t)_xy = point`` for P's x, y.
    """
    depth = np.broadcast_to(np.asarray(depth, np.float64), (len(points_xy),))
    u = (points_xy - trans[:2]) / scale - depth[:, None] * rot[:2, 2]
    xy = np.linalg.solve(rot[:2, :2], u.T).T
    return np.concatenate([xy, depth[:, None]], 1)


def fit_pose_and_expression(points: np.ndarray, basis: HeadBasis | None = None, iterations: int = 3) -> PoseFit:
    """Fit pose and ARKit weights to camera-frame landmarks ``[478, 3]`` (pixels)."""
    basis = basis or head_basis()
    rigid = basis.rigidity
    weights = np.zeros(52)
    scale, rot, trans = similarity_align(basis.neutral, points, rigid)
    for _ in range(iterations):
        scale, rot, trans = refine_pose(basis.shape(weights), points, rigid, scale, rot, trans)
        weights = fit_expression(points, scale, rot, trans, basis)
    scale, rot, trans = refine_pose(basis.shape(weights), points, rigid, scale, rot, trans)
    model = basis.shape(weights)
    # The person's own face in the canonical frame: image-plane evidence, model depth
    # (MediaPipe's depth is too flat and noisy to render rotations from).
    shape = lift_to_canonical(points[:, :2], model[:, 2], scale, rot, trans)
    model_px = scale * basis.shape(weights) @ rot.T + trans
    err = np.sum((model_px - points)[:, :2] ** 2, axis=1)
    rms = float(np.sqrt((rigid * err).sum() / rigid.sum()) / scale)
    return PoseFit(rot, scale, trans, weights, shape, rms)

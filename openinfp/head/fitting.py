"""Fitting head pose and ARKit weights to 3D face landmarks.

Model: ``X_i = s * R @ (N_i + sum_k w_k B_ki) + t`` for landmarks ``X`` in the camera
frame (x right, y up, z towards the viewer; pixels), with the canonical neutral ``N`` and
basis ``B`` of :mod:`openinfp.head.basis`.

Which evidence is trusted for what was measured on renderings of the Anny head at known
angles (``scripts/build_head_basis.py --check-angles``): MediaPipe's image-plane (x, y)
landmarks follow a turn (yaw) and a roll almost fully (92-100 % of the true motion), but
follow a nod (pitch) only by about half (45-70 %: the network's landmarks stay close to
its mean face when the head tilts up or down), while its depth follows a nod more closely
and a turn less. So the fit is weak perspective in two steps: yaw, roll, scale and
translation from the image plane (``POSE_Z_WEIGHT``), then the nod angle alone re-fitted
with depth at full weight (``PITCH_Z_WEIGHT``), keeping yaw and roll. Pose starts from a
weighted similarity (Umeyama) alignment on the rigid part of the face, then Gauss-Newton
steps. Expression: bounded linear least squares (small ridge) on the landmarks in the
camera frame (depth at ``EXPR_Z_WEIGHT``), with the chin's skin landmarks left out (they
follow MediaPipe's mean face more than the image: the lips decide how far the jaw
opened) and room above 1 inside the fit (weights are clipped to [0, 1] afterwards). The
two alternate a few times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.optimize import lsq_linear

from openinfp.head.basis import HeadBasis, head_basis

POSE_Z_WEIGHT = 0.0
"""Weight of MediaPipe's depth residuals in the yaw/roll/scale/translation fit (relative to
x, y): none, as its depth under-reads turns (70 % of the true depth change on the Anny
renderings) while x follows them (92-98 %)."""
PITCH_Z_WEIGHT = 1.0
"""Weight of MediaPipe's depth residuals when the nod angle is re-fitted: equal to x, y
(its image-plane landmarks move only about half as much as a nod moves the face)."""
EXPR_Z_WEIGHT = 0.15
"""Weight of MediaPipe's depth residuals in the expression fit (the image plane is more
reliable for lips and lids)."""
RIDGE = 0.15
"""L2 penalty on each weight relative to its column's norm (a shape alone is shrunk by
only ~2 %, but near-collinear combinations are kept from fighting each other). Larger
values (0.3-0.6) raise the closed-loop jawOpen correlation by about 0.02 but bias mixed
expressions on exact landmarks (a one-sided smile of 0.5 reads 0.3), so it stays small."""
SECONDARY_RIDGE = 30.0
"""Extra ridge factor for the shapes whose landmark signature overlaps a primary one
(e.g. ``mouthLowerDown`` vs ``jawOpen``), so the primary shape explains the motion."""
SECONDARY = ("mouthClose", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
             "mouthStretchLeft", "mouthStretchRight", "mouthDimpleLeft", "mouthDimpleRight", "mouthPressLeft",
             "mouthPressRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
             "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight", "jawForward", "cheekPuff",
             "mouthFrownLeft", "mouthFrownRight", "eyeSquintLeft", "eyeSquintRight")
EXPR_OUTLINE_WEIGHT = 0.1
"""Weight of the face-outline landmarks in the expression fit. MediaPipe puts the outline
on the silhouette, and on a dropped jaw its chin moves only about half as far as the lower
lip says it should (measured on the closed loop), so the lips and lids decide."""
EXPR_CHIN_WEIGHT = 0.0
"""Weight of the chin's skin landmarks (see :func:`chin_skin_landmarks`) in the expression
fit. On an open jaw MediaPipe moves them only 50 % (rendered portraits) to 77 % (renderings
of the Anny head) as far as the jaw moved them, while the lip contour, which lies on sharp
colour edges, follows 77-87 %; with those ~90 points in the fit the jaw read a third to a
half of its value and pose changes leaked into it (closed-loop jawOpen r 0.90-0.95), left
out it reads two thirds (r 0.95-0.97, docs/HEAD.md)."""
CHIN_MIN_MOTION = 0.05
"""Canonical units (IOD): in-plane jawOpen displacement from which a skin landmark counts as chin."""
CHIN_ABOVE_CORNERS = 0.1
"""Canonical units (IOD): how far above the mouth corners the chin region reaches (the
cheeks above carry a smile and stay in the fit)."""
EXPR_UPPER_BOUND = 1.5
"""Upper bound of each weight inside the fit; results are clipped to 1 afterwards. A
person's own expression can exceed the Anny target (the astronaut's neutral face reads a
smile of 0.94): with a hard bound at 1 a stronger smile had to be explained by other
shapes (a closing jaw), which the headroom avoids."""
UNOBSERVABLE = ("tongueOut",)
"""Shapes with no landmark signature (always fitted as 0)."""
_POSE_W = np.array([1.0, 1.0, POSE_Z_WEIGHT])
_PITCH_W = np.array([1.0, 1.0, PITCH_Z_WEIGHT])
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


def refine_pitch(model: np.ndarray, points: np.ndarray, weights: np.ndarray, scale: float, rot: np.ndarray,
                 trans: np.ndarray, steps: int = 6) -> tuple[float, np.ndarray, np.ndarray]:
    """Gauss-Newton on the nod angle (with scale and translation), yaw and roll held.

    The rotation is read as ``R = Ry(yaw) Rx(pitch) Rz(roll)`` (the order of
    :func:`openinfp.core.rotations.euler_ypr_to_matrix`); changing the pitch by ``d``
    turns ``R`` by ``d`` about the camera-frame axis ``a = R Rz(roll)^T e_x`` (the head's
    ear-to-ear axis after its roll is undone). Residuals weighted by ``_PITCH_W`` per axis.
    ``model``/``points`` ``[N, 3]``; returns the refined ``(s, R, t)``.
    """
    sw = np.sqrt(weights)[:, None] * _PITCH_W[None, :]  # [N, 3]
    for _ in range(steps):
        roll = np.arctan2(rot[1, 0], rot[1, 1])
        axis = rot @ np.array([np.cos(roll), -np.sin(roll), 0.0])
        q = model @ rot.T
        resid = (scale * q + trans - points) * sw
        jac = np.concatenate([scale * np.cross(axis, q)[:, :, None], scale * q[:, :, None],
                              np.broadcast_to(np.eye(3), (len(q), 3, 3))], 2) * sw[..., None]  # [N, 3, 5]
        delta = np.linalg.lstsq(jac.reshape(-1, 5), -resid.reshape(-1), rcond=None)[0]
        rot = _exp_so3(delta[0] * axis) @ rot
        scale *= float(np.exp(delta[1]))
        trans = trans + delta[2:]
        if np.abs(delta).max() < 1e-7:
            break
    return scale, rot, trans


@lru_cache(maxsize=1)
def _fitted_columns() -> np.ndarray:
    from openinfp.core.arkit import ARKIT_NAMES

    return np.array([n not in UNOBSERVABLE for n in ARKIT_NAMES])


@lru_cache(maxsize=1)
def chin_skin_landmarks() -> tuple[int, ...]:
    """Skin landmarks of the chin and lower cheeks: the mesh points (not lips, not irises)
    that ``jawOpen`` moves in the image plane by more than ``CHIN_MIN_MOTION`` and that lie
    below ``CHIN_ABOVE_CORNERS`` over the mouth corners (from the shipped basis)."""
    from openinfp.core.arkit import arkit_index
    from openinfp.head.landmarks import IRIS, LIPS_INNER, LIPS_OUTER, MOUTH_CORNERS, NUM_LANDMARKS

    basis = head_basis()
    motion = np.linalg.norm(basis.basis[arkit_index("jawOpen"), :, :2], axis=1)
    top = basis.neutral[list(MOUTH_CORNERS), 1].mean() + CHIN_ABOVE_CORNERS
    skip = set(LIPS_INNER) | set(LIPS_OUTER) | set(IRIS)
    return tuple(i for i in range(NUM_LANDMARKS)
                 if i not in skip and motion[i] > CHIN_MIN_MOTION and basis.neutral[i, 1] < top)


@lru_cache(maxsize=1)
def _expression_row_weights() -> np.ndarray:
    """``[478 * 3]`` square-root weights of the expression residuals (landmark x axis)."""
    from openinfp.head.landmarks import FACE_OVAL, NUM_LANDMARKS

    per_landmark = np.ones(NUM_LANDMARKS)
    per_landmark[list(FACE_OVAL)] = EXPR_OUTLINE_WEIGHT
    chin = list(chin_skin_landmarks())
    per_landmark[chin] = np.minimum(per_landmark[chin], EXPR_CHIN_WEIGHT)
    return (np.sqrt(per_landmark)[:, None] * _EXPR_W[None, :]).reshape(-1)


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
    rows = _expression_row_weights()
    a = scale * np.einsum("ij,knj->nik", rot, basis.basis[cols]).reshape(-1, cols.sum()) * rows[:, None]
    b = (points - (scale * basis.neutral @ rot.T + trans)).reshape(-1) * rows
    lam = RIDGE * np.linalg.norm(a, axis=0) * _ridge_scale()
    a = np.vstack([a, np.diag(lam)])
    b = np.concatenate([b, np.zeros(a.shape[1])])
    sol = lsq_linear(a, b, bounds=(0.0, EXPR_UPPER_BOUND), method="bvls").x
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


def _refine(model: np.ndarray, points: np.ndarray, weights: np.ndarray, scale: float, rot: np.ndarray,
            trans: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Yaw, roll, scale, translation from the image plane, then the nod with depth."""
    scale, rot, trans = refine_pose(model, points, weights, scale, rot, trans)
    return refine_pitch(model, points, weights, scale, rot, trans)


def fit_pose_and_expression(points: np.ndarray, basis: HeadBasis | None = None, iterations: int = 3) -> PoseFit:
    """Fit pose and ARKit weights to camera-frame landmarks ``[478, 3]`` (pixels)."""
    basis = basis or head_basis()
    rigid = basis.rigidity
    weights = np.zeros(52)
    scale, rot, trans = similarity_align(basis.neutral, points, rigid)
    for _ in range(iterations):
        scale, rot, trans = _refine(basis.shape(weights), points, rigid, scale, rot, trans)
        weights = fit_expression(points, scale, rot, trans, basis)
    scale, rot, trans = _refine(basis.shape(weights), points, rigid, scale, rot, trans)
    model = basis.shape(weights)
    # The person's own face in the canonical frame: image-plane evidence, model depth
    # (MediaPipe's depth is too flat and noisy to render rotations from).
    shape = lift_to_canonical(points[:, :2], model[:, 2], scale, rot, trans)
    model_px = scale * basis.shape(weights) @ rot.T + trans
    err = np.sum((model_px - points)[:, :2] ** 2, axis=1)
    rms = float(np.sqrt((rigid * err).sum() / rigid.sum()) / scale)
    return PoseFit(rot, scale, trans, weights, shape, rms)

"""Rotation conversions used by every motion space (torch, batched over leading dims).

Conventions (fixed project-wide):

* Camera/head frame: x to the viewer's right, y up, z towards the viewer.
* Matrices act on column vectors: ``v_world = R @ v_local``.
* 6D rotation (Zhou et al., CVPR 2019): the first two *columns* of ``R``,
  stored as ``[R[:, 0], R[:, 1]]`` -> shape ``[..., 6]``.
* Euler angles for heads are ``(yaw, pitch, roll)`` in radians with
  ``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)``. Positive yaw turns the nose towards +x
  (the viewer's right), positive pitch tilts the nose down, positive roll tilts the
  head towards the viewer's left shoulder... i.e. counter-clockwise as seen by the viewer.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

_EPS = 1e-8


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula. ``[..., 3]`` axis * angle (radians) -> ``[..., 3, 3]``."""
    angle = torch.linalg.norm(axis_angle, dim=-1, keepdim=True)  # [..., 1]
    axis = axis_angle / angle.clamp_min(_EPS)
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    # Skew-symmetric cross-product matrix K of the unit axis.
    k = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*x.shape, 3, 3)
    s = torch.sin(angle)[..., None]
    c = torch.cos(angle)[..., None]
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand(k.shape)
    return eye + s * k + (1.0 - c) * (k @ k)


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """``[..., 3, 3]`` -> unit quaternion ``[..., 4]`` as ``(w, x, y, z)`` with ``w >= 0``.

    Uses the numerically best-conditioned of the four standard formulas per element.
    """
    m = matrix
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    trace = m00 + m11 + m22
    # Candidate squared magnitudes of 4*w^2, 4*x^2, 4*y^2, 4*z^2.
    cand = torch.stack(
        [1.0 + trace, 1.0 + m00 - m11 - m22, 1.0 - m00 + m11 - m22, 1.0 - m00 - m11 + m22], dim=-1
    )
    best = cand.argmax(dim=-1)
    q_w = torch.stack(
        [1.0 + trace, m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]],
        dim=-1,
    )
    q_x = torch.stack(
        [m[..., 2, 1] - m[..., 1, 2], 1.0 + m00 - m11 - m22, m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0]],
        dim=-1,
    )
    q_y = torch.stack(
        [m[..., 0, 2] - m[..., 2, 0], m[..., 0, 1] + m[..., 1, 0], 1.0 - m00 + m11 - m22, m[..., 1, 2] + m[..., 2, 1]],
        dim=-1,
    )
    q_z = torch.stack(
        [m[..., 1, 0] - m[..., 0, 1], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1], 1.0 - m00 - m11 + m22],
        dim=-1,
    )
    options = torch.stack([q_w, q_x, q_y, q_z], dim=-2)  # [..., 4 (choice), 4 (wxyz)]
    idx = best[..., None, None].expand(*best.shape, 1, 4)
    q = options.gather(-2, idx).squeeze(-2)
    q = q / torch.linalg.norm(q, dim=-1, keepdim=True).clamp_min(_EPS)
    return torch.where(q[..., :1] < 0, -q, q)


def quaternion_to_axis_angle(quaternion: torch.Tensor) -> torch.Tensor:
    """``(w, x, y, z)`` ``[..., 4]`` -> axis-angle ``[..., 3]`` with angle in ``[0, pi]``."""
    q = torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)
    xyz = q[..., 1:]
    sin_half = torch.linalg.norm(xyz, dim=-1, keepdim=True)
    half = torch.atan2(sin_half, q[..., :1])
    angle = 2.0 * half
    # angle / sin(half) -> 2 as the angle -> 0 (small-angle limit).
    scale = torch.where(sin_half > 1e-6, angle / sin_half.clamp_min(_EPS), torch.full_like(angle, 2.0))
    return xyz * scale


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """``[..., 3, 3]`` -> axis-angle ``[..., 3]``."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def matrix_to_rot6d(matrix: torch.Tensor) -> torch.Tensor:
    """``[..., 3, 3]`` -> ``[..., 6]``: the first two columns, column-major."""
    return torch.cat([matrix[..., :, 0], matrix[..., :, 1]], dim=-1)


def rot6d_to_matrix(rot6d: torch.Tensor) -> torch.Tensor:
    """``[..., 6]`` -> ``[..., 3, 3]`` by Gram-Schmidt (works for unnormalised input)."""
    a1, a2 = rot6d[..., :3], rot6d[..., 3:]
    b1 = F.normalize(a1, dim=-1, eps=_EPS)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=_EPS)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def axis_angle_to_rot6d(axis_angle: torch.Tensor) -> torch.Tensor:
    """``[..., 3]`` -> ``[..., 6]``."""
    return matrix_to_rot6d(axis_angle_to_matrix(axis_angle))


def rot6d_to_axis_angle(rot6d: torch.Tensor) -> torch.Tensor:
    """``[..., 6]`` -> ``[..., 3]``."""
    return matrix_to_axis_angle(rot6d_to_matrix(rot6d))


def _rx(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(*a.shape, 3, 3)


def _ry(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(*a.shape, 3, 3)


def _rz(a: torch.Tensor) -> torch.Tensor:
    c, s, o, z = torch.cos(a), torch.sin(a), torch.ones_like(a), torch.zeros_like(a)
    return torch.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*a.shape, 3, 3)


def euler_ypr_to_matrix(ypr: torch.Tensor) -> torch.Tensor:
    """``[..., 3]`` (yaw, pitch, roll) radians -> ``[..., 3, 3]`` = Ry @ Rx @ Rz."""
    yaw, pitch, roll = ypr.unbind(-1)
    return _ry(yaw) @ _rx(pitch) @ _rz(roll)


def matrix_to_euler_ypr(matrix: torch.Tensor) -> torch.Tensor:
    """``[..., 3, 3]`` -> ``[..., 3]`` (yaw, pitch, roll) radians; inverse of
    :func:`euler_ypr_to_matrix` for ``|pitch| < pi/2``."""
    # R = Ry Rx Rz  =>  R[1,2] = -sin(pitch), R[0,2] = sin(yaw)cos(pitch),
    # R[2,2] = cos(yaw)cos(pitch), R[1,0] = cos(pitch)sin(roll), R[1,1] = cos(pitch)cos(roll)
    pitch = torch.asin((-matrix[..., 1, 2]).clamp(-1.0, 1.0))
    yaw = torch.atan2(matrix[..., 0, 2], matrix[..., 2, 2])
    roll = torch.atan2(matrix[..., 1, 0], matrix[..., 1, 1])
    return torch.stack([yaw, pitch, roll], dim=-1)

"""Conversions into and out of the ``smplx`` motion space.

* :func:`neutral_smplx_motion`: a body standing still (relaxed arms, or the T-pose).
* :func:`head_to_smplx`: lift ``head`` motion (head rotation + ARKit) onto a body: the
  head rotation is shared by the ``neck`` (40 %) and ``head`` (60 %) joints, the ARKit
  weights become the ``expression`` slice, the rest of the body stays neutral.
* :func:`smplx_to_axis_angle` / :func:`axis_angle_to_smplx`: the 55 joints as
  axis-angle ``[T, 55, 3]`` (the file boundary, e.g. BEAT2 ``poses``).

The jaw: ARKit ``jawOpen`` and the SMPL-X ``jaw`` joint describe the same thing. The
renderers combine them with a maximum (never a sum), using :data:`JAW_OPEN_ANGLE` as
the jaw pitch of ``jawOpen = 1``, so motion that sets both is not opened twice.
"""

from __future__ import annotations

import math
from typing import Optional

import torch

from openinfp.body.motion_space import (
    SMPLX_JOINTS,
    joint_rotmats,
    set_joint_rotations,
    smplx_motion_space,
    with_joint_rotmats,
)
from openinfp.core.errors import InputError
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    rot6d_to_matrix,
)

JAW_OPEN_ANGLE = 0.3
"""Jaw pitch (radians, about +x) that corresponds to ARKit ``jawOpen = 1``."""

NECK_SHARE = 0.4
"""Fraction of a head rotation taken by the ``neck`` joint (the ``head`` joint takes the rest)."""

_DEG = math.pi / 180.0


def _axis_rot(axis: int, angle: float) -> torch.Tensor:
    aa = torch.zeros(3)
    aa[axis] = angle
    return axis_angle_to_matrix(aa)


def relaxed_pose_rotmats() -> dict[str, torch.Tensor]:
    """Local rotations ``{joint: [3, 3]}`` of a relaxed standing pose: arms hanging
    65 degrees down from the T-pose with slightly bent elbows, fingers gently curled.
    Joints not named stay at identity."""
    pose: dict[str, torch.Tensor] = {}
    for side, sign in (("left", -1.0), ("right", 1.0)):
        # Shoulder: about z brings the arm down; a little about x brings it forward.
        pose[f"{side}_shoulder"] = _axis_rot(0, -8 * _DEG) @ _axis_rot(2, sign * 65 * _DEG)
        pose[f"{side}_elbow"] = _axis_rot(1, sign * 20 * _DEG)
        for finger in ("index", "middle", "pinky", "ring"):
            for k in (1, 2, 3):
                pose[f"{side}_{finger}{k}"] = _axis_rot(2, sign * 0.3)
        pose[f"{side}_thumb2"] = _axis_rot(1, -sign * 0.2)
    return pose


def neutral_smplx_motion(num_frames: int, fps: float = 25.0, pose: str = "relaxed") -> MotionSequence:
    """A body standing still for ``num_frames`` frames: ``[T, 385]`` ``smplx`` motion.

    Args:
        num_frames: T (at least 1).
        fps: frame rate.
        pose: ``"relaxed"`` (arms down, see :func:`relaxed_pose_rotmats`) or
            ``"tpose"`` (every rotation identity: the SMPL-X rest pose).
    """
    if num_frames < 1:
        raise InputError(f"neutral_smplx_motion: need at least one frame, got {num_frames}")
    space = smplx_motion_space()
    motion = space.neutral(num_frames)
    if pose == "relaxed":
        rots = {j: r.expand(num_frames, 3, 3) for j, r in relaxed_pose_rotmats().items()}
        motion = set_joint_rotations(motion, rots)
    elif pose != "tpose":
        raise InputError(f"neutral_smplx_motion: pose must be 'relaxed' or 'tpose', got {pose!r}")
    return MotionSequence(motion, space, fps)


def _fraction_of_rotation(rotmats: torch.Tensor, fraction: float) -> torch.Tensor:
    """``R ** fraction`` (same axis, scaled angle): ``[..., 3, 3]`` -> ``[..., 3, 3]``."""
    return axis_angle_to_matrix(fraction * matrix_to_axis_angle(rotmats))


def head_to_smplx(motion: MotionSequence, pose: str = "relaxed", neck_share: float = NECK_SHARE) -> MotionSequence:
    """Lift ``head`` motion onto an SMPL-X body.

    The ``head`` space's rotation is in the camera frame of a face looking at the
    camera, which is the SMPL-X frame of a body facing the camera, so it carries over
    unchanged as the head's rotation relative to the torso: ``neck`` gets the fraction
    ``neck_share`` of it and ``head`` the rest (same axis, so their product is exactly
    the head rotation). ARKit weights become ``expression``. Head translation and
    scale (image-plane quantities) are dropped. Annotations are kept.

    Args:
        motion: ``[T, 62]`` in the ``head`` space.
        pose: the body around the head: ``"relaxed"`` or ``"tpose"``.
        neck_share: part of the rotation taken by the neck joint, in [0, 1].

    Returns:
        ``[T, 385]`` ``smplx`` motion at the same fps.
    """
    if motion.space.name != "head":
        raise InputError(f"head_to_smplx needs 'head' motion, got {motion.space.name!r}")
    if not 0.0 <= neck_share <= 1.0:
        raise InputError(f"head_to_smplx: neck_share must be in [0, 1], got {neck_share}")
    T = motion.num_frames
    body = neutral_smplx_motion(T, motion.fps, pose)
    space = body.space
    head_rot = rot6d_to_matrix(motion.get("head_rotation"))  # [T, 3, 3]
    neck = _fraction_of_rotation(head_rot, neck_share)
    head = neck.transpose(-1, -2) @ head_rot
    out = set_joint_rotations(body.motion, {"neck": neck, "head": head})
    out = space.set(out, "expression", motion.get("arkit").clamp(0.0, 1.0))
    return MotionSequence(out, space, motion.fps, dict(motion.annotations))


def smplx_to_axis_angle(motion: torch.Tensor) -> torch.Tensor:
    """The 55 joint rotations as axis-angle: ``[..., 385]`` -> ``[..., 55, 3]``."""
    return matrix_to_axis_angle(joint_rotmats(motion))


def axis_angle_to_smplx(axis_angle: torch.Tensor, transl: Optional[torch.Tensor] = None,
                        expression: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Build ``smplx`` motion ``[T, 385]`` from ``[T, 55, 3]`` axis-angle (SMPL-X order),
    optional ``[T, 3]`` translation and ``[T, 52]`` ARKit weights (zeros if absent)."""
    if axis_angle.ndim != 3 or axis_angle.shape[1:] != (len(SMPLX_JOINTS), 3):
        raise InputError(f"axis_angle_to_smplx: expected [T, 55, 3] axis-angle, got {tuple(axis_angle.shape)}")
    space = smplx_motion_space()
    T = axis_angle.shape[0]
    motion = with_joint_rotmats(space.neutral(T), axis_angle_to_matrix(axis_angle.float()))
    if transl is not None:
        motion = space.set(motion, "transl", transl.float())
    if expression is not None:
        motion = space.set(motion, "expression", expression.float())
    return motion


def facing_yaw(global_rotmat: torch.Tensor) -> torch.Tensor:
    """Yaw (radians, about +y) of the direction a body faces: ``[..., 3, 3]`` root
    rotation -> ``[...]``. 0 = facing +z (the camera); positive turns towards +x."""
    forward = global_rotmat[..., :, 2]  # the root's +z axis in the world
    return torch.atan2(forward[..., 0], forward[..., 2])


def yaw_matrix(yaw: torch.Tensor | float) -> torch.Tensor:
    """Rotation about +y by ``yaw`` radians: ``[...]`` -> ``[..., 3, 3]``."""
    yaw = torch.as_tensor(yaw, dtype=torch.float32)
    aa = torch.stack([torch.zeros_like(yaw), yaw, torch.zeros_like(yaw)], dim=-1)
    return axis_angle_to_matrix(aa)


def jaw_open_amount(motion: torch.Tensor) -> torch.Tensor:
    """How far the mouth is open, in ARKit ``jawOpen`` units: the larger of the ARKit
    weight and the jaw joint's pitch / :data:`JAW_OPEN_ANGLE`. ``[..., 385]`` -> ``[...]``."""
    space = smplx_motion_space()
    arkit = space.get_component(motion, "expression", "jawOpen")
    jaw = rot6d_to_matrix(space.get(motion, "jaw"))
    return torch.maximum(arkit, jaw_pitch(jaw) / JAW_OPEN_ANGLE).clamp(0.0, 1.0)


def jaw_pitch(jaw: torch.Tensor) -> torch.Tensor:
    """Opening angle (>= 0) of a jaw rotation ``[..., 3, 3]``: how far it turns the
    chin direction (+z) downwards about the x axis."""
    chin = jaw[..., :, 2]  # rotated +z
    return torch.atan2(-chin[..., 1], chin[..., 2]).clamp_min(0.0)

"""Forward kinematics over the SMPL-X joint tree, with a generic rest skeleton.

No model files are needed: :func:`generic_rest_joints` is a hand-made neutral adult
(about 1.72 m) in the SMPL-X rest T-pose, written for this project from ordinary body
proportions. It is *not* the SMPL-X template; with a user's SMPL-X model the joints
come from that model instead (see :mod:`openinfp.body.smplx_model`).

Frame (the SMPL-X canonical frame, shared with the ``head`` space): x is the body's
left (the viewer's right when the body faces the camera), y up, z forward (towards
the camera). Metres. The pelvis of the generic skeleton sits at the origin.

Conventions of :func:`forward_kinematics` (those of SMPL-X): each joint's local
rotation ``R_j`` is relative to its parent; the global rotation is
``G_j = G_parent @ R_j``; a joint's position is
``p_j = p_parent + G_parent @ (rest_j - rest_parent)``; the root rotates about its own
rest position and then ``transl`` is added.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional, Sequence

import torch

from openinfp.body.motion_space import SMPLX_JOINTS, joint_position

SMPLX_PARENTS: tuple[int, ...] = (
    -1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19,  # pelvis .. right_wrist
    15, 15, 15,  # jaw, left eye, right eye hang from the head
    *(20, 25, 26, 20, 28, 29, 20, 31, 32, 20, 34, 35, 20, 37, 38),  # left hand from left_wrist
    *(21, 40, 41, 21, 43, 44, 21, 46, 47, 21, 49, 50, 21, 52, 53),  # right hand from right_wrist
)
"""Parent of every joint in :data:`SMPLX_JOINTS` (the SMPL-X kinematic tree; root: -1)."""
assert len(SMPLX_PARENTS) == len(SMPLX_JOINTS)

# Generic rest joints of the left side and the midline (metres, T-pose, pelvis at 0).
# The right side mirrors the left (x -> -x).
_LEFT_AND_MIDLINE: dict[str, tuple[float, float, float]] = {
    "pelvis": (0.0, 0.0, 0.0),
    "left_hip": (0.058, -0.085, -0.005),
    "spine1": (0.0, 0.11, -0.02),
    "left_knee": (0.10, -0.47, 0.005),
    "spine2": (0.0, 0.24, -0.01),
    "left_ankle": (0.09, -0.87, -0.035),
    "spine3": (0.0, 0.30, 0.01),
    "left_foot": (0.115, -0.925, 0.085),
    "neck": (0.0, 0.51, -0.02),
    "left_collar": (0.075, 0.42, -0.01),
    "head": (0.0, 0.60, 0.01),
    "left_shoulder": (0.17, 0.44, -0.02),
    "left_elbow": (0.43, 0.43, -0.04),
    "left_wrist": (0.68, 0.43, -0.035),
    "jaw": (0.0, 0.615, 0.015),
    "left_eye_smplhf": (0.032, 0.675, 0.085),
    # fingers: T-pose, palm down, thumb on the forward (+z) side
    "left_index1": (0.775, 0.435, 0.0), "left_index2": (0.815, 0.434, 0.003), "left_index3": (0.84, 0.433, 0.004),
    "left_middle1": (0.78, 0.436, -0.022), "left_middle2": (0.825, 0.435, -0.022),
    "left_middle3": (0.853, 0.434, -0.022),
    "left_pinky1": (0.765, 0.428, -0.062), "left_pinky2": (0.792, 0.427, -0.066),
    "left_pinky3": (0.81, 0.426, -0.068),
    "left_ring1": (0.775, 0.432, -0.043), "left_ring2": (0.815, 0.431, -0.045), "left_ring3": (0.84, 0.43, -0.046),
    "left_thumb1": (0.71, 0.42, 0.005), "left_thumb2": (0.735, 0.415, 0.03), "left_thumb3": (0.76, 0.41, 0.045),
}

# End sites: points past the leaf joints, so every leaf has a direction and a length
# (head top, chin, toes, finger tips, a point in front of each eye).
_END_SITES_LEFT_AND_MIDLINE: dict[str, tuple[str, tuple[float, float, float]]] = {
    "head_top": ("head", (0.0, 0.80, 0.0)),
    "chin": ("jaw", (0.0, 0.565, 0.10)),
    "left_eye_front": ("left_eye_smplhf", (0.032, 0.675, 0.11)),
    "left_toe": ("left_foot", (0.12, -0.93, 0.15)),
    "left_index_tip": ("left_index3", (0.862, 0.432, 0.005)),
    "left_middle_tip": ("left_middle3", (0.877, 0.433, -0.022)),
    "left_pinky_tip": ("left_pinky3", (0.828, 0.425, -0.07)),
    "left_ring_tip": ("left_ring3", (0.862, 0.429, -0.047)),
    "left_thumb_tip": ("left_thumb3", (0.785, 0.405, 0.058)),
}


def _mirror(name: str) -> str:
    return "right_" + name[len("left_"):] if name.startswith("left_") else name


def _mirror_point(p: Sequence[float]) -> tuple[float, float, float]:
    return (-p[0], p[1], p[2])


@lru_cache(maxsize=1)
def _rest_table() -> dict[str, tuple[float, float, float]]:
    table = dict(_LEFT_AND_MIDLINE)
    for name, p in _LEFT_AND_MIDLINE.items():
        if name.startswith("left_"):
            table[_mirror(name)] = _mirror_point(p)
    missing = set(SMPLX_JOINTS) - set(table)
    assert not missing, missing
    return table


@lru_cache(maxsize=1)
def _end_site_table() -> dict[str, tuple[str, tuple[float, float, float]]]:
    table = dict(_END_SITES_LEFT_AND_MIDLINE)
    for name, (parent, p) in _END_SITES_LEFT_AND_MIDLINE.items():
        if name.startswith("left_"):
            table[_mirror(name)] = (_mirror(parent), _mirror_point(p))
    return table


END_SITES: tuple[str, ...] = tuple(_end_site_table())
"""Names of the end sites (points past the leaf joints), in a fixed order."""


def end_site_parents() -> tuple[int, ...]:
    """Joint index (in :data:`SMPLX_JOINTS`) each end site hangs from."""
    table = _end_site_table()
    return tuple(joint_position(table[name][0]) for name in END_SITES)


def generic_rest_joints(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The generic rest skeleton: ``[55, 3]`` joint positions in SMPL-X order (metres)."""
    table = _rest_table()
    return torch.tensor([table[name] for name in SMPLX_JOINTS], dtype=dtype)


def generic_end_sites(dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Rest positions of :data:`END_SITES`: ``[E, 3]`` (metres)."""
    table = _end_site_table()
    return torch.tensor([table[name][1] for name in END_SITES], dtype=dtype)


def forward_kinematics(
    local_rotmats: torch.Tensor,
    rest_joints: Optional[torch.Tensor] = None,
    transl: Optional[torch.Tensor] = None,
    parents: Sequence[int] = SMPLX_PARENTS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Posed joint positions and global rotations.

    Args:
        local_rotmats: ``[..., J, 3, 3]`` rotations relative to the parent (J = 55).
        rest_joints: ``[J, 3]`` or ``[..., J, 3]`` rest positions; the generic
            skeleton when ``None``.
        transl: optional ``[..., 3]`` root translation added to every joint.
        parents: parent index per joint, parents before children (root: -1).

    Returns:
        ``(joints [..., J, 3], global_rotmats [..., J, 3, 3])``.
    """
    if rest_joints is None:
        rest_joints = generic_rest_joints(local_rotmats.dtype).to(local_rotmats.device)
    rest_joints = rest_joints.to(local_rotmats)
    num = local_rotmats.shape[-3]
    if len(parents) != num or rest_joints.shape[-2] != num:
        raise ValueError(f"forward_kinematics: {num} rotations, {len(parents)} parents, "
                         f"{rest_joints.shape[-2]} rest joints")
    batch = local_rotmats.shape[:-3]
    rest = rest_joints.expand(*batch, num, 3)
    rots: list[torch.Tensor] = []
    pos: list[torch.Tensor] = []
    for j, p in enumerate(parents):
        if p < 0:
            rots.append(local_rotmats[..., j, :, :])
            pos.append(rest[..., j, :])
        else:
            if p >= j:
                raise ValueError("forward_kinematics: parents must come before their children")
            offset = rest[..., j, :] - rest[..., p, :]
            pos.append(pos[p] + (rots[p] @ offset[..., None])[..., 0])
            rots.append(rots[p] @ local_rotmats[..., j, :, :])
    joints = torch.stack(pos, dim=-2)
    global_rotmats = torch.stack(rots, dim=-3)
    if transl is not None:
        joints = joints + transl[..., None, :].to(joints)
    return joints, global_rotmats


def end_site_positions(joints: torch.Tensor, global_rotmats: torch.Tensor,
                       rest_joints: Optional[torch.Tensor] = None,
                       rest_end_sites: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Posed end sites ``[..., E, 3]`` from posed joints ``[..., 55, 3]`` and their
    global rotations ``[..., 55, 3, 3]`` (each end site moves rigidly with its joint)."""
    if rest_joints is None:
        rest_joints = generic_rest_joints(joints.dtype)
    if rest_end_sites is None:
        rest_end_sites = generic_end_sites(joints.dtype)
    idx = list(end_site_parents())
    offsets = rest_end_sites.to(joints) - rest_joints.to(joints)[idx]  # [E, 3]
    return joints[..., idx, :] + (global_rotmats[..., idx, :, :] @ offsets[..., None])[..., 0]


def bone_pairs(include_end_sites: bool = True) -> list[tuple[int, int]]:
    """Bones as ``(start, end)`` point indices into ``cat([joints, end_sites])``:
    every parent->child joint pair, then each leaf joint -> its end site."""
    pairs = [(p, j) for j, p in enumerate(SMPLX_PARENTS) if p >= 0]
    if include_end_sites:
        num = len(SMPLX_JOINTS)
        pairs += [(p, num + e) for e, p in enumerate(end_site_parents())]
    return pairs


def rest_height_landmarks(joints: torch.Tensor, top: float, bottom: float) -> dict[str, float]:
    """Heights used to frame a camera, relative to the pelvis, from rest joints ``[55, 3]``
    and the body's top/bottom heights (e.g. head top and soles)."""
    pelvis = float(joints[joint_position("pelvis"), 1])
    return {
        "head": float(joints[joint_position("head"), 1]) - pelvis,
        "eyes": float(joints[joint_position("left_eye_smplhf"), 1]) - pelvis,
        "top": top - pelvis,
        "bottom": bottom - pelvis,
    }

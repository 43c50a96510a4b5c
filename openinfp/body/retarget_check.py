"""Checks of the Anny retargeting: how far Anny's posed bones point from SMPL-X's.

:func:`bone_direction_errors` measures, for a batch of SMPL-X motions, the angle between
every SMPL-X segment and the Anny bones retargeted onto it (docs/BODY.md reports the
figures); :func:`random_test_poses` draws plausible poses to measure them on. Kept apart
from :mod:`openinfp.body.anny_body`, which rendering imports, because only tests and
evaluation need them.
"""

from __future__ import annotations

import torch

from openinfp.body.anny_body import ANNY_CORRESPONDENCE, ANNY_TO_SMPLX, AnnyBody
from openinfp.body.motion_space import SMPLX_JOINTS, joint_rotmats, smplx_motion_space
from openinfp.body.skeleton import END_SITES, forward_kinematics, generic_rest_joints


def _limb_segments(side: str) -> list[tuple[str, str, str, str]]:
    s = "L" if side == "left" else "R"
    segs = [
        ("hip", "knee", "upperleg01", "lowerleg01"), ("knee", "ankle", "lowerleg01", "foot"),
        ("collar", "shoulder", "clavicle", "upperarm01"), ("shoulder", "elbow", "upperarm01", "lowerarm01"),
        ("elbow", "wrist", "lowerarm01", "wrist"),
    ]
    for anny_finger, finger in ((1, "thumb"), (2, "index"), (3, "middle"), (4, "ring"), (5, "pinky")):
        segs += [(f"{finger}1", f"{finger}2", f"finger{anny_finger}-1", f"finger{anny_finger}-2"),
                 (f"{finger}2", f"{finger}3", f"finger{anny_finger}-2", f"finger{anny_finger}-3")]
    return [(f"{side}_{a}", f"{side}_{b}", f"{x}.{s}", f"{y}.{s}") for a, b, x, y in segs]


JOINT_SEGMENTS: tuple[tuple[str, str, str, str], ...] = (
    ("pelvis", "spine1", "root", "spine04"), ("spine1", "spine2", "spine04", "spine02"),
    ("spine2", "spine3", "spine02", "spine01"), ("spine3", "neck", "spine01", "neck01"),
    ("neck", "head", "neck01", "head"),
    *_limb_segments("left"), *_limb_segments("right"),
)
"""Joint-to-joint segments ``(smplx a, smplx b, anny bone a, anny bone b)``: the
SMPL-X segment a -> b and the Anny segment between the heads of the two bones."""


def bone_direction_errors(body: AnnyBody, motion: torch.Tensor) -> dict[str, torch.Tensor]:
    """Angles (degrees) between SMPL-X and retargeted Anny directions over ``[T, 385]`` motion.

    Returns:
        ``segments``: ``[T, S]`` for :data:`JOINT_SEGMENTS` (Anny's posed bone heads,
        as skinned by Anny's own kinematics, against the SMPL-X skeleton's joints);
        ``bones``: ``[T, N]`` for every Anny bone with an alignment target (its posed
        axis against its SMPL-X segment).
    """
    from anny.utils.kinematics import forward_kinematic

    from openinfp.body.skeleton import end_site_positions

    space = smplx_motion_space()
    motion = motion.float()
    joints, grot = forward_kinematics(joint_rotmats(motion), generic_rest_joints(), space.get(motion, "transl"))
    ends = end_site_positions(joints, grot)
    points = torch.cat([joints, ends], dim=1)
    names = list(SMPLX_JOINTS) + list(END_SITES)
    _, _, heads = body.pose(motion, return_bones=True)

    def angle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        cos = (torch.nn.functional.normalize(u, dim=-1) * torch.nn.functional.normalize(v, dim=-1)).sum(-1)
        return torch.rad2deg(torch.acos(cos.clamp(-1.0, 1.0)))

    seg_smplx = torch.stack([points[:, names.index(b)] - points[:, names.index(a)] for a, b, _, _ in JOINT_SEGMENTS], 1)
    seg_anny = torch.stack([heads[:, body.bone(y)] - heads[:, body.bone(x)] for _, _, x, y in JOINT_SEGMENTS], 1)
    # Bone axes: Anny's posed bone orientation (its local +y) from its own kinematics.
    T = motion.shape[0]
    delta = torch.zeros(T, len(body.bone_labels), 4, 4)
    delta[..., :3, :3] = body.bone_world_rotations(grot)
    delta[..., 3, 3] = 1.0
    _, poses = forward_kinematic(body.chain, body.rest_bone_poses.expand(T, -1, -1, -1), delta, "world-orient")
    axes = poses[:, :, :3, 1] @ ANNY_TO_SMPLX.T  # [T, B, 3]
    aligned = [(bone, joint, end) for bone, joint, end in ANNY_CORRESPONDENCE if end is not None]
    bone_smplx = torch.stack([points[:, names.index(end)] - points[:, names.index(joint)]
                              for _, joint, end in aligned], 1)
    bone_anny = torch.stack([axes[:, body.bone(bone)] for bone, _, _ in aligned], 1)
    return {"segments": angle(seg_smplx, seg_anny), "bones": angle(bone_smplx, bone_anny)}


def random_test_poses(num: int, seed: int = 0) -> torch.Tensor:
    """``[num, 385]`` plausible random poses for retargeting checks: every joint turned
    about a random axis by up to 25 degrees (spine, neck, head), 60 (limbs, collars,
    eyes: 20) or 45 (fingers), plus a random root orientation and translation."""
    from openinfp.body.motion_space import with_joint_rotmats
    from openinfp.core.rotations import axis_angle_to_matrix

    gen = torch.Generator().manual_seed(seed)
    limits = []
    for name in SMPLX_JOINTS:
        if name == "pelvis":
            limits.append(180.0)
        elif name.startswith("spine") or name in ("neck", "head", "jaw"):
            limits.append(25.0)
        elif "eye" in name:
            limits.append(20.0)
        elif any(f in name for f in ("index", "middle", "ring", "pinky", "thumb")):
            limits.append(45.0)
        else:
            limits.append(60.0)
    axis = torch.nn.functional.normalize(torch.randn(num, len(SMPLX_JOINTS), 3, generator=gen), dim=-1)
    angle = torch.rand(num, len(SMPLX_JOINTS), 1, generator=gen) * torch.deg2rad(torch.tensor(limits))[:, None]
    space = smplx_motion_space()
    motion = with_joint_rotmats(space.neutral(num), axis_angle_to_matrix(axis * angle))
    return space.set(motion, "transl", 0.3 * torch.randn(num, 3, generator=gen))

"""The ``smplx`` motion space: 55 SMPL-X joint rotations, root translation, ARKit face.

The rotation slices, concatenated in order, are exactly the SMPL-X joint order
(global orient, 21 body joints, jaw, left eye, right eye, 15 left-hand, 15 right-hand
joints), so converting to the BEAT2/EMAGE ``poses`` array (T x 165 axis-angle) is a
per-joint conversion with no reordering. D = 55 * 6 + 3 + 52 = 385.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from openinfp.core.motion_space import MotionSlice, MotionSpace, rotation_slice
from openinfp.core.rotations import matrix_to_rot6d, rot6d_to_matrix
from openinfp.head.motion_space import arkit_slice

SMPLX_SPACE_NAME = "smplx"

SMPLX_BODY_JOINTS: tuple[str, ...] = (
    "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
_FINGERS = ("index", "middle", "pinky", "ring", "thumb")
SMPLX_LEFT_HAND_JOINTS: tuple[str, ...] = tuple(f"left_{f}{i}" for f in _FINGERS for i in (1, 2, 3))
SMPLX_RIGHT_HAND_JOINTS: tuple[str, ...] = tuple(f"right_{f}{i}" for f in _FINGERS for i in (1, 2, 3))

SMPLX_JOINTS: tuple[str, ...] = (
    ("pelvis",) + SMPLX_BODY_JOINTS + ("jaw", "left_eye_smplhf", "right_eye_smplhf")
    + SMPLX_LEFT_HAND_JOINTS + SMPLX_RIGHT_HAND_JOINTS
)
"""All 55 SMPL-X joints in SMPL-X order."""
assert len(SMPLX_JOINTS) == 55


@lru_cache(maxsize=1)
def smplx_motion_space() -> MotionSpace:
    """The built-in ``smplx`` space (cached; immutable)."""
    return MotionSpace(
        name=SMPLX_SPACE_NAME,
        description="55 SMPL-X joints (6D) + root translation + ARKit-52 face",
        slices=(
            rotation_slice("global_orient", ["pelvis"], "root orientation"),
            rotation_slice("body", SMPLX_BODY_JOINTS, "21 body joints, SMPL-X order"),
            rotation_slice("jaw", ["jaw"], "jaw joint"),
            rotation_slice("eyes", ["left_eye_smplhf", "right_eye_smplhf"], "eyeballs"),
            rotation_slice("left_hand", SMPLX_LEFT_HAND_JOINTS, "15 left-hand joints"),
            rotation_slice("right_hand", SMPLX_RIGHT_HAND_JOINTS, "15 right-hand joints"),
            MotionSlice("transl", 3, "metre", ("x", "y", "z"), (0.0, 0.0, 0.0), description="root translation"),
            arkit_slice("expression"),
        ),
        groups=(
            ("face", ("jaw", "eyes", "expression")),
            ("hands", ("left_hand", "right_hand")),
            ("rotations", ("global_orient", "body", "jaw", "eyes", "left_hand", "right_hand")),
        ),
        file_reader=read_beat2_arrays,
    )


def read_beat2_arrays(arrays: dict, where: str):
    """A BEAT2/EMAGE/AMASS SMPL-X ``.npz`` (``poses`` T x 165, ...) as ``smplx`` motion;
    ``None`` for arrays in another layout (see ``MotionSpace.file_reader``)."""
    if "motion" in arrays or "poses" not in arrays:
        return None
    from openinfp.body.beat2 import motion_from_beat2_arrays  # lazy: beat2 builds on this module

    return motion_from_beat2_arrays(arrays, f"{where} (BEAT2 layout)")


# --------------------------------------------------------------------------------------
# Joint-level access: named joints and joint groups instead of index slices
# --------------------------------------------------------------------------------------

ROTATION_SLICES: tuple[str, ...] = ("global_orient", "body", "jaw", "eyes", "left_hand", "right_hand")
"""The rotation slices in order; concatenated they hold the 55 joints in SMPL-X order."""

SMPLX_JOINT_GROUPS: dict[str, tuple[str, ...]] = {
    "root": ("pelvis",),
    "lower_body": ("left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
                   "left_foot", "right_foot"),
    "upper_body": ("spine1", "spine2", "spine3", "neck", "left_collar", "right_collar", "head",
                   "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist"),
    "arms": ("left_collar", "right_collar", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
             "left_wrist", "right_wrist"),
    "head": ("neck", "head"),
    "hands": SMPLX_LEFT_HAND_JOINTS + SMPLX_RIGHT_HAND_JOINTS,
    "left_hand": SMPLX_LEFT_HAND_JOINTS,
    "right_hand": SMPLX_RIGHT_HAND_JOINTS,
    "face": ("jaw", "left_eye_smplhf", "right_eye_smplhf"),
}
"""Named groups of SMPL-X joints (for losses, masks and retargeting). ``face`` masks
also take the ``expression`` slice (see :func:`joint_group_mask`)."""

_JOINT_POSITION = {name: i for i, name in enumerate(SMPLX_JOINTS)}


def joint_group(name: str) -> tuple[str, ...]:
    """Joint names of a group in :data:`SMPLX_JOINT_GROUPS` (``KeyError`` naming the groups)."""
    try:
        return SMPLX_JOINT_GROUPS[name]
    except KeyError:
        raise KeyError(f"unknown SMPL-X joint group {name!r}; groups: {', '.join(SMPLX_JOINT_GROUPS)}") from None


def joint_position(joint: str) -> int:
    """Position of ``joint`` in :data:`SMPLX_JOINTS` (the SMPL-X joint order)."""
    try:
        return _JOINT_POSITION[joint]
    except KeyError:
        raise KeyError(f"unknown SMPL-X joint {joint!r}") from None


def joint_slice(joint: str) -> str:
    """Name of the rotation slice that holds ``joint`` (e.g. ``"left_elbow"`` -> ``"body"``)."""
    space = smplx_motion_space()
    for name in ROTATION_SLICES:
        if f"{joint}.r6d0" in space.part(name).component_names:
            return name
    raise KeyError(f"unknown SMPL-X joint {joint!r}")


def joint_group_mask(group: str, with_expression: bool = True) -> torch.Tensor:
    """Bool ``[385]`` selecting the 6D rotations of the joints in ``group`` (and, for
    ``face`` with ``with_expression``, the ARKit ``expression`` slice)."""
    space = smplx_motion_space()
    mask = torch.zeros(space.dim, dtype=torch.bool)
    for joint in joint_group(group):
        part = joint_slice(joint)
        for i in range(6):
            mask[space.component_index(part, f"{joint}.r6d{i}")] = True
    if group == "face" and with_expression:
        mask[space.index("expression")] = True
    return mask


def joint_rot6d(motion: torch.Tensor) -> torch.Tensor:
    """The 55 joint rotations in SMPL-X order: ``[..., 385]`` -> ``[..., 55, 6]``."""
    space = smplx_motion_space()
    flat = torch.cat([space.get(motion, name) for name in ROTATION_SLICES], dim=-1)
    return flat.reshape(*flat.shape[:-1], len(SMPLX_JOINTS), 6)


def joint_rotmats(motion: torch.Tensor) -> torch.Tensor:
    """Local joint rotation matrices (relative to the parent, SMPL-X convention):
    ``[..., 385]`` -> ``[..., 55, 3, 3]``."""
    return rot6d_to_matrix(joint_rot6d(motion))


def with_joint_rot6d(motion: torch.Tensor, rot6d: torch.Tensor) -> torch.Tensor:
    """A copy of ``motion`` ``[..., 385]`` whose 55 rotations are ``rot6d`` ``[..., 55, 6]``."""
    space = smplx_motion_space()
    out = motion.clone()
    start = 0
    for name in ROTATION_SLICES:
        n = space.part(name).num_rotations
        out[..., space.index(name)] = rot6d[..., start:start + n, :].reshape(*rot6d.shape[:-2], 6 * n)
        start += n
    return out


def with_joint_rotmats(motion: torch.Tensor, rotmats: torch.Tensor) -> torch.Tensor:
    """A copy of ``motion`` ``[..., 385]`` whose 55 rotations are ``rotmats`` ``[..., 55, 3, 3]``."""
    return with_joint_rot6d(motion, matrix_to_rot6d(rotmats))


def set_joint_rotations(motion: torch.Tensor, rotations: dict) -> torch.Tensor:
    """A copy of ``motion`` ``[..., 385]`` with the named joints set to rotation matrices
    ``{joint: [..., 3, 3]}`` (local, relative to the parent joint)."""
    space = smplx_motion_space()
    out = motion.clone()
    for joint, rotmat in rotations.items():
        part = joint_slice(joint)
        start = space.component_index(part, f"{joint}.r6d0")
        out[..., start:start + 6] = matrix_to_rot6d(rotmat).to(out)
    return out

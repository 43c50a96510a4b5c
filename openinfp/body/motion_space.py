"""The ``smplx`` motion space: 55 SMPL-X joint rotations, root translation, ARKit face.

The rotation slices, concatenated in order, are exactly the SMPL-X joint order
(global orient, 21 body joints, jaw, left eye, right eye, 15 left-hand, 15 right-hand
joints), so converting to the BEAT2/EMAGE ``poses`` array (T x 165 axis-angle) is a
per-joint conversion with no reordering. D = 55 * 6 + 3 + 52 = 385.
"""

from __future__ import annotations

from functools import lru_cache

from openinfp.core.motion_space import MotionSlice, MotionSpace, rotation_slice
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
    )

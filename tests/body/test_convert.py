import math

import numpy as np
import pytest
import torch

from openinfp.body.convert import (
    JAW_OPEN_ANGLE,
    facing_yaw,
    head_to_smplx,
    jaw_open_amount,
    neutral_smplx_motion,
    yaw_matrix,
)
from openinfp.body.motion_space import joint_position, joint_rotmats, set_joint_rotations, smplx_motion_space
from openinfp.body.skeleton import forward_kinematics
from openinfp.core.errors import InputError
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import axis_angle_to_matrix, euler_ypr_to_matrix
from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler


def test_neutral_motion_relaxed_and_tpose():
    relaxed = neutral_smplx_motion(5, fps=30.0)
    assert relaxed.motion.shape == (5, 385) and relaxed.fps == 30.0 and relaxed.space.name == "smplx"
    joints, _ = forward_kinematics(joint_rotmats(relaxed.motion))
    for side in ("left", "right"):
        drop = joints[:, joint_position(f"{side}_shoulder"), 1] - joints[:, joint_position(f"{side}_wrist"), 1]
        assert (drop > 0.35).all()  # arms hang down
    tpose = neutral_smplx_motion(2, pose="tpose")
    assert torch.allclose(joint_rotmats(tpose.motion), torch.eye(3).expand(2, 55, 3, 3), atol=1e-6)
    with pytest.raises(InputError, match="relaxed"):
        neutral_smplx_motion(2, pose="sitting")
    with pytest.raises(InputError):
        neutral_smplx_motion(0)


def test_head_to_smplx_keeps_head_rotation_and_face():
    hspace = head_motion_space()
    T = 6
    ypr = torch.tensor([[0.4, -0.2, 0.1]]).expand(T, 3) * torch.linspace(0, 1, T)[:, None]
    head = hspace.set(hspace.neutral(T), "head_rotation", head_rotation_from_euler(ypr))
    arkit = torch.rand(T, 52)
    head = hspace.set(head, "arkit", arkit)
    src = MotionSequence(head, hspace, fps=25.0, annotations={"agent_speaking": np.ones(T, bool)})
    body = head_to_smplx(src)
    assert body.space.name == "smplx" and body.num_frames == T and body.fps == 25.0
    assert "agent_speaking" in body.annotations
    assert torch.allclose(body.get("expression"), arkit)
    rots = joint_rotmats(body.motion)
    # neck @ head is exactly the head rotation (relative to the torso), split 40 / 60.
    combined = rots[:, joint_position("neck")] @ rots[:, joint_position("head")]
    assert torch.allclose(combined, euler_ypr_to_matrix(ypr), atol=1e-5)
    _, grot = forward_kinematics(rots)
    torso = grot[:, joint_position("spine3")]
    assert torch.allclose(torso.transpose(-1, -2) @ grot[:, joint_position("head")], euler_ypr_to_matrix(ypr),
                          atol=1e-5)
    with pytest.raises(InputError, match="head"):
        head_to_smplx(body)


def test_jaw_open_takes_the_larger_of_joint_and_arkit():
    space = smplx_motion_space()
    m = space.neutral(3)
    jaw = space.component_index("expression", "jawOpen")
    m[0, jaw] = 0.5
    m[1] = set_joint_rotations(m[1], {"jaw": axis_angle_to_matrix(torch.tensor([JAW_OPEN_ANGLE * 0.8, 0, 0]))})
    m[2] = set_joint_rotations(m[2], {"jaw": axis_angle_to_matrix(torch.tensor([JAW_OPEN_ANGLE * 0.3, 0, 0]))})
    m[2, jaw] = 0.6
    assert torch.allclose(jaw_open_amount(m), torch.tensor([0.5, 0.8, 0.6]), atol=1e-4)


def test_facing_yaw():
    for deg in (-120.0, -30.0, 0.0, 45.0, 170.0):
        r = yaw_matrix(math.radians(deg))
        assert math.isclose(float(facing_yaw(r)), math.radians(deg), abs_tol=1e-5)
    # A body turned towards +x (its forward +z rotated onto +x) has yaw +90 degrees.
    assert math.isclose(float(facing_yaw(axis_angle_to_matrix(torch.tensor([0.0, math.pi / 2, 0])))),
                        math.pi / 2, abs_tol=1e-5)

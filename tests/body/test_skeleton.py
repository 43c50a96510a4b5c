"""Forward kinematics against poses worked out by hand from the generic rest skeleton."""

import math

import torch

from openinfp.body.motion_space import SMPLX_JOINTS, joint_position
from openinfp.body.skeleton import (
    END_SITES,
    SMPLX_PARENTS,
    bone_pairs,
    end_site_positions,
    forward_kinematics,
    generic_end_sites,
    generic_rest_joints,
)
from openinfp.core.rotations import axis_angle_to_matrix

J = joint_position


def _rot(axis: int, degrees: float) -> torch.Tensor:
    aa = torch.zeros(3)
    aa[axis] = math.radians(degrees)
    return axis_angle_to_matrix(aa)


def _pose(**joints: torch.Tensor) -> torch.Tensor:
    rots = torch.eye(3).repeat(55, 1, 1)
    for name, r in joints.items():
        rots[J(name)] = r
    return rots


def test_tree_is_the_smplx_tree():
    assert len(SMPLX_PARENTS) == 55 and SMPLX_PARENTS[0] == -1
    assert all(p < j for j, p in enumerate(SMPLX_PARENTS) if j)
    named = {SMPLX_JOINTS[j]: SMPLX_JOINTS[p] for j, p in enumerate(SMPLX_PARENTS) if p >= 0}
    assert named["left_elbow"] == "left_shoulder" and named["head"] == "neck" and named["jaw"] == "head"
    assert named["left_index1"] == "left_wrist" and named["right_thumb3"] == "right_thumb2"
    assert named["neck"] == "spine3" and named["left_collar"] == "spine3"
    rest = generic_rest_joints()
    # Mirror symmetry and the body's left at +x.
    assert torch.allclose(rest[J("left_wrist")] * torch.tensor([-1.0, 1, 1]), rest[J("right_wrist")])
    assert rest[J("left_shoulder"), 0] > 0 and rest[J("head"), 1] > rest[J("pelvis"), 1] > rest[J("left_knee"), 1]


def test_identity_pose_is_rest_plus_translation():
    t = torch.tensor([0.1, -0.2, 0.3])
    joints, grot = forward_kinematics(torch.eye(3).repeat(55, 1, 1), transl=t)
    assert torch.allclose(joints, generic_rest_joints() + t)
    assert torch.allclose(grot, torch.eye(3).expand(55, 3, 3))


def test_shoulder_raised_90_degrees_about_z():
    # Left shoulder at (0.17, 0.44, -0.02), elbow at (0.43, 0.43, -0.04), wrist (0.68, 0.43, -0.035).
    # Rz(90) maps (x, y, z) -> (-y, x, z): elbow offset (0.26, -0.01, -0.02) -> (0.01, 0.26, -0.02),
    # wrist offset from the elbow (0.25, 0.0, 0.005) -> (0.0, 0.25, 0.005).
    joints, grot = forward_kinematics(_pose(left_shoulder=_rot(2, 90)))
    assert torch.allclose(joints[J("left_elbow")], torch.tensor([0.18, 0.70, -0.04]), atol=1e-6)
    assert torch.allclose(joints[J("left_wrist")], torch.tensor([0.18, 0.95, -0.035]), atol=1e-6)
    assert torch.allclose(joints[J("right_wrist")], torch.tensor([-0.68, 0.43, -0.035]), atol=1e-6)  # untouched
    assert torch.allclose(grot[J("left_index3")], _rot(2, 90), atol=1e-6)


def test_root_turned_half_round_then_translated():
    # Ry(180) maps (x, y, z) -> (-x, y, -z) about the pelvis (at the origin), then + transl.
    t = torch.tensor([1.0, 0.5, -2.0])
    joints, _ = forward_kinematics(_pose(pelvis=_rot(1, 180)), transl=t)
    assert torch.allclose(joints[J("left_hip")], torch.tensor([-0.058, -0.085, 0.005]) + t, atol=1e-6)
    assert torch.allclose(joints[J("left_eye_smplhf")], torch.tensor([-0.032, 0.675, -0.085]) + t, atol=1e-6)


def test_chained_rotations_compose_down_the_spine():
    # spine1 and spine2 each bend 45 degrees forward about x: spine3 hangs off spine2, whose
    # global rotation is the 90 degrees product; the neck offset from spine3 (0, 0.21, -0.03)
    # turned 90 degrees about x becomes (0, 0.03, 0.21).
    joints, grot = forward_kinematics(_pose(spine1=_rot(0, 45), spine2=_rot(0, 45)))
    assert torch.allclose(grot[J("spine3")], _rot(0, 90), atol=1e-6)
    expected_neck = joints[J("spine3")] + torch.tensor([0.0, 0.03, 0.21])
    assert torch.allclose(joints[J("neck")], expected_neck, atol=1e-6)
    # spine2 itself: offset from spine1 (0, 0.13, 0.01) turned 45 degrees about x.
    c = math.cos(math.radians(45))
    expected_spine2 = torch.tensor([0.0, 0.11, -0.02]) + torch.tensor([0.0, 0.13 * c - 0.01 * c, 0.13 * c + 0.01 * c])
    assert torch.allclose(joints[J("spine2")], expected_spine2, atol=1e-6)


def test_batched_fk_and_end_sites_move_rigidly():
    rots = axis_angle_to_matrix(0.3 * torch.randn(6, 55, 3))
    joints, grot = forward_kinematics(rots, transl=torch.randn(6, 3))
    for i in range(6):
        single, _ = forward_kinematics(rots[i])
        assert torch.allclose(joints[i] - joints[i, 0], single - single[0], atol=1e-5)
    ends = end_site_positions(joints, grot)
    rest_j, rest_e = generic_rest_joints(), generic_end_sites()
    top = END_SITES.index("head_top")
    length = torch.linalg.norm(ends[:, top] - joints[:, J("head")], dim=-1)
    assert torch.allclose(length, torch.linalg.norm(rest_e[top] - rest_j[J("head")]).expand(6), atol=1e-5)
    assert len(bone_pairs()) == 54 + len(END_SITES)

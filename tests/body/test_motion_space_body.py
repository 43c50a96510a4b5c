import pytest
import torch

from openinfp.body.motion_space import (
    ROTATION_SLICES,
    SMPLX_JOINT_GROUPS,
    SMPLX_JOINTS,
    joint_group,
    joint_group_mask,
    joint_position,
    joint_rot6d,
    joint_rotmats,
    joint_slice,
    set_joint_rotations,
    smplx_motion_space,
    with_joint_rot6d,
)
from openinfp.core.rotations import axis_angle_to_matrix, matrix_to_rot6d


def test_layout_is_unchanged():
    space = smplx_motion_space()
    assert space.dim == 385
    assert space.slice_names == ["global_orient", "body", "jaw", "eyes", "left_hand", "right_hand", "transl",
                                 "expression"]
    assert tuple(s for s in space.slice_names if space.part(s).rotation == "6d") == ROTATION_SLICES


def test_joint_groups_partition_the_skeleton():
    upper, lower = set(joint_group("upper_body")), set(joint_group("lower_body"))
    hands, face, root = set(joint_group("hands")), set(joint_group("face")), set(joint_group("root"))
    assert not (upper & lower) and not (upper & hands) and not (lower & face) and not (hands & face)
    assert upper | lower | hands | face | root == set(SMPLX_JOINTS)
    for members in SMPLX_JOINT_GROUPS.values():
        assert set(members) <= set(SMPLX_JOINTS)
    with pytest.raises(KeyError, match="groups"):
        joint_group("tail")


def test_joint_group_masks_select_named_components():
    space = smplx_motion_space()
    names = space.names
    hands = joint_group_mask("hands")
    assert int(hands.sum()) == 30 * 6
    assert all(names[i].split(":")[1].split(".")[0] in joint_group("hands") for i in hands.nonzero()[:, 0])
    face = joint_group_mask("face")
    assert int(face.sum()) == 3 * 6 + 52
    assert face[space.index("expression")].all()
    assert int(joint_group_mask("face", with_expression=False).sum()) == 18
    lower = joint_group_mask("lower_body")
    assert not lower[space.index("transl")].any() and int(lower.sum()) == 8 * 6


def test_joint_access_round_trip_and_named_set():
    space = smplx_motion_space()
    motion = space.neutral(4)
    r6 = torch.randn(4, 55, 6)
    assert torch.equal(joint_rot6d(with_joint_rot6d(motion, r6)), r6)
    assert joint_slice("left_elbow") == "body" and joint_slice("right_thumb3") == "right_hand"
    assert joint_position("jaw") == 22 and joint_position("left_index1") == 25

    rot = axis_angle_to_matrix(torch.tensor([0.0, 0.0, 1.0]))
    out = set_joint_rotations(motion, {"left_elbow": rot.expand(4, 3, 3)})
    mats = joint_rotmats(out)
    assert torch.allclose(mats[:, joint_position("left_elbow")], rot, atol=1e-6)
    others = [i for i in range(55) if i != joint_position("left_elbow")]
    assert torch.allclose(mats[:, others], torch.eye(3).expand(4, 54, 3, 3), atol=1e-6)
    comp = space.component_index("body", "left_elbow.r6d0")
    assert torch.allclose(out[:, comp:comp + 6], matrix_to_rot6d(rot).expand(4, 6))

"""Feature accessors read the motion spaces by name, for head and smplx."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.body.motion_space import smplx_motion_space
from openinfp.core.errors import InputError
from openinfp.core.metrics import features
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_space import MotionSlice, MotionSpace
from openinfp.core.rotations import axis_angle_to_rot6d


def test_head_features(make_head):
    t = np.linspace(0, 1, 30)
    seq = make_head(30, jaw=t, pitch=0.2 * t, yaw=-0.1 * t)
    assert features.expression(seq).shape == (30, 52)
    assert features.pose(seq).shape == (30, 7)  # axis-angle 3 + translation 3 + scale 1
    np.testing.assert_allclose(features.mouth_opening(seq), t, atol=1e-6)
    ang = features.head_angles(seq)
    np.testing.assert_allclose(ang[:, 1], 0.2 * t, atol=1e-5)
    np.testing.assert_allclose(ang[:, 0], -0.1 * t, atol=1e-5)
    np.testing.assert_allclose(features.head_pitch(seq), 0.2 * t, atol=1e-5)


def test_smplx_head_orientation_composes_the_neck_chain():
    space = smplx_motion_space()
    motion = space.neutral(4)
    pitch_axis = torch.tensor([[0.2, 0.0, 0.0]])  # rotation about x: nose down by 0.2 rad
    for joint, angle in (("neck", 0.2), ("head", 0.1)):
        idx = [space.component_index("body", f"{joint}.r6d{i}") for i in range(6)]
        motion[:, idx] = axis_angle_to_rot6d(pitch_axis * angle / 0.2).expand(4, 6)
    seq = MotionSequence(motion, space)
    np.testing.assert_allclose(features.head_pitch(seq), 0.3, atol=1e-5)
    assert features.expression(seq).shape == (4, 52)
    # root + 21 body + 15 + 15 hand joints as axis-angle, plus translation.
    assert features.pose(seq).shape == (4, (1 + 21 + 15 + 15) * 3 + 3)


def test_spaces_without_a_face_or_head_are_refused():
    space = MotionSpace("tiny", (MotionSlice("x", 2, "m", ("a", "b"), (0.0, 0.0)),))
    seq = MotionSequence(torch.zeros(3, 2), space)
    with pytest.raises(InputError, match="ARKit"):
        features.expression(seq)
    with pytest.raises(InputError, match="head"):
        features.head_angles(seq)


def test_angular_speed_of_constant_rotation_rate():
    fps = 25.0
    angles = np.stack([np.arange(20) * 0.01, np.zeros(20), np.zeros(20)], axis=1)
    np.testing.assert_allclose(features.angular_speed(angles, fps), 0.01 * fps)

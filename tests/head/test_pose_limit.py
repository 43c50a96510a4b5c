"""The renderer's out-of-plane turn limit (``pose_limit.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.rotations import rot6d_to_matrix
from openinfp.head.closed_loop import make_motion
from openinfp.head.motion_space import head_motion_space
from openinfp.head.pose_limit import (
    DIRECTIONS,
    KNEE,
    TurnLimits,
    eased_angle,
    limit_turn,
    measured_limits,
    swing_direction,
    swing_rotation,
)


def rotation(ypr) -> np.ndarray:
    return rot6d_to_matrix(head_motion_space().get(make_motion(ypr), "head_rotation")).numpy().astype(np.float64)


def swing_deg(rot: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(rot[2, 2], -1.0, 1.0))))


def test_eased_angle_is_exact_below_the_knee_monotonic_and_bounded():
    angles = np.linspace(0.0, 90.0, 181)
    eased = np.array([eased_angle(a, 24.0) for a in angles])
    below = angles <= KNEE * 24.0
    assert np.allclose(eased[below], angles[below])
    assert np.all(np.diff(eased) >= 0) and np.all(np.diff(eased[angles <= 30.0]) > 0) and eased.max() <= 24.0


@pytest.mark.parametrize("ypr", [(40, 0, 0), (-35, 10, 0), (0, -40, 0), (30, 12, 25)])
def test_large_turns_are_eased_and_roll_kept(ypr):
    rot = rotation(ypr)
    out = limit_turn(rot, 24.0)
    assert np.allclose(out @ out.T, np.eye(3), atol=1e-6) and np.linalg.det(out) == pytest.approx(1.0, abs=1e-6)
    assert swing_deg(out) == pytest.approx(eased_angle(swing_deg(rot), 24.0), abs=0.05)
    # The face still turns the same way (same swing direction) ...
    assert np.dot(out[:2, 2], rot[:2, 2]) > 0
    # ... and a roll on top of it is kept: both send the face's x axis the same way in the picture plane.
    unrolled = limit_turn(rotation(ypr[:2] + (0,)), 24.0)
    assert np.degrees(np.arccos(np.clip(out[:, 0] @ unrolled[:, 0], -1, 1))) == pytest.approx(abs(ypr[2]), abs=3.0)


def test_small_turns_and_no_limit_are_unchanged():
    for ypr in [(10, 0, 0), (0, 12, 5), (-8, -6, 30)]:
        assert np.array_equal(limit_turn(rotation(ypr), 24.0), rotation(ypr))
    assert np.array_equal(limit_turn(rotation((60, 0, 0)), 0.0), rotation((60, 0, 0)))


def test_renderer_draws_a_40_degree_turn_as_the_eased_one(renderer):
    far = renderer.target_landmarks(make_motion((40, 0, 0)))
    limit = renderer.config.max_turn
    # The photo's own limit towards that side (measured at setup, at most max_turn).
    own = renderer.turn_limits.towards(swing_direction(rotation((40, 0, 0))))
    assert 0.0 < own <= limit
    try:
        renderer.config.max_turn = 0.0  # no limit: draws what it is given
        eased = renderer.target_landmarks(make_motion((eased_angle(40.0, own), 0, 0)))
        unlimited = renderer.target_landmarks(make_motion((40, 0, 0)))
    finally:
        renderer.config.max_turn = limit
    assert np.allclose(far, eased, atol=0.05)
    assert np.abs(unlimited - far).max() > 10.0


def test_swing_rotation_turns_the_face_towards_its_direction():
    for phi in np.linspace(-np.pi, np.pi, 9)[:-1]:
        rot = swing_rotation(phi, 20.0)
        assert swing_deg(rot) == pytest.approx(20.0)
        assert np.cos(swing_direction(rot) - phi) == pytest.approx(1.0)


def test_turn_limits_ease_each_direction_towards_its_own_limit():
    degrees = np.full(DIRECTIONS, 24.0)
    degrees[DIRECTIONS // 2] = 10.0  # towards -x (a photo that hides that side)
    limits = TurnLimits(degrees)
    left, right = rotation((-30, 0, 0)), rotation((30, 0, 0))
    towards_small = left if np.cos(swing_direction(left)) < 0 else right
    other = right if towards_small is left else left
    assert swing_deg(limits.limit(towards_small)) == pytest.approx(eased_angle(30.0, 10.0), abs=0.05)
    # the other way: as the global limit, bit for bit
    assert np.array_equal(limits.limit(other), limit_turn(other, 24.0))
    small = rotation((5, 3, 2))
    assert np.array_equal(limits.limit(small), small)


def test_measured_limits_find_where_the_defect_passes():
    # A defect growing with the angle, twice as fast towards direction 0: limits 12.25 and 24.
    def defect(rot):
        scale = 2.0 if np.cos(swing_direction(rot)) > 0.99 else 1.0
        return scale * swing_deg(rot)

    limits = measured_limits(defect, 24.0, 24.5)
    assert 12.25 - 24.0 / 32 <= limits.degrees[0] <= 12.25
    assert np.all(limits.degrees[1:] == 24.0)


def test_measured_limits_catch_a_defect_that_closes_again_at_larger_turns():
    # Fails between 5 and 13 degrees towards direction 0 only (a tear that closes again as
    # the head turns further); a bisection from 24 alone would pass it at 24.
    def defect(rot):
        towards = np.cos(swing_direction(rot)) > 0.99
        return 1.0 if towards and 5.0 < swing_deg(rot) < 13.0 else 0.0

    limits = measured_limits(defect, 24.0, 0.5)
    assert 5.0 - 24.0 / 32 <= limits.degrees[0] <= 5.0
    assert np.all(limits.degrees[1:] == 24.0)

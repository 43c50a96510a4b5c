"""The tear measure (``warp_quality.tear``): background opened as a crack under a jaw that
lay over the collar, not background uncovered beside a head that moves."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openinfp.head.warp_quality import TEAR_MAX, tear

SIZE = 256
HEAD = (128, 100, 50)
"""Head disc (centre x, y, radius) on the canvas."""
SHIFT = 30.0
"""How far (px) the synthetic warp moves the head to the left."""


def _outline(cx: float) -> np.ndarray:
    """The head's outline ``[36, 2]`` with its centre at ``cx``."""
    t = np.linspace(0.0, 2.0 * np.pi, 36, endpoint=False)
    return np.stack([cx + HEAD[2] * np.cos(t), HEAD[1] + HEAD[2] * np.sin(t)], 1)


def _person(torso_top: int, neck: bool) -> np.ndarray:
    """Person mask ``[S, S]``: the head disc, a torso from ``torso_top`` down and, with
    ``neck``, a neck joining them (otherwise the torso's top reaches under the jaw)."""
    mask = np.zeros((SIZE, SIZE), np.float32)
    cv2.circle(mask, HEAD[:2], HEAD[2], 1.0, -1)
    mask[torso_top:, 40:216] = 1.0
    if neck:
        mask[HEAD[1]:torso_top, 108:148] = 1.0
    return mask


def _moved(mask: np.ndarray, still_from: int, fade: int) -> np.ndarray:
    """The person carried by a warp that moves everything above row ``still_from - fade``
    left by :data:`SHIFT` px, fading to still at row ``still_from`` and below (a head
    turning over a rigid torso, the warp fading out over the neck)."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    shift = SHIFT * np.clip((still_from - yy) / max(fade, 1), 0.0, 1.0)
    xy = np.dstack([xx + shift.astype(np.float32), yy])
    return cv2.remap(mask, xy, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def test_a_jaw_over_the_collar_moving_away_tears():
    # The jaw (disc bottom at 150) lies over the torso's top (145); the head moves in full,
    # the collar stays (the warp fades over rows 145-155): the pixels the jaw covered
    # sample the background beside it, a crack between jaw and collar.
    mask = _person(145, neck=False)
    score = tear(_moved(mask, 155, 10), mask, _outline(HEAD[0] - SHIFT))
    assert score >= 3.0 * TEAR_MAX, score  # measured 3.5


def test_a_head_moving_beside_its_neck_does_not_tear():
    # Background uncovered beside the head (a neck under it, the torso well below): no crack.
    mask = _person(190, neck=True)
    assert tear(_moved(mask, 190, 50), mask, _outline(HEAD[0] - SHIFT)) <= 0.1 * TEAR_MAX


def test_zero_motion_does_not_tear_and_shapes_must_match():
    mask = _person(145, neck=False)
    assert tear(mask, mask, _outline(HEAD[0])) == 0.0
    with pytest.raises(ValueError, match="differ"):
        tear(mask[:-1], mask, _outline(HEAD[0]))

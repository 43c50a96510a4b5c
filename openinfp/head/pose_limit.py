"""How far the portrait renderer turns a head out of the picture plane.

The renderer is a 2D warp of one photo: it cannot show the side of a head the photo does
not show. Turned further than about 25 degrees from the photo's own pose (yaw or pitch;
roll is a turn in the picture plane and costs nothing) the far cheek is squeezed and the
near one stretched over hair and background: on the real photos of the development set
the chin and neck split, holes open in the cheek where the background plate shows
through, and beards smear (seen on 05, 13, 19, 24, 26 at 25-40 degrees, the photos already
turned 20 degrees tearing first).

:func:`limit_turn` therefore eases the out-of-plane part of a motion's rotation (its
*swing*: the angle by which the face's forward axis leaves the camera axis) towards
``max_deg``: unchanged up to :data:`KNEE` of it, then smoothly saturating, never beyond.
The in-plane part (roll) is kept as it is. A clear, documented limit of the renderer, not
of the motion: the motion itself (and what a tracker reads from it) is not changed.
"""

from __future__ import annotations

import numpy as np

KNEE = 0.9
"""Share of the limit up to which a turn is drawn exactly (with the default 24 degrees:
21.6, so the 20-degree turns of the tests and the gallery are drawn as they are)."""


def eased_angle(angle: float, max_angle: float) -> float:
    """``angle`` (>= 0) eased towards ``max_angle``: identity up to ``KNEE * max_angle``,
    then ``knee + (max - knee) tanh((angle - knee) / (max - knee))`` (smooth, monotonic)."""
    knee = KNEE * max_angle
    if angle <= knee:
        return angle
    room = max_angle - knee
    return knee + room * float(np.tanh((angle - knee) / room))


def _axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix ``[3, 3]`` about unit ``axis`` ``[3]`` by ``angle`` radians (Rodrigues)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


def limit_turn(rot: np.ndarray, max_deg: float) -> np.ndarray:
    """``rot`` ``[3, 3]`` (camera frame, z towards the viewer) with its out-of-plane swing
    eased towards ``max_deg`` degrees (module docstring); ``max_deg <= 0``: unchanged."""
    rot = np.asarray(rot, np.float64)
    if max_deg <= 0:
        return rot
    forward = rot[:, 2]
    swing = float(np.arccos(np.clip(forward[2], -1.0, 1.0)))
    limit = np.radians(max_deg)
    if swing <= KNEE * limit:
        return rot
    axis = np.cross([0.0, 0.0, 1.0], forward)
    axis /= max(float(np.linalg.norm(axis)), 1e-12)
    twist = _axis_angle(axis, swing).T @ rot  # what is left: a turn about z (roll)
    return _axis_angle(axis, eased_angle(swing, limit)) @ twist

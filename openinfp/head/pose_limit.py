"""How far the portrait renderer turns a head out of the picture plane.

The renderer is a 2D warp of one photo: it cannot show the side of a head the photo does
not show. Turned further than about 25 degrees from the photo's own pose (yaw or pitch;
roll is a turn in the picture plane and costs far less) the far cheek is squeezed and the
near one stretched over hair and background: on the real photos of the development set
the chin and neck split, holes open in the cheek where the background plate shows
through, and beards smear (seen on 05, 13, 19, 24, 26 at 25-40 degrees, the photos already
turned 20 degrees tearing first).

:func:`limit_turn` therefore eases the out-of-plane part of a motion's rotation (its
*swing*: the angle by which the face's forward axis leaves the camera axis) towards
``max_deg``: unchanged up to :data:`KNEE` of it, then smoothly saturating, never beyond.
The in-plane part (roll) is kept as it is (the measured limits below also bound it). A
clear, documented limit of the renderer, not of the motion: the motion itself (and what a
tracker reads from it) is not changed.

How far a photo can turn depends on the photo and on the direction: a turned photo
turned back towards the camera shows the side the photo hides, which a 2D warp can only
stretch (19 of the real set smeared its far cheek and jaw), turned further away it
stretches the ear and hair of its near side (17, 28), a photo looking up tore when turned
further up (04, 22), tight crops smeared at the canvas edge (30).
:func:`measured_limits` therefore finds, once per photo, the largest swing towards each
of :data:`DIRECTIONS` directions in the picture plane, and the largest roll each way,
that the renderer draws without a visible defect (a score the caller measures on the
warp, :mod:`openinfp.head.warp_quality`: a smear, or a tear under the jaw where the photo's
jaw lay over the collar), never more than ``max_deg``;
:class:`TurnLimits` eases each frame's swing towards the limit of its direction
(interpolated between the measured ones) and its roll towards the roll limit. A photo
that passes at ``max_deg`` in a direction is drawn there exactly as with
:func:`limit_turn`; any photo is drawn exactly below 0.9 of its smallest limit (turns) and
of its roll limits, with a roll of at most 8 degrees (:data:`ROLL_MARGIN`); a frontal
photo's limits are 17-24 degrees.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

KNEE = 0.9
"""Share of the limit up to which a turn is drawn exactly (with the default 24 degrees:
21.6, so the 20-degree turns of the tests and the gallery are drawn as they are)."""


def eased_angle(angle: float, max_angle: float) -> float:
    """``angle`` (>= 0) eased towards ``max_angle``: identity up to ``KNEE * max_angle``,
    then ``knee + (max - knee) tanh((angle - knee) / (max - knee))`` (smooth, monotonic)."""
    if max_angle <= 0.0:
        return 0.0
    knee = KNEE * max_angle
    if angle <= knee:
        return angle
    room = max_angle - knee
    return knee + room * float(np.tanh((angle - knee) / room))


def _axis_angle(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rotation matrix ``[3, 3]`` about unit ``axis`` ``[3]`` by ``angle`` radians (Rodrigues)."""
    k = np.array([[0.0, -axis[2], axis[1]], [axis[2], 0.0, -axis[0]], [-axis[1], axis[0], 0.0]])
    return np.eye(3) + np.sin(angle) * k + (1.0 - np.cos(angle)) * (k @ k)


DIRECTIONS = 8
"""Directions in the picture plane (every 45 degrees: turns, nods and the diagonals
between) at which :func:`measured_limits` measures a photo's turn limit."""
MAX_ROLL = 30.0
"""Largest roll (degrees) :func:`measured_limits` allows a photo (rolls are limited only
where they smear, see there)."""
ROLL_MARGIN = 8.0
"""Roll (degrees, either way) on top of each turn the search checks."""
SEARCH_STEPS = 5
"""Bisection steps of that search (``max_deg / 32``: 0.75 degrees with the default 24)."""


def limit_turn(rot: np.ndarray, max_deg: float) -> np.ndarray:
    """``rot`` ``[3, 3]`` (camera frame, z towards the viewer) with its out-of-plane swing
    eased towards ``max_deg`` degrees (module docstring); ``max_deg <= 0``: unchanged."""
    rot = np.asarray(rot, np.float64)
    if max_deg <= 0:
        return rot
    return _ease_swing(rot, max_deg)


def swing_direction(rot: np.ndarray) -> float:
    """Direction (radians, x right, y up, counter-clockwise from +x) in the picture plane
    towards which ``rot`` ``[3, 3]`` turns the face's forward axis."""
    return float(np.arctan2(rot[1, 2], rot[0, 2]))


def swing_rotation(direction: float, angle_deg: float) -> np.ndarray:
    """The rotation ``[3, 3]`` that turns the face ``angle_deg`` degrees out of the picture
    plane towards ``direction`` (radians, as :func:`swing_direction`), with no roll."""
    axis = np.array([-np.sin(direction), np.cos(direction), 0.0])  # z x (cos, sin, 0)
    return _axis_angle(axis, np.radians(angle_deg))


@dataclass(frozen=True)
class TurnLimits:
    """A photo's turn limit per direction: ``degrees`` ``[DIRECTIONS]``, entry ``k`` for a
    face turning towards ``2 pi k / DIRECTIONS`` (:func:`swing_direction`); ``roll``: the
    largest roll (degrees) each way, (clockwise on screen, counter-clockwise)."""

    degrees: np.ndarray
    roll: tuple[float, float] = (np.inf, np.inf)
    roll_margin: float = np.inf

    def towards(self, direction: float) -> float:
        """The limit (degrees) towards ``direction`` (radians), linear between the
        measured directions."""
        n = len(self.degrees)
        pos = (direction / (2.0 * np.pi) * n) % n
        k = int(pos) % n
        a, b = float(self.degrees[k]), float(self.degrees[(k + 1) % n])
        return a + (pos - int(pos)) * (b - a)  # exactly a where a == b

    def limit(self, rot: np.ndarray) -> np.ndarray:
        """``rot`` ``[3, 3]`` with its swing eased towards the limit of its direction and its
        roll towards the roll limit of its side; unchanged below both knees.

        The turn limits were measured with a roll of up to :meth:`margin` on top; a larger
        roll uses up turn room, linearly down to none at the roll limit (a turn and a
        roll together stretch the neck more than either)."""
        rot = np.asarray(rot, np.float64)
        forward = rot[:, 2]
        swing_angle = float(np.arccos(np.clip(forward[2], -1.0, 1.0)))
        axis = np.cross([0.0, 0.0, 1.0], forward)
        norm = float(np.linalg.norm(axis))
        swing = _axis_angle(axis / norm, swing_angle) if norm > 1e-12 else np.eye(3)
        psi = float(np.degrees(np.arctan2(*(swing.T @ rot)[[1, 0], 0])))
        side = self.roll[1] if psi > 0 else self.roll[0]
        turn = self.towards(swing_direction(rot))
        margin = self.margin(side)
        if abs(psi) > margin:
            turn *= float(np.clip(1.0 - (abs(psi) - margin) / max(side - margin, 1e-9), 0.0, 1.0))
        out = _ease_swing(rot, turn)
        if abs(psi) <= KNEE * side:
            return out
        forward = out[:, 2]
        axis = np.cross([0.0, 0.0, 1.0], forward)
        norm = float(np.linalg.norm(axis))
        swing = np.eye(3)
        if norm > 1e-12:
            swing = _axis_angle(axis / norm, float(np.arccos(np.clip(forward[2], -1.0, 1.0))))
        return swing @ roll_rotation(np.sign(psi) * eased_angle(abs(psi), side))

    def margin(self, side: float) -> float:
        """Roll (degrees) the turn limits were measured with, for a side's roll limit."""
        return min(self.roll_margin, 0.5 * side)


def roll_rotation(angle_deg: float) -> np.ndarray:
    """Rotation ``[3, 3]`` by ``angle_deg`` degrees about the camera axis (a roll)."""
    c, s = np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _largest_passing(passes: Callable[[float], bool], top: float, steps: int) -> float:
    """The largest angle in ``[0, top]`` for which ``passes`` holds: a quarter, a half and
    all of ``top`` are tried in turn, then the first interval that fails is bisected
    (to ``top / 2 ** steps``; a defect that grows with the angle gives exactly what a
    bisection of ``[0, top]`` gives). Trying the smaller turns first catches a defect that
    shows at a middle turn and not at ``top``: a tear under the jaw can close again as the
    head turns further (23 of the real set, rolled: 1.6 per mille at 6 degrees, 2.7 at
    12, 0 at 18 and 24)."""
    lo = 0.0
    for probe, halvings in ((0.25 * top, steps - 2), (0.5 * top, steps - 2), (top, steps - 1)):
        if not passes(probe):
            hi = probe
            for _ in range(max(halvings, 0)):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if passes(mid) else (lo, mid)
            return lo
        lo = probe
    return top


def measured_limits(defect: Callable[[np.ndarray], float], max_deg: float, threshold: float,
                    max_roll: float = MAX_ROLL, roll_margin: float = ROLL_MARGIN,
                    directions: int = DIRECTIONS, steps: int = SEARCH_STEPS) -> TurnLimits:
    """A photo's :class:`TurnLimits`: where ``defect(rotation [3, 3])`` (the drawn pose's
    defect score) stays at or under ``threshold``.

    First the largest roll each way (at most ``max_roll``: rolled against a still torso the
    neck stretches); then, per direction, the largest swing (at most ``max_deg``) with a
    roll of ``roll_margin`` degrees either way on top (at most half the roll limit: a
    turn and a roll together stretch more than either)."""
    roll = tuple(_largest_passing(lambda a, sign=sign: defect(roll_rotation(sign * a)) <= threshold, max_roll, steps)
                 for sign in (-1.0, 1.0))
    # half the roll limit at most: a roll near its own limit leaves no room for any turn
    limits = TurnLimits(np.zeros(directions), roll, roll_margin)
    rolls = [roll_rotation(-limits.margin(roll[0])), roll_rotation(limits.margin(roll[1]))]
    out = np.empty(directions)
    for k in range(directions):
        phi = 2.0 * np.pi * k / directions
        out[k] = _largest_passing(
            lambda a, phi=phi: all(defect(swing_rotation(phi, a) @ r) <= threshold for r in rolls), max_deg, steps)
    return TurnLimits(out, roll, roll_margin)


def _ease_swing(rot: np.ndarray, max_deg: float) -> np.ndarray:
    """``rot`` with its swing eased towards ``max_deg`` (> 0) degrees."""
    forward = rot[:, 2]
    swing = float(np.arccos(np.clip(forward[2], -1.0, 1.0)))
    limit = np.radians(max_deg)
    if swing <= KNEE * limit:
        return rot
    axis = np.cross([0.0, 0.0, 1.0], forward)
    axis /= max(float(np.linalg.norm(axis)), 1e-12)
    twist = _axis_angle(axis, swing).T @ rot  # what is left: a turn about z (roll)
    return _axis_angle(axis, eased_angle(swing, limit)) @ twist

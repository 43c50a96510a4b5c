"""Per-frame features that the metrics read from a :class:`MotionSequence`.

Every accessor goes through the motion space's named slices, groups and components,
so the metrics work for the ``head`` space, the ``smplx`` space and any plugin space
that follows the same conventions:

* the face is the slice whose components are the 52 ARKit names (``arkit`` in
  ``head``, ``expression`` in ``smplx``);
* the pose is the space's ``pose`` group when it has one (``head``), otherwise every
  slice outside its ``face`` group (``smplx``: root, body and hand joints, translation);
* the head orientation is the ``head_rotation`` slice, or the product of the local
  rotations along the kinematic chain pelvis -> spine1 -> spine2 -> spine3 -> neck ->
  head when the space holds those joints (``smplx``).

All outputs are float64 numpy arrays (metrics are computed in double precision).
"""

from __future__ import annotations

from typing import Literal, Union

import numpy as np
import torch

from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.errors import InputError
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_space import MotionSpace
from openinfp.core.rotations import matrix_to_euler_ypr, rot6d_to_axis_angle, rot6d_to_matrix

ArrayLike = Union[np.ndarray, torch.Tensor]
FeatureName = Literal["expression", "pose"]

HEAD_CHAIN: tuple[str, ...] = ("pelvis", "spine1", "spine2", "spine3", "neck", "head")
"""Joints whose local rotations compose into the head's global orientation (SMPL-X names)."""

YPR: tuple[str, str, str] = ("yaw", "pitch", "roll")
"""Column names of :func:`head_angles` (the order of :func:`matrix_to_euler_ypr`)."""

MOUTH_COMPONENT = "jawOpen"
"""The ARKit blendshape used as mouth opening."""


def as_array(x: ArrayLike, what: str = "array") -> np.ndarray:
    """A float64 numpy copy of a tensor or array; refuses NaN/inf."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{what} contains NaN or infinite values")
    return arr


def face_slice_name(space: MotionSpace) -> str:
    """Name of the slice holding the ARKit-52 weights.

    Raises:
        InputError: the space has no ARKit face slice.
    """
    for s in space.slices:
        if s.component_names == ARKIT_NAMES:
            return s.name
    raise InputError(f"motion space {space.name!r} has no ARKit-52 face slice; "
                     "expression metrics need one")


def pose_slice_names(space: MotionSpace) -> tuple[str, ...]:
    """Slices that make up the pose features (see module docstring)."""
    names = [g for g, _ in space.groups]
    if "pose" in names:
        return space.group("pose")
    face = set(space.group("face")) if "face" in names else {face_slice_name(space)}
    pose = tuple(s.name for s in space.slices if s.name not in face)
    if not pose:
        raise InputError(f"motion space {space.name!r} has no pose slices")
    return pose


def expression(seq: MotionSequence) -> np.ndarray:
    """ARKit weights ``[T, 52]``."""
    return as_array(seq.get(face_slice_name(seq.space)), "expression")


def pose(seq: MotionSequence) -> np.ndarray:
    """Pose features ``[T, P]``: 6D rotations as axis-angle (3 per joint), others as stored.

    ``head``: P = 3 (rotation) + 3 (translation) + 1 (scale) = 7.
    """
    parts = []
    for name in pose_slice_names(seq.space):
        part = seq.space.part(name)
        values = seq.get(name)
        if part.rotation == "6d":
            blocks = values.reshape(values.shape[0], part.num_rotations, 6)
            values = rot6d_to_axis_angle(blocks).reshape(values.shape[0], 3 * part.num_rotations)
        parts.append(values)
    return as_array(torch.cat(parts, dim=-1), "pose")


def features(seq: MotionSequence, kind: FeatureName) -> np.ndarray:
    """``expression(seq)`` or ``pose(seq)`` by name."""
    if kind == "expression":
        return expression(seq)
    if kind == "pose":
        return pose(seq)
    raise ValueError(f"unknown feature kind {kind!r}; use 'expression' or 'pose'")


def mouth_opening(seq: MotionSequence) -> np.ndarray:
    """ARKit ``jawOpen`` weight per frame, ``[T]`` in [0, 1]."""
    space = seq.space
    return as_array(space.get_component(seq.motion, face_slice_name(space), MOUTH_COMPONENT), "mouth opening")


def joint_rot6d(space: MotionSpace, motion: torch.Tensor, joint: str) -> torch.Tensor | None:
    """``[T, 6]`` local rotation of ``joint`` looked up by component name, or None."""
    for s in space.slices:
        if s.rotation == "6d" and f"{joint}.r6d0" in s.component_names:
            idx = [space.component_index(s.name, f"{joint}.r6d{i}") for i in range(6)]
            return motion[..., idx]
    return None


def head_angles(seq: MotionSequence) -> np.ndarray:
    """Head (yaw, pitch, roll) in radians, ``[T, 3]`` (pitch > 0: nose down).

    Raises:
        InputError: the space has neither a ``head_rotation`` slice nor the SMPL-X head chain.
    """
    space = seq.space
    if "head_rotation" in space.slice_names:
        matrix = rot6d_to_matrix(seq.get("head_rotation"))
    else:
        blocks = [joint_rot6d(space, seq.motion, j) for j in HEAD_CHAIN]
        if any(b is None for b in blocks):
            raise InputError(f"motion space {space.name!r} has no head_rotation slice and no "
                             f"{'/'.join(HEAD_CHAIN)} joint chain; head metrics need one")
        matrix = rot6d_to_matrix(blocks[0])
        for b in blocks[1:]:
            matrix = matrix @ rot6d_to_matrix(b)  # parent @ child: global orientation of the head
    return as_array(matrix_to_euler_ypr(matrix), "head angles")


def head_pitch(seq: MotionSequence) -> np.ndarray:
    """Head pitch in radians (positive: nose down), ``[T]``."""
    return head_angles(seq)[:, YPR.index("pitch")]


def angular_speed(angles: np.ndarray, fps: float) -> np.ndarray:
    """Per-frame speed of an angle trajectory ``[T, K]`` (rad/s), ``[T]``.

    Central differences inside, one-sided at the ends (``numpy.gradient``).
    """
    if angles.shape[0] < 2:
        return np.zeros(angles.shape[0])
    vel = np.gradient(angles, 1.0 / fps, axis=0)
    return np.linalg.norm(vel.reshape(angles.shape[0], -1), axis=1)

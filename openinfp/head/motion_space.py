"""The ``head`` motion space: head pose plus the 52 ARKit blendshapes.

Layout (D = 62):

* ``head_rotation`` (6D, one block): head orientation relative to facing the camera,
  see :mod:`openinfp.core.rotations` for the axis conventions.
* ``head_translation`` (3): head offset from its neutral position, in units of the
  face's inter-ocular distance (x right, y up, z towards the viewer).
* ``head_scale`` (1): apparent size relative to neutral (1 = unchanged).
* ``arkit`` (52): ARKit blendshape weights in [0, 1], names in :data:`ARKIT_NAMES`.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.motion_space import MotionSlice, MotionSpace, rotation_slice
from openinfp.core.rotations import euler_ypr_to_matrix, matrix_to_euler_ypr, matrix_to_rot6d, rot6d_to_matrix

HEAD_SPACE_NAME = "head"


def arkit_slice(name: str = "arkit") -> MotionSlice:
    """The 52 ARKit weights as a bounded slice (shared with the ``smplx`` space)."""
    return MotionSlice(name, 52, "weight", ARKIT_NAMES, (0.0,) * 52, low=0.0, high=1.0,
                       description="ARKit-52 blendshape weights")


@lru_cache(maxsize=1)
def head_motion_space() -> MotionSpace:
    """The built-in ``head`` space (cached; :class:`MotionSpace` is immutable)."""
    return MotionSpace(
        name=HEAD_SPACE_NAME,
        description="head pose (6D rotation, translation, scale) + ARKit-52 blendshapes",
        slices=(
            rotation_slice("head_rotation", ["head"], "head orientation"),
            MotionSlice("head_translation", 3, "interocular", ("x", "y", "z"), (0.0, 0.0, 0.0),
                        description="offset from neutral, in inter-ocular distances"),
            MotionSlice("head_scale", 1, "ratio", ("scale",), (1.0,), low=0.05, high=20.0,
                        description="apparent size relative to neutral"),
            arkit_slice(),
        ),
        groups=(("pose", ("head_rotation", "head_translation", "head_scale")), ("face", ("arkit",))),
    )


def head_euler(motion: torch.Tensor) -> torch.Tensor:
    """Head (yaw, pitch, roll) in radians: ``[..., 62]`` -> ``[..., 3]``."""
    space = head_motion_space()
    return matrix_to_euler_ypr(rot6d_to_matrix(space.get(motion, "head_rotation")))


def head_rotation_from_euler(ypr: torch.Tensor) -> torch.Tensor:
    """``[..., 3]`` (yaw, pitch, roll) radians -> ``[..., 6]`` for the ``head_rotation`` slice."""
    return matrix_to_rot6d(euler_ypr_to_matrix(ypr))

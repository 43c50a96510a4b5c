"""Camera presets for bodies: ``face``, ``upper_body`` (default) and ``full_body``.

A body is first placed canonically (see :mod:`openinfp.body.render`): its pelvis at
the origin at frame 0, facing +z. A preset then frames a vertical range of the body
(from its rest-pose :class:`BodyFraming` heights) and puts a level camera on the +z
side at the distance that fits that range into the image. The camera does not move
during a sequence, so body motion stays visible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from openinfp.body.config import CAMERA_PRESETS
from openinfp.body.raster import Camera
from openinfp.core.errors import ConfigError

DEFAULT_FOV_Y = 30.0
"""Vertical field of view (degrees) of every preset: a mild telephoto, little distortion."""


@dataclass(frozen=True)
class BodyFraming:
    """Heights of a body in its rest pose relative to its pelvis (metres).

    Attributes:
        head: the head joint (skull base).
        eyes: the eyes.
        top: the top of the head.
        bottom: the soles.
    """

    head: float
    eyes: float
    top: float
    bottom: float


def preset_range(preset: str, framing: BodyFraming) -> tuple[float, float, float]:
    """``(low, high, depth)``: the heights a preset shows and the depth (z) it aims at."""
    if preset == "face":
        return framing.eyes - 0.17, framing.top + 0.05, 0.06
    if preset == "upper_body":
        return -0.22, framing.top + 0.1, 0.0
    if preset == "full_body":
        return framing.bottom - 0.08, framing.top + 0.08, 0.0
    raise ConfigError(f"unknown camera preset {preset!r}; valid choices: {', '.join(CAMERA_PRESETS)}")


def framed_camera(low: float, high: float, left: float, right: float, width: int, height: int,
                  depth: float = 0.0, fov_y: float = DEFAULT_FOV_Y, extent_z: float = 0.3) -> Camera:
    """A level camera on the +z side that shows heights ``[low, high]`` and x in
    ``[left, right]`` (whichever is tighter decides the distance).

    Args:
        low, high: vertical range (metres).
        left, right: horizontal range (metres).
        width, height: image size.
        depth: z of the plane being framed.
        fov_y: vertical field of view (degrees).
        extent_z: how far the subject extends towards the camera (keeps it fully in view).
    """
    tan_y = math.tan(math.radians(fov_y) / 2.0)
    tan_x = tan_y * width / height
    dist = max((high - low) / 2.0 / tan_y, (right - left) / 2.0 / tan_x) + extent_z
    cx, cy = (left + right) / 2.0, (low + high) / 2.0
    return Camera(eye=(cx, cy, depth + dist), target=(cx, cy, depth), fov_y=fov_y, width=width, height=height)


def preset_camera(preset: str, framing: BodyFraming, width: int, height: int, fov_y: float = DEFAULT_FOV_Y) -> Camera:
    """The camera of ``preset`` for one canonically placed body."""
    low, high, depth = preset_range(preset, framing)
    half = (high - low) / 2.0 * width / height
    return framed_camera(low, high, -half, half, width, height, depth, fov_y,
                         extent_z=0.12 if preset == "face" else 0.3)

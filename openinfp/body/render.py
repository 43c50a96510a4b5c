"""What every body renderer shares: options, canonical placement, camera, drawing.

A body renderer (``skeleton``, ``anny``, ``smplx``) only has to turn ``smplx``
motion into posed triangle meshes (:meth:`BodyRenderer.mesh_batches`) and say where its
pelvis rests and how tall it is; this base class places the body (pelvis at the origin
at frame 0, turned to face the camera), frames it with a camera preset and rasterizes
it on the CPU (:mod:`openinfp.body.raster`). :class:`~openinfp.body.scene.TwoPersonScene`
reuses the same meshes for two people.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Iterator, Optional

import numpy as np
import torch

from openinfp.body.camera import CAMERA_PRESETS, BodyFraming, preset_camera
from openinfp.body.config import BodyRenderOptions
from openinfp.body.convert import facing_yaw, yaw_matrix
from openinfp.body.motion_space import smplx_motion_space
from openinfp.body.raster import Camera, Mesh, background_image, render_mesh
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.interfaces import RenderSource
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import rot6d_to_matrix
from openinfp.core.threads import torch_threads

BODY_COLORS: dict[str, tuple[float, float, float]] = {
    "agent": (0.80, 0.62, 0.50),
    "partner": (0.52, 0.62, 0.78),
}
"""Albedo of a participant's body by label (others get :data:`DEFAULT_BODY_COLOR`)."""
DEFAULT_BODY_COLOR = (0.78, 0.72, 0.66)


def check_render_options(options: BodyRenderOptions) -> None:
    """Raise :class:`ConfigError` for options no renderer can use."""
    if options.camera not in CAMERA_PRESETS:
        raise ConfigError(f"renderer option camera={options.camera!r}; valid choices: {', '.join(CAMERA_PRESETS)}")
    if options.size < 16 or options.size % 2:
        raise ConfigError(f"renderer option size={options.size}: need an even number of pixels >= 16")
    if options.threads < 0:
        raise ConfigError(f"renderer option threads={options.threads}: need 0 (torch's setting) or more")
    if options.batch_frames < 1:
        raise ConfigError(f"renderer option batch_frames={options.batch_frames}: need at least 1")


def frames_with_threads(threads: int, make_frames: Iterator[np.ndarray]) -> Iterator[np.ndarray]:
    """Advance ``make_frames`` under :func:`torch_threads`, yielding outside it."""
    while True:
        with torch_threads(threads):
            frame = next(make_frames, None)
        if frame is None:
            return
        yield frame


def body_color(label: str) -> tuple[float, float, float]:
    return BODY_COLORS.get(label, DEFAULT_BODY_COLOR)


def check_smplx_motion(motion: MotionSequence, who: str) -> None:
    if not isinstance(motion, MotionSequence):
        raise InputError(f"{who} renders a MotionSequence, got {type(motion).__name__}")
    if motion.space.name != "smplx" or motion.space.dim != smplx_motion_space().dim:
        raise InputError(f"{who} draws 'smplx' motion, got {motion.space.name!r} "
                         "(lift head motion with openinfp.body.convert.head_to_smplx)")


class BodyRenderer(ABC):
    """Base class of the body renderers (implements :class:`openinfp.core.interfaces.Renderer`).

    Subclasses implement :meth:`_load`, :meth:`mesh_batches`, :meth:`rest_pelvis` and
    :meth:`framing`.
    """

    name = "body"

    def __init__(self, options: Optional[BodyRenderOptions] = None) -> None:
        self.options = options or BodyRenderOptions()
        check_render_options(self.options)
        self.source = RenderSource()
        self._loaded = False

    # ----- to implement ----------------------------------------------------------------
    @abstractmethod
    def _load(self) -> None:
        """Load the body model (called once, lazily)."""

    @abstractmethod
    def mesh_batches(self, motion: MotionSequence, label: Optional[str] = None) -> Iterator[Mesh]:
        """Posed meshes in the motion's own world coordinates, as batches of
        consecutive frames (``options.batch_frames`` each, the last may be shorter)."""

    @abstractmethod
    def rest_pelvis(self) -> torch.Tensor:
        """``[3]`` pelvis position of the rest pose before ``transl``."""

    @abstractmethod
    def framing(self) -> BodyFraming:
        """Rest-pose heights relative to the pelvis (for camera presets)."""

    # ----- shared ------------------------------------------------------------------
    def ensure_loaded(self) -> None:
        if not self._loaded:
            self._load()
            self._loaded = True

    def setup(self, source: RenderSource) -> None:
        """Remember the participant (label -> colour, optional betas) and load the model."""
        self.source = source
        self.ensure_loaded()

    def placement(self, motion: MotionSequence) -> tuple[torch.Tensor, torch.Tensor]:
        """Rigid ``(R [3, 3], t [3])`` putting frame 0's pelvis at the origin and, with
        ``face_camera``, turning the body to face +z: ``v -> R @ v + t``."""
        space = motion.space
        root = rot6d_to_matrix(space.get(motion.motion[:1], "global_orient"))[0]
        pelvis = self.rest_pelvis().float() + space.get(motion.motion[0], "transl")
        rot = yaw_matrix(-facing_yaw(root)) if self.options.face_camera else torch.eye(3)
        return rot, -(rot @ pelvis)

    def placed_mesh_batches(self, motion: MotionSequence, label: Optional[str] = None) -> Iterator[Mesh]:
        """:meth:`mesh_batches` moved by :meth:`placement` (canonical: pelvis at 0, facing +z)."""
        check_smplx_motion(motion, f"renderer {self.name!r}")
        self.ensure_loaded()
        rot, t = self.placement(motion)
        for mesh in self.mesh_batches(motion, label):
            yield mesh.transformed(rot, t)

    def camera(self, width: Optional[int] = None, height: Optional[int] = None) -> Camera:
        """The preset camera for one canonically placed body."""
        self.ensure_loaded()
        size = self.options.size
        return preset_camera(self.options.camera, self.framing(), width or size, height or size)

    def render(self, motion: MotionSequence) -> Iterator[np.ndarray]:
        """Yield ``[size, size, 3]`` uint8 RGB frames, one per motion frame."""
        check_smplx_motion(motion, f"renderer {self.name!r}")
        camera = self.camera()
        background = background_image(camera.width, camera.height)

        def frames() -> Iterator[np.ndarray]:
            for mesh in self.placed_mesh_batches(motion, self.source.label):
                yield from render_mesh(mesh, camera, background)

        yield from frames_with_threads(self.options.threads, frames())

    def _label_color(self, label: Optional[str]) -> tuple[float, float, float]:
        return body_color(label if label is not None else self.source.label)

"""Two people in one picture: :class:`TwoPersonScene`.

Each participant has their own ``smplx`` motion. Both bodies are placed canonically
(pelvis at the origin at the first frame, facing the camera; see
:meth:`openinfp.body.render.BodyRenderer.placement`), then staged:

* ``facing``: the agent stands on the left, the partner on the right, ``spacing``
  metres apart, each turned ``facing_angle`` degrees towards the other (90 = pure
  profiles; the default 60 is the film "cheat" that keeps both faces readable);
* ``side_by_side``: both face the camera, ``spacing`` metres apart.

One camera (the renderer's preset: face, upper body or full body, widened to hold
both) sees both, and both meshes go through one z-buffer, so they can occlude each
other. Frames are ``[size, width, 3]`` uint8 with ``width`` about 16:9.
"""

from __future__ import annotations

import copy
import math
from typing import Iterator, Optional

import numpy as np
import torch

from openinfp.body.camera import framed_camera, preset_range
from openinfp.body.config import SCENE_LAYOUTS
from openinfp.body.convert import yaw_matrix
from openinfp.body.raster import Camera, background_image, merge_meshes, render_mesh
from openinfp.body.render import BodyRenderer, check_smplx_motion, frames_with_threads
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.interfaces import RenderSource
from openinfp.core.motion import MotionSequence

LAYOUTS = SCENE_LAYOUTS
LABELS = ("agent", "partner")


def _even(x: float) -> int:
    return max(2, int(round(x / 2.0)) * 2)


class TwoPersonScene:
    """Render two participants, each with their own motion, into one frame stream.

    Args:
        renderer: a body renderer (``skeleton``, ``anny``, ``smplx`` or any
            :class:`~openinfp.body.render.BodyRenderer`); its options give the camera
            preset, frame height and threads. Any other
            :class:`~openinfp.core.interfaces.Renderer` is drawn once per participant
            and the two pictures are put side by side.
        layout: ``"facing"`` or ``"side_by_side"``.
        spacing: metres between the two pelvises (default 1.2 facing, 0.9 side by side).
        facing_angle: degrees each body turns towards the other in ``facing``.
        width: frame width in pixels (default: 16:9 of the renderer's size).
    """

    def __init__(self, renderer, layout: str = "facing", spacing: Optional[float] = None,
                 facing_angle: float = 60.0, width: Optional[int] = None) -> None:
        if layout not in LAYOUTS:
            raise ConfigError(f"scene layout {layout!r}; valid choices: {', '.join(LAYOUTS)}")
        if not 0.0 <= facing_angle <= 90.0:
            raise ConfigError(f"scene facing_angle={facing_angle}: must be in [0, 90] degrees")
        self.renderer = renderer
        self.layout = layout
        self.spacing = float(spacing if spacing is not None else (1.2 if layout == "facing" else 0.9))
        if self.spacing <= 0:
            raise ConfigError(f"scene spacing={self.spacing}: must be positive")
        self.facing_angle = facing_angle
        size = getattr(getattr(renderer, "options", None), "size", 512)
        self.height = int(size)
        self.width = int(width) if width else _even(size * 16.0 / 9.0)
        if self.width % 2 or self.width < 16:
            raise ConfigError(f"scene width={self.width}: need an even number of pixels >= 16")

    # ----- staging ----------------------------------------------------------------------
    def stage(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Rigid ``(R, t)`` taking participant ``index``'s canonical body to its spot."""
        side = -1.0 if index == 0 else 1.0  # agent on the left (-x), partner on the right
        yaw = 0.0
        if self.layout == "facing":
            yaw = -side * math.radians(self.facing_angle)  # turn towards the other person
        return yaw_matrix(yaw), torch.tensor([side * self.spacing / 2.0, 0.0, 0.0])

    def camera(self) -> Camera:
        """One camera holding both bodies, with the renderer's preset."""
        r = self.renderer
        low, high, depth = preset_range(r.options.camera, r.framing())
        reach = 0.25 if r.options.camera == "face" else 0.5
        half = self.spacing / 2.0 + reach
        if self.layout == "facing" and r.options.camera == "face":
            depth = 0.0  # faces are turned: frame the plane through both heads
        return framed_camera(low, high, -half, half, self.width, self.height, depth,
                             extent_z=0.12 if r.options.camera == "face" else 0.4)

    # ----- rendering --------------------------------------------------------------------
    def render_pair(self, motion_a: MotionSequence, motion_b: MotionSequence) -> Iterator[np.ndarray]:
        """Yield ``[H, W, 3]`` uint8 frames showing the agent (``motion_a``) and the
        partner (``motion_b``); both motions must have the same length and fps."""
        if motion_a.num_frames != motion_b.num_frames or motion_a.fps != motion_b.fps:
            raise InputError(f"the two participants' motions differ: {motion_a.num_frames} frames at "
                             f"{motion_a.fps} fps vs {motion_b.num_frames} at {motion_b.fps} fps; they must match")
        if not isinstance(self.renderer, BodyRenderer):
            yield from self._side_by_side(motion_a, motion_b)
            return
        r = self.renderer
        for motion in (motion_a, motion_b):
            check_smplx_motion(motion, "TwoPersonScene")
        r.ensure_loaded()
        camera = self.camera()
        background = background_image(camera.width, camera.height)
        placed = []
        for i, motion in enumerate((motion_a, motion_b)):
            rot, t = r.placement(motion)
            stage_rot, stage_t = self.stage(i)
            placed.append((stage_rot @ rot, stage_rot @ t + stage_t))

        def frames() -> Iterator[np.ndarray]:
            batches = zip(r.mesh_batches(motion_a, LABELS[0]), r.mesh_batches(motion_b, LABELS[1]))
            for mesh_a, mesh_b in batches:
                both = merge_meshes([mesh_a.transformed(*placed[0]), mesh_b.transformed(*placed[1])])
                yield from render_mesh(both, camera, background)

        yield from frames_with_threads(r.options.threads, frames())

    def _side_by_side(self, motion_a: MotionSequence, motion_b: MotionSequence) -> Iterator[np.ndarray]:
        """Fallback for renderers that only draw one participant: two pictures side by
        side (a copy of the renderer draws the partner, so both stream together)."""
        streams = []
        for i, (label, motion) in enumerate(zip(LABELS, (motion_a, motion_b))):
            renderer = self.renderer if i == 0 else copy.deepcopy(self.renderer)
            renderer.setup(RenderSource(label=label))
            streams.append(iter(renderer.render(motion)))
        for left, right in zip(*streams):
            if left.shape[0] != right.shape[0]:
                raise InputError("the renderer drew the two participants at different heights; cannot compose")
            yield np.concatenate([left, right], axis=1)

"""The ``anny`` renderer (the default body): the open Anny mesh posed by ``smplx`` motion.

Retargeting and the face are described in :mod:`openinfp.body.anny_body`. The body
is shaded by the CPU rasterizer; skin colour follows the participant's label
(agent / partner), eyes and mouth are coloured from Anny's segmentation.
"""

from __future__ import annotations

from typing import Iterator, Optional

import torch

from openinfp.body.anny_body import PHENOTYPES, AnnyBody, load_anny_body
from openinfp.body.camera import BodyFraming
from openinfp.body.config import AnnyRenderOptions
from openinfp.body.convert import neutral_smplx_motion
from openinfp.body.raster import Mesh
from openinfp.body.render import BodyRenderer
from openinfp.core.errors import ConfigError
from openinfp.core.motion import MotionSequence

SKIN_TONES: dict[str, tuple[float, float, float]] = {
    "agent": (0.80, 0.64, 0.54),
    "partner": (0.58, 0.43, 0.34),
}
"""Skin albedo by participant label, so two people in a scene are told apart."""
DEFAULT_SKIN = (0.78, 0.62, 0.52)


class AnnyRenderer(BodyRenderer):
    """Draws ``smplx`` motion on the Anny mesh, with its ARKit face."""

    name = "anny"

    def __init__(self, options: Optional[AnnyRenderOptions] = None) -> None:
        options = options or AnnyRenderOptions()
        for key in PHENOTYPES:
            value = getattr(options, key)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"renderer option {key}={value}: Anny phenotypes lie in [0, 1]")
        super().__init__(options)
        self.body: Optional[AnnyBody] = None

    def _load(self) -> None:
        opts = self.options
        phenotype = tuple((key, float(getattr(opts, key))) for key in PHENOTYPES)
        self.body = load_anny_body(phenotype, opts.cache_dir)
        # Rest heights of the body as retargeted (SMPL-X rest T-pose), for the cameras.
        verts, _, bones = self.body.pose(neutral_smplx_motion(1, pose="tpose").motion, return_bones=True)
        y = verts[0, :, 1]
        heads = bones[0]
        self._framing = BodyFraming(head=float(heads[self.body.bone("head"), 1]),
                                    eyes=float(heads[self.body.bone("eye.L"), 1]),
                                    top=float(y.max()), bottom=float(y.min()))

    def rest_pelvis(self) -> torch.Tensor:
        return torch.zeros(3)  # Anny's root is put on the generic skeleton's pelvis (the origin)

    def framing(self) -> BodyFraming:
        self.ensure_loaded()
        return self._framing

    def mesh_batches(self, motion: MotionSequence, label: Optional[str] = None) -> Iterator[Mesh]:
        self.ensure_loaded()
        body = self.body
        assert body is not None
        colors = body.colors(SKIN_TONES.get(label if label is not None else self.source.label, DEFAULT_SKIN))
        batch = self.options.batch_frames
        for start in range(0, motion.num_frames, batch):
            with torch.no_grad():
                verts, normals = body.pose(motion.motion[start:start + batch])
            yield Mesh(verts, body.faces, colors, normals)

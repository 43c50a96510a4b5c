"""The ``smplx`` renderer: the user's own SMPL-X model, posed by the ``smplx`` package.

SMPL-X model files are licence-gated and cannot ship; point ``model_dir`` (the CLI's
``--smplx-model-dir``) at the folder of the SMPL-X download, holding
``smplx/SMPLX_NEUTRAL.npz`` (or ``SMPLX_NEUTRAL.npz`` directly; ``MALE``/``FEMALE``
with ``gender``). Only ``.npz`` files are read.

Mapping: the 55 joints go in as axis-angle (hands with ``flat_hand_mean=True``, so a
zero hand pose is a flat hand, as in the motion space); the jaw opens by the larger of
the jaw joint and ARKit ``jawOpen`` (:func:`~openinfp.body.convert.jaw_open_amount`);
the SMPL-X expression coefficients come from the motion's ``smplx_expressions``
annotation when it has one (motion read from BEAT2), else they are zero: the ARKit
face cannot be expressed in the SMPL-X expression basis without fitting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Optional

import numpy as np
import torch

from openinfp.body.beat2 import SMPLX_EXPRESSION_ANNOTATION
from openinfp.body.camera import BodyFraming
from openinfp.body.config import SMPLX_GENDERS, SmplxRenderOptions
from openinfp.body.convert import JAW_OPEN_ANGLE, jaw_open_amount, jaw_pitch
from openinfp.body.motion_space import joint_position, joint_rotmats, smplx_motion_space
from openinfp.body.raster import Mesh
from openinfp.body.render import BodyRenderer
from openinfp.core.errors import ConfigError, DependencyError, InputError
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import matrix_to_axis_angle, rot6d_to_matrix

GENDERS = SMPLX_GENDERS


def find_smplx_file(model_dir: str, gender: str = "neutral") -> Path:
    """The SMPL-X ``.npz`` inside ``model_dir`` (``smplx/SMPLX_<G>.npz`` or ``SMPLX_<G>.npz``).

    Raises:
        ConfigError: no folder given.
        InputError: the folder or the file is missing, or only a ``.pkl`` is there.
    """
    if not model_dir:
        raise ConfigError("the smplx renderer needs the SMPL-X model files (licence-gated, from "
                          "smpl-x.is.tue.mpg.de): pass --smplx-model-dir DIR or renderer.options.model_dir=DIR, "
                          "DIR holding smplx/SMPLX_NEUTRAL.npz; or use --body anny, which needs no files")
    root = Path(model_dir).expanduser()
    if not root.is_dir():
        raise InputError(f"SMPL-X model folder {root} does not exist")
    name = f"SMPLX_{gender.upper()}"
    for candidate in (root / "smplx" / f"{name}.npz", root / f"{name}.npz"):
        if candidate.is_file():
            return candidate
    if (root / "smplx" / f"{name}.pkl").is_file() or (root / f"{name}.pkl").is_file():
        raise InputError(f"SMPL-X model folder {root} has only {name}.pkl; use the {name}.npz from the same "
                         "SMPL-X download (pickles are not loaded)")
    raise InputError(f"SMPL-X model folder {root} has no smplx/{name}.npz (nor {name}.npz); "
                     "unpack the SMPL-X download there")


class SmplxRenderer(BodyRenderer):
    """Draws ``smplx`` motion on the user's SMPL-X model."""

    name = "smplx"

    def __init__(self, options: Optional[SmplxRenderOptions] = None) -> None:
        options = options or SmplxRenderOptions()
        if options.gender not in GENDERS:
            raise ConfigError(f"renderer option gender={options.gender!r}; valid choices: {', '.join(GENDERS)}")
        if options.num_betas < 1 or options.num_expression_coeffs < 1:
            raise ConfigError("renderer options num_betas and num_expression_coeffs must be at least 1")
        super().__init__(options)
        self.path = find_smplx_file(options.model_dir, options.gender)  # fail early, before any rendering
        self.model = None

    def _load(self) -> None:
        try:
            import smplx
        except ImportError as exc:
            raise DependencyError(f"the smplx renderer needs the 'smplx' package ({exc}); pip install smplx") from None
        opts = self.options
        try:
            self.model = smplx.SMPLX(str(self.path), ext="npz", gender=opts.gender, use_pca=False,
                                     flat_hand_mean=True, num_betas=opts.num_betas,
                                     num_expression_coeffs=opts.num_expression_coeffs)
        except (KeyError, ValueError, OSError, AttributeError, RuntimeError) as exc:
            raise InputError(f"SMPL-X model {self.path} could not be loaded by smplx: {exc}") from None
        self.model.eval()
        self.faces = torch.as_tensor(np.asarray(self.model.faces, dtype=np.int64))
        self._shape_body(self.source.betas)

    def _shape_body(self, betas: Optional[np.ndarray]) -> None:
        """Set the body shape and the rest-pose quantities that depend on it."""
        self._betas = self._betas_of(betas)
        with torch.no_grad():
            rest = self.model(betas=self._betas)
        joints, verts = rest.joints[0], rest.vertices[0]
        pelvis = float(joints[joint_position("pelvis"), 1])
        self._rest_pelvis = joints[joint_position("pelvis")].clone()
        self._framing = BodyFraming(head=float(joints[joint_position("head"), 1]) - pelvis,
                                    eyes=float(joints[joint_position("left_eye_smplhf"), 1]) - pelvis,
                                    top=float(verts[:, 1].max()) - pelvis, bottom=float(verts[:, 1].min()) - pelvis)

    def setup(self, source) -> None:
        """Remember the participant; ``source.betas`` (if any) shape the body."""
        self.source = source
        self.ensure_loaded()
        self._shape_body(source.betas)

    def _betas_of(self, betas: Optional[np.ndarray]) -> torch.Tensor:
        n = self.options.num_betas
        out = torch.zeros(1, n)
        if betas is not None:
            b = torch.as_tensor(np.asarray(betas, dtype=np.float32).reshape(-1))
            if not torch.isfinite(b).all():
                raise InputError("body shape betas contain NaN or infinite values")
            out[0, :min(n, b.numel())] = b[:n]
        return out

    def rest_pelvis(self) -> torch.Tensor:
        self.ensure_loaded()
        return self._rest_pelvis

    def framing(self) -> BodyFraming:
        self.ensure_loaded()
        return self._framing

    def smplx_inputs(self, motion: torch.Tensor, smplx_expressions: Optional[np.ndarray] = None) -> dict:
        """Keyword arguments of ``smplx.SMPLX.forward`` for ``[T, 385]`` motion."""
        self.ensure_loaded()
        space = smplx_motion_space()
        T = motion.shape[0]
        aa = matrix_to_axis_angle(joint_rotmats(motion))  # [T, 55, 3]
        # The jaw opens by the larger of the jaw joint and ARKit jawOpen.
        jaw = aa[:, joint_position("jaw")].clone()
        pitch = jaw_open_amount(motion) * JAW_OPEN_ANGLE
        own = jaw_pitch(rot6d_to_matrix(space.get(motion, "jaw")))
        wider = pitch > own + 1e-6
        jaw[wider] = torch.stack([pitch[wider], torch.zeros_like(pitch[wider]), torch.zeros_like(pitch[wider])], -1)
        expression = torch.zeros(T, self.options.num_expression_coeffs)
        if smplx_expressions is not None:
            e = torch.as_tensor(np.asarray(smplx_expressions, dtype=np.float32))
            k = min(e.shape[1], expression.shape[1])
            expression[:, :k] = e[:, :k]

        def joints(first: str, count: int) -> torch.Tensor:
            start = joint_position(first)
            return aa[:, start:start + count].reshape(T, -1)

        return dict(
            betas=self._betas.expand(T, -1), global_orient=aa[:, joint_position("pelvis")],
            body_pose=joints("left_hip", 21), jaw_pose=jaw, leye_pose=aa[:, joint_position("left_eye_smplhf")],
            reye_pose=aa[:, joint_position("right_eye_smplhf")], left_hand_pose=joints("left_index1", 15),
            right_hand_pose=joints("right_index1", 15), transl=space.get(motion, "transl"), expression=expression,
        )

    def mesh_batches(self, motion: MotionSequence, label: Optional[str] = None) -> Iterator[Mesh]:
        self.ensure_loaded()
        colors = torch.tensor(self._label_color(label)).expand(self.model.v_template.shape[0], 3)
        expressions = motion.annotations.get(SMPLX_EXPRESSION_ANNOTATION)
        batch = self.options.batch_frames
        for start in range(0, motion.num_frames, batch):
            chunk = motion.motion[start:start + batch]
            expr = None if expressions is None else expressions[start:start + batch]
            with torch.no_grad():
                out = self.model(**self.smplx_inputs(chunk, expr))
            yield Mesh(out.vertices, self.faces, colors)

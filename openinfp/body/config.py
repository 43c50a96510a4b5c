"""Options of the full-body stage: the pipeline's ``body`` section and the body
renderers' option dataclasses (dataclasses only, so importing this is cheap)."""

from __future__ import annotations

from dataclasses import dataclass, field

CAMERA_PRESETS: tuple[str, ...] = ("face", "upper_body", "full_body")
SCENE_LAYOUTS: tuple[str, ...] = ("facing", "side_by_side")
SMPLX_GENDERS: tuple[str, ...] = ("neutral", "male", "female")
BODY_MODELS: tuple[str, ...] = ("none", "skeleton", "anny", "smplx")
"""``body.model`` choices: ``none`` (head only) or a body model (the name of its renderer)."""


@dataclass
class BodyConfig:
    """Body model choice and model files."""

    model: str = field(default="none", metadata={"choices": BODY_MODELS,
                       "help": "body to render: none (head only), skeleton, anny mesh, user SMPL-X"})
    smplx_model_dir: str = field(default="", metadata={"help": "folder holding smplx/SMPLX_NEUTRAL.npz"})


@dataclass
class BodyRenderOptions:
    """Options every body renderer takes."""

    camera: str = field(default="upper_body", metadata={
        "choices": CAMERA_PRESETS, "help": "camera preset: face, upper_body or full_body"})
    size: int = field(default=512, metadata={"help": "frame height and width in pixels (even)", "range": (64, 4096)})
    face_camera: bool = field(default=True, metadata={
        "help": "turn the body so that it faces the camera at the first frame"})
    batch_frames: int = field(default=4, metadata={"help": "frames posed and rasterized together", "range": (1, 256)})
    threads: int = field(default=1, metadata={
        "help": "torch CPU threads while rendering (1 is fastest on a busy 2-core CPU; 0 = leave torch's setting)",
        "range": (0, 256)})


@dataclass
class SkeletonRenderOptions(BodyRenderOptions):
    """Options of the ``skeleton`` renderer (those of every body renderer)."""


_PHENO_HELP = "Anny phenotype in [0, 1] (0.5 = average)"


@dataclass
class AnnyRenderOptions(BodyRenderOptions):
    """Options of the ``anny`` renderer: the body options plus Anny's phenotype."""

    gender: float = field(default=0.5, metadata={"help": "Anny phenotype: 0 female .. 1 male", "range": (0.0, 1.0)})
    age: float = field(default=0.5, metadata={"help": _PHENO_HELP + " (age)", "range": (0.0, 1.0)})
    muscle: float = field(default=0.5, metadata={"help": _PHENO_HELP + " (muscle)", "range": (0.0, 1.0)})
    weight: float = field(default=0.5, metadata={"help": _PHENO_HELP + " (weight)", "range": (0.0, 1.0)})
    height: float = field(default=0.5, metadata={"help": _PHENO_HELP + " (height)", "range": (0.0, 1.0)})
    proportions: float = field(default=0.5, metadata={"help": _PHENO_HELP + " (proportions)", "range": (0.0, 1.0)})
    cache_dir: str = field(default="", metadata={
        "help": "Anny's model-data cache (default $ANNY_CACHE_DIR or ~/.cache/openinfp/anny)"})


@dataclass
class SmplxRenderOptions(BodyRenderOptions):
    """Options of the ``smplx`` renderer: the body options plus the model files."""

    model_dir: str = field(default="", metadata={
        "help": "folder holding smplx/SMPLX_NEUTRAL.npz from the SMPL-X download (required)"})
    gender: str = field(default="neutral", metadata={"choices": SMPLX_GENDERS, "help": "which SMPL-X model file"})
    num_betas: int = field(default=10, metadata={"help": "shape coefficients used (from RenderSource.betas)",
                                                 "range": (0, 300)})
    num_expression_coeffs: int = field(default=10, metadata={"help": "SMPL-X expression coefficients used",
                                                             "range": (0, 100)})

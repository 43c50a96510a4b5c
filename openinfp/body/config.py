"""Options of the full-body stage."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class BodyConfig:
    """Body model choice and model files."""

    model: str = field(default="none", metadata={"choices": ("none", "skeleton", "anny", "smplx"),
                       "help": "body to render: none (head only), skeleton, anny mesh, user SMPL-X"})
    smplx_model_dir: str = field(default="", metadata={"help": "folder holding smplx/SMPLX_NEUTRAL.npz"})

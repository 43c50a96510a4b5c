"""Options of the motion generator (DiT + sampler) and of training."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DiTConfig:
    """Motion diffusion transformer size and windowing."""

    window: int = field(default=50, metadata={"help": "frames generated per window"})
    context: int = field(default=10, metadata={"help": "frames of the previous window used as context"})
    width: int = 256
    depth: int = 4
    heads: int = 4
    dropout: float = 0.1
    cond_dropout: float = field(default=0.1, metadata={"help": "condition dropout for classifier-free guidance"})


@dataclass
class SamplerConfig:
    """Diffusion sampling."""

    scheduler: str = field(default="ddim", metadata={"choices": ("ddim", "dpmsolver++")})
    steps: int = 10
    guidance_scale: float = 1.0


@dataclass
class ModelConfig:
    """Which weights to load and how to sample."""

    checkpoint: str = field(default="", metadata={"help": "checkpoint folder; empty = shipped default"})
    dit: DiTConfig = field(default_factory=DiTConfig)
    sampler: SamplerConfig = field(default_factory=SamplerConfig)


@dataclass
class TrainConfig:
    """Training loop options."""

    out_dir: str = "runs/default"
    steps: int = 2000
    batch_size: int = 32
    lr: float = 3e-4
    ema_decay: float = 0.999
    val_every: int = 250
    save_every: int = 500
    resume: bool = False

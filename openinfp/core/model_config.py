"""Options of the motion generator (guider + DiT + sampler) and of training.

These dataclasses are the single source of every model hyper-parameter: the YAML
presets set them, the checkpoint's ``config.json`` files store them, and the modules
are built from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict


def _default_token_dims() -> Dict[str, int]:
    # audio: the audio conditioner's frame features; text: MiniLM sentence embedding.
    return {"audio": 0, "text": 384}


@dataclass
class GuiderConfig:
    """Interactive motion guider: both people's audio (+ style tokens) -> per-frame features.

    ``token_dims`` maps a conditioner's token name to its width; ``0`` means "fill in
    from the data when training starts". Tokens whose name is not listed are ignored
    (with a warning) by a trained model.
    """

    width: int = field(default=128, metadata={"help": "feature width of the guider"})
    bank_size: int = field(default=64, metadata={"help": "entries per memory bank (verbal, non-verbal)"})
    heads: int = field(default=4, metadata={"help": "attention heads of the bank look-ups"})
    use_memory_banks: bool = field(default=True, metadata={
        "help": "false = ablation: audio features are projected directly, without memory banks"})
    audio_kernel: int = field(default=5, metadata={"help": "temporal kernel of the audio feature encoder"})
    audio_layers: int = field(default=3, metadata={"help": "dilated conv blocks of the audio feature encoder"})
    token_dims: Dict[str, int] = field(default_factory=_default_token_dims, metadata={
        "help": "input width of each condition token name"})
    dropout: float = 0.1


@dataclass
class DiTConfig:
    """Motion diffusion transformer size and windowing."""

    window: int = field(default=50, metadata={"help": "frames generated per window"})
    context: int = field(default=10, metadata={"help": "frames of the previous window used as context"})
    width: int = 128
    depth: int = 4
    heads: int = 4
    dropout: float = 0.1
    cond_dropout: float = field(default=0.1, metadata={"help": "condition dropout for classifier-free guidance"})
    context_dropout: float = field(default=0.15, metadata={
        "help": "probability of training a window without previous-window context (first windows)"})
    context_noise: float = field(default=0.05, metadata={
        "help": "std of noise added to the context frames in training (robustness to own errors)"})
    train_timesteps: int = field(default=1000, metadata={"help": "diffusion steps of the training schedule"})
    beta_schedule: str = field(default="squaredcos_cap_v2", metadata={
        "choices": ("linear", "scaled_linear", "squaredcos_cap_v2")})


@dataclass
class SamplerConfig:
    """Diffusion sampling."""

    scheduler: str = field(default="ddim", metadata={"choices": ("ddim", "dpmsolver++")})
    steps: int = 10
    guidance_scale: float = field(default=1.0, metadata={
        "help": "classifier-free guidance; 1 = off (one network pass per step)"})


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
    weight_decay: float = 0.01
    warmup_steps: int = 100
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    val_every: int = 250
    save_every: int = 500
    log_every: int = 25
    resume: bool = False
    seed: int = 0
    val_fraction: float = field(default=0.1, metadata={
        "help": "fraction of conversations held out for validation (when the corpus has no split)"})
    velocity_weight: float = field(default=1.0, metadata={"help": "weight of the frame-velocity loss"})
    speaking_weight: float = field(default=0.1, metadata={
        "help": "weight of the auxiliary speaking-state loss (annotations only; 0 = off)"})
    swap_roles: bool = field(default=True, metadata={
        "help": "also train on each conversation seen from the partner's side"})
    cache_dir: str = field(default="", metadata={"help": "conditioner feature cache; empty = <out_dir>/cache"})
    max_conversations: int = field(default=0, metadata={"help": "use at most this many conversations (0 = all)"})
    eval_conversations: int = field(default=8, metadata={"help": "held-out conversations used by the final evaluation"})
    num_workers: int = 0
    corpus_activity: bool = field(default=True, metadata={
        "help": "give the audio conditioner the corpus' speech activity for training conversations (fast); "
                "held-out conversations are always encoded as at inference (voice activity detection)"})
    threads: int = field(default=0, metadata={
        "help": "torch CPU threads (0 = torch's default); 1 is fastest on a busy shared CPU"})

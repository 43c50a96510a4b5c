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

    width: int = field(default=128, metadata={"range": (1, 8192), "help": "feature width of the guider"})
    bank_size: int = field(default=64, metadata={"range": (1, 65536),
        "help": "entries per memory bank (verbal, non-verbal)"})
    heads: int = field(default=4, metadata={"range": (1, 128), "help": "attention heads of the bank look-ups"})
    use_memory_banks: bool = field(default=True, metadata={
        "help": "false = ablation: audio features are projected directly, without memory banks"})
    audio_kernel: int = field(default=5, metadata={"range": (1, 99),
        "help": "temporal kernel of the audio feature encoder"})
    audio_layers: int = field(default=3, metadata={"range": (1, 64),
        "help": "dilated conv blocks of the audio feature encoder"})
    token_dims: Dict[str, int] = field(default_factory=_default_token_dims, metadata={
        "help": "input width of each condition token name"})
    dropout: float = field(default=0.1, metadata={"range": (0.0, 1.0), "help": "dropout in training"})


@dataclass
class DiTConfig:
    """Motion diffusion transformer size and windowing."""

    window: int = field(default=50, metadata={"range": (2, 100_000), "help": "frames generated per window"})
    context: int = field(default=10, metadata={"range": (0, 10_000),
        "help": "frames of the previous window used as context"})
    width: int = field(default=128, metadata={"range": (1, 8192), "help": "feature width of the transformer"})
    depth: int = field(default=4, metadata={"range": (1, 128), "help": "transformer blocks"})
    heads: int = field(default=4, metadata={"range": (1, 128), "help": "attention heads per block"})
    dropout: float = field(default=0.1, metadata={"range": (0.0, 1.0), "help": "dropout in training"})
    cond_dropout: float = field(default=0.1, metadata={"range": (0.0, 1.0),
        "help": "condition dropout for classifier-free guidance"})
    context_dropout: float = field(default=0.15, metadata={"range": (0.0, 1.0),
        "help": "probability of training a window without previous-window context (first windows)"})
    context_noise: float = field(default=0.05, metadata={"range": (0.0, 100.0),
        "help": "std of noise added to the context frames in training (robustness to own errors)"})
    train_timesteps: int = field(default=1000, metadata={"range": (1, 100_000),
        "help": "diffusion steps of the training schedule"})
    beta_schedule: str = field(default="squaredcos_cap_v2", metadata={
        "choices": ("linear", "scaled_linear", "squaredcos_cap_v2"),
        "help": "noise schedule of the diffusion (diffusers beta_schedule)"})


@dataclass
class SamplerConfig:
    """Diffusion sampling."""

    scheduler: str = field(default="ddim", metadata={"choices": ("ddim", "dpmsolver++"),
                           "help": "diffusers sampler used at inference"})
    steps: int = field(default=10, metadata={"range": (1, 1000), "help": "denoising steps per window"})
    guidance_scale: float = field(default=1.0, metadata={"range": (0.0, 100.0),
        "help": "classifier-free guidance; 1 = off (one network pass per step)"})


@dataclass
class ModelConfig:
    """Which weights to load and how to sample."""

    checkpoint: str = field(default="", metadata={"help": "checkpoint folder; empty = shipped default"})
    dit: DiTConfig = field(default_factory=DiTConfig, metadata={"help": "motion diffusion transformer"})
    sampler: SamplerConfig = field(default_factory=SamplerConfig, metadata={"help": "diffusion sampling"})


@dataclass
class TrainConfig:
    """Training loop options."""

    out_dir: str = field(default="runs/default", metadata={"help": "folder of the checkpoint, logs and cache"})
    steps: int = field(default=2000, metadata={"range": (0, 1_000_000_000), "help": "optimiser steps"})
    batch_size: int = field(default=32, metadata={"range": (1, 65536), "help": "windows per optimiser step"})
    lr: float = field(default=3e-4, metadata={"range": (0.0, 10.0), "help": "peak AdamW learning rate"})
    weight_decay: float = field(default=0.01, metadata={"range": (0.0, 10.0), "help": "AdamW weight decay"})
    warmup_steps: int = field(default=100, metadata={"range": (0, 1_000_000_000),
        "help": "steps of linear learning-rate warm-up"})
    grad_clip: float = field(default=1.0, metadata={"range": (0.0, 1e6),
        "help": "clip the gradient norm to this (0 = off)"})
    ema_decay: float = field(default=0.999, metadata={"range": (0.0, 1.0),
        "help": "decay of the weights' exponential moving average (the EMA weights are saved)"})
    val_every: int = field(default=250, metadata={"range": (1, 1_000_000_000),
        "help": "validate every this many steps"})
    save_every: int = field(default=500, metadata={"range": (1, 1_000_000_000),
        "help": "save the checkpoint every this many steps"})
    log_every: int = field(default=25, metadata={"range": (1, 1_000_000_000),
        "help": "log the losses every this many steps"})
    resume: bool = field(default=False, metadata={"help": "continue from the optimiser state saved in out_dir"})
    seed: int = field(default=0, metadata={"range": (0, 2**32 - 1), "help": "training seed (init, batches, noise)"})
    val_fraction: float = field(default=0.1, metadata={"range": (0.0, 1.0),
        "help": "fraction of conversations held out for validation (when the corpus has no split)"})
    velocity_weight: float = field(default=1.0, metadata={"range": (0.0, 1000.0),
        "help": "weight of the frame-velocity loss"})
    speaking_weight: float = field(default=0.1, metadata={"range": (0.0, 1000.0),
        "help": "weight of the auxiliary speaking-state loss (annotations only; 0 = off)"})
    swap_roles: bool = field(default=True, metadata={
        "help": "also train on each conversation seen from the partner's side"})
    cache_dir: str = field(default="", metadata={"help": "conditioner feature cache; empty = <out_dir>/cache"})
    max_conversations: int = field(default=0, metadata={"range": (0, 1_000_000_000),
        "help": "use at most this many conversations (0 = all)"})
    eval_conversations: int = field(default=8, metadata={"range": (0, 1_000_000),
        "help": "held-out conversations used by the final evaluation"})
    num_workers: int = field(default=0, metadata={"range": (0, 256),
        "help": "DataLoader worker processes (0 = load in the training process)"})
    corpus_activity: bool = field(default=True, metadata={
        "help": "give the audio conditioner the corpus' speech activity for training conversations (fast); "
                "held-out conversations are always encoded as at inference (voice activity detection)"})
    threads: int = field(default=0, metadata={"range": (0, 256),
        "help": "torch CPU threads (0 = torch's default); 1 is fastest on a busy shared CPU"})

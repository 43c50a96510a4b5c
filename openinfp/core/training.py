"""Training of the motion generator (guider + DiT) and its evaluation.

``openinfp train --config head`` runs :func:`train`:

1. **Feature cache.** Every conversation of the corpus (``data.root``, the shard format
   of :mod:`openinfp.data.shards`, passed in by the caller) is passed once through the configured conditioners
   (audio for both tracks, text for each side's style prompt); the tokens, both sides'
   motion and speech activity are cached as ``.npz`` (no pickles) under
   ``train.cache_dir``. Later runs reuse the cache.
2. **Windows.** Training samples are spans of ``context + window`` frames seen from
   either side (the side whose motion is learned is the agent; the other the partner),
   normalised with statistics of the training motion.
3. **Loop.** One process on the CPU, or many through ``accelerate launch`` (PyTorch
   DDP via :class:`accelerate.Accelerator`). AdamW with warm-up, gradient clipping,
   EMA weights, a tqdm bar, metrics in
   ``<out_dir>/metrics.jsonl`` (and TensorBoard when installed), validation loss on
   held-out conversations, and resumable state in ``<out_dir>/state``.
4. **Output.** ``<out_dir>/checkpoint``: a :class:`MotionGenerator` folder with the EMA
   weights; ``<out_dir>/eval.json``: behaviour metrics on held-out conversations.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from openinfp.core.audio import ConversationAudio
from openinfp.core.dit import MotionDiT
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.guider import AUDIO_TOKEN_NAME, GuiderInputs, InteractiveMotionGuider
from openinfp.core.interfaces import ConditionInputs
from openinfp.core.model_config import DiTConfig, GuiderConfig, SamplerConfig, TrainConfig
from openinfp.core.motion_space import MotionSpace
from openinfp.core.sampling import training_noise_scheduler

CACHE_VERSION = 1


# --------------------------------------------------------------------------------------
# Cached conversation features
# --------------------------------------------------------------------------------------


@dataclass
class SideFeatures:
    """One participant of a cached conversation.

    Attributes:
        audio: ``[T, F]`` audio-conditioner features of this side's own track.
        activity: ``[T]`` speech activity in [0, 1].
        motion: ``[T, D]`` motion in the training space, or ``None`` (no motion).
        style: global tokens by conditioner name, e.g. ``{"text": [1, 384]}``.
    """

    audio: np.ndarray
    activity: np.ndarray
    motion: Optional[np.ndarray]
    style: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class ConversationFeatures:
    """A conversation as the trainer sees it: two sides, frame-aligned."""

    id: str
    split: str
    fps: float
    sides: list[SideFeatures]
    space: str = "head"

    @property
    def num_frames(self) -> int:
        return int(self.sides[0].audio.shape[0])

    def save(self, path: Path, extra_motion: Optional[dict[int, dict[str, np.ndarray]]] = None) -> None:
        """Write the cache file; ``extra_motion`` adds other spaces' motion per side."""
        arrays: dict[str, np.ndarray] = {"version": np.asarray(CACHE_VERSION), "id": np.asarray(self.id),
                                         "split": np.asarray(self.split), "fps": np.asarray(self.fps),
                                         "space": np.asarray(self.space)}
        for i, s in enumerate(self.sides):
            arrays[f"{i}.audio"] = s.audio.astype(np.float32)
            arrays[f"{i}.activity"] = s.activity.astype(np.float32)
            if s.motion is not None:
                arrays[f"{i}.motion.{self.space}"] = s.motion.astype(np.float32)
            for space, motion in (extra_motion or {}).get(i, {}).items():
                arrays[f"{i}.motion.{space}"] = motion.astype(np.float32)
            for name, tok in s.style.items():
                arrays[f"{i}.style.{name}"] = tok.astype(np.float32)
        from openinfp.core.io import atomic_output, write_npz

        with atomic_output(path, suffix=".npz") as tmp:
            write_npz(tmp, arrays)

    @staticmethod
    def _arrays(path: Path) -> dict[str, np.ndarray]:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        if int(arrays.get("version", -1)) != CACHE_VERSION:
            raise InputError(f"feature cache {path} is from another version; delete the cache folder")
        return arrays

    @staticmethod
    def cached_spaces(path: Path) -> set[str]:
        """Motion spaces stored in a cache file."""
        with np.load(path, allow_pickle=False) as data:
            return {k.split(".", 2)[2] for k in data.files if ".motion." in k}

    @classmethod
    def load(cls, path: Path, space: str) -> "ConversationFeatures":
        """Read a cache file with the motion of ``space`` (``None`` for sides without it)."""
        arrays = cls._arrays(path)
        sides = []
        for i in range(2):
            style = {k.split(".", 2)[2]: v for k, v in arrays.items() if k.startswith(f"{i}.style.")}
            sides.append(SideFeatures(arrays[f"{i}.audio"], arrays[f"{i}.activity"],
                                      arrays.get(f"{i}.motion.{space}"), style))
        return cls(str(arrays["id"]), str(arrays["split"]), float(arrays["fps"]), sides, space)

    def with_motion_from(self, shard: Any, space: str) -> "ConversationFeatures":
        """The same features with the motion of another ``space`` read from the shard."""
        sides = [dataclasses.replace(s, motion=shard.motion(n, space)
                                     if n in shard.sides and space in shard.spaces(n) else None)
                 for n, s in zip(("a", "b"), self.sides)]
        return ConversationFeatures(self.id, self.split, self.fps, sides, space)


def _conditioner_key(conditioners: Sequence[Any], space: str) -> str:
    def options(c: Any) -> Any:
        opts = getattr(c, "options", getattr(c, "config", None))
        return dataclasses.asdict(opts) if dataclasses.is_dataclass(opts) else repr(opts)

    desc = json.dumps([[type(c).__module__ + "." + type(c).__qualname__, options(c)] for c in conditioners]
                      + [space, CACHE_VERSION], sort_keys=True, default=str)
    return hashlib.sha1(desc.encode()).hexdigest()[:12]


def encode_conversation(shard: Any, conditioners: Sequence[Any], space: str,
                        corpus_activity: bool = False) -> ConversationFeatures:
    """Run the conditioners on one shard (:class:`openinfp.data.shards.ConversationShard`).

    Audio tokens are computed with side ``a`` as the agent and side ``b`` as the partner;
    each side's features are its own track's, so the swapped view reuses them. The text
    conditioner (if configured) encodes each side's ``style_text``. ``corpus_activity``
    hands the corpus' speech activity to the audio conditioner instead of letting it run
    voice activity detection (what it does at inference).
    """
    sides = ["a", "b"]
    present = shard.sides
    num_frames = shard.num_frames
    waves = {s: shard.audio(s) if s in present else np.zeros(num_frames * shard.hop, np.float32) for s in sides}
    acts = {s: shard.activity(s) if s in present else np.zeros(num_frames, np.float32) for s in sides}
    audio = ConversationAudio(waves["a"], waves["b"], source=str(shard.path),
                              agent_activity=acts["a"] if corpus_activity else None,
                              partner_activity=acts["b"] if corpus_activity else None,
                              activity_fps=shard.fps)
    audio_feats: dict[str, np.ndarray] = {}
    style: dict[str, dict[str, np.ndarray]] = {s: {} for s in sides}
    for cond in conditioners:
        if getattr(cond, "name", "") == IMAGE_TOKEN_NAME:
            # the corpus stores each side's resting pose/expression (what a style image would
            # show) as a head-space vector; a share of the sides go without it
            for s in sides:
                ref = shard.info["sides"].get(s, {}).get("info", {}).get("reference") if s in present else None
                if ref is not None and _keeps_reference(shard.info["id"], s):
                    style[s][IMAGE_TOKEN_NAME] = np.asarray(ref, dtype=np.float32)[None]
        elif getattr(cond, "name", "") == AUDIO_TOKEN_NAME:
            for tok in cond.encode(ConditionInputs(audio=audio, fps=shard.fps), num_frames):
                side = "a" if tok.role == "agent" else "b"
                audio_feats[side] = tok.tokens.float().numpy()
        else:
            for s in sides:
                text = shard.info["sides"].get(s, {}).get("style_text", "") if s in present else ""
                for tok in cond.encode(ConditionInputs(text=text or None, fps=shard.fps), num_frames):
                    if tok.kind == "global":
                        style[s][tok.name] = tok.tokens.float().numpy()
    if set(audio_feats) != set(sides):
        raise ConfigError("training needs the 'audio' conditioner in conditioners (it gives both tracks' features)")
    out = []
    for s in sides:
        motion = shard.motion(s, space) if s in present and space in shard.spaces(s) else None
        out.append(SideFeatures(audio_feats[s], acts[s], motion, style[s]))
    return ConversationFeatures(shard.info["id"], shard.info.get("split", "train"), shard.fps, out, space)


STYLE_DROPOUT = 0.3
"""Probability that a training window goes without each of its style tokens (text, image)."""

IMAGE_TOKEN_NAME = "image"
REFERENCE_SHARE = 0.6
"""Share of training sides that get their resting pose/expression as an ``image`` token."""


def _keeps_reference(conv_id: str, side: str) -> bool:
    h = int(hashlib.sha1(f"{conv_id}/{side}".encode()).hexdigest()[:8], 16)
    return (h % 1000) / 1000.0 < REFERENCE_SHARE


def build_feature_cache(root: str, conditioners: Sequence[Any], space: str, cache_dir: Path,
                        max_conversations: int = 0, progress: bool = True,
                        corpus_activity: bool = True, *, shards: Any) -> list[ConversationFeatures]:
    """Encode (or load from ``cache_dir``) every conversation of the corpus at ``root``.

    With ``corpus_activity``, training conversations get the corpus' speech activity;
    ``val`` conversations are always encoded as at inference. ``shards`` reads the corpus:
    anything with ``read_manifest(root)`` and ``ConversationShard(path)``, normally the
    module :mod:`openinfp.data.shards` (passed in by the caller: core imports no stage).
    """
    from tqdm.auto import tqdm

    ConversationShard, read_manifest = shards.ConversationShard, shards.read_manifest

    rows = read_manifest(root)
    if max_conversations:
        rows = rows[:max_conversations]
    if not rows:
        raise InputError(f"corpus {root} lists no conversations in its manifest.jsonl")
    # conditioner features do not depend on the motion space: one cache serves every space
    sub = cache_dir / _conditioner_key(conditioners, f"activity={int(corpus_activity)}")
    sub.mkdir(parents=True, exist_ok=True)
    convs = []
    for row in tqdm(rows, desc="conditioner features", unit="conv", disable=not progress, file=sys.stderr):
        path = sub / f"{row['id']}.npz"
        if path.is_file():
            conv = ConversationFeatures.load(path, space)
            if space not in ConversationFeatures.cached_spaces(path) and space in _row_spaces(row):
                old_space = next(iter(ConversationFeatures.cached_spaces(path)), None)
                keep = {} if old_space is None else {
                    i: {old_space: m} for i, m in enumerate(
                        [s.motion for s in ConversationFeatures.load(path, old_space).sides]) if m is not None}
                conv = conv.with_motion_from(ConversationShard(Path(root) / row["file"]), space)
                conv.save(path, extra_motion=keep)
            convs.append(conv)
            continue
        use_corpus = corpus_activity and row.get("split", "train") != "val"
        conv = encode_conversation(ConversationShard(Path(root) / row["file"]), conditioners, space, use_corpus)
        conv.save(path)
        convs.append(conv)
    return convs


def _row_spaces(row: dict[str, Any]) -> set[str]:
    spaces = row.get("spaces", {})
    return {sp for v in spaces.values() for sp in v} if isinstance(spaces, dict) else set(spaces)


def split_conversations(convs: Sequence[ConversationFeatures], val_fraction: float, seed: int
                        ) -> tuple[list[ConversationFeatures], list[ConversationFeatures]]:
    """Train/val split: the corpus' own ``split`` when it has a ``val`` part, else random."""
    val = [c for c in convs if c.split == "val"]
    if val:
        return [c for c in convs if c.split != "val"], val
    order = np.random.default_rng(seed).permutation(len(convs))
    n_val = max(1, int(round(len(convs) * val_fraction))) if len(convs) > 1 else 0
    held = set(order[:n_val].tolist())
    return [c for i, c in enumerate(convs) if i not in held], [c for i, c in enumerate(convs) if i in held]


def motion_stats(convs: Sequence[ConversationFeatures]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std ``[D]`` of all sides' motion."""
    frames = [s.motion for c in convs for s in c.sides if s.motion is not None]
    if not frames:
        raise InputError("no conversation side has motion in the requested motion space")
    allm = torch.from_numpy(np.concatenate(frames)).double()
    return allm.mean(0).float(), allm.std(0).float()


# --------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------


class WindowDataset(torch.utils.data.Dataset):
    """Spans of ``context + window`` frames, from every side that has motion.

    Each item: ``agent_audio [S, F]``, ``partner_audio [S, F]``, ``motion [S, D]``
    (normalised), ``speaking [S, 2]`` (agent, partner activity), ``style.<name>`` tokens.
    """

    def __init__(self, convs: Sequence[ConversationFeatures], space: MotionSpace, span: int, stride: int,
                 swap_roles: bool = True, style_dropout: float = 0.0) -> None:
        self.convs = list(convs)
        self.style_dropout = style_dropout
        self.space = space
        self.span = span
        self.index: list[tuple[int, int, int]] = []
        for ci, conv in enumerate(self.convs):
            sides = [0, 1] if swap_roles else [0]
            for side in sides:
                if conv.sides[side].motion is None or conv.num_frames < span:
                    continue
                for start in range(0, conv.num_frames - span + 1, stride):
                    self.index.append((ci, side, start))
        if not self.index:
            raise InputError(f"no training windows: every conversation is shorter than {span} frames "
                             "or has no motion")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ci, side, start = self.index[i]
        conv = self.convs[ci]
        agent, partner = conv.sides[side], conv.sides[1 - side]
        sl = slice(start, start + self.span)
        motion = self.space.normalize(torch.from_numpy(agent.motion[sl]))
        item = {
            "agent_audio": torch.from_numpy(agent.audio[sl]),
            "partner_audio": torch.from_numpy(partner.audio[sl]),
            "motion": motion,
            "speaking": torch.from_numpy(np.stack([agent.activity[sl], partner.activity[sl]], -1)),
        }
        for name, tok in agent.style.items():
            # style dropout: the model also sees windows without a prompt / style image, as
            # at inference without them (the default run draws from torch's seeded generator)
            if self.style_dropout > 0 and float(torch.rand(())) < self.style_dropout:
                continue
            item[f"style.{name}"] = torch.from_numpy(tok)
        return item


def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack items; style tokens padded to the longest with a mask (absent = all masked)."""
    out = {k: torch.stack([it[k] for it in items]) for k in ("agent_audio", "partner_audio", "motion", "speaking")}
    names = sorted({k for it in items for k in it if k.startswith("style.")})
    for key in names:
        toks = [it.get(key) for it in items]
        ref = next(t for t in toks if t is not None)
        n = max(t.shape[0] for t in toks if t is not None)
        batch = torch.zeros(len(items), n, ref.shape[1])
        mask = torch.zeros(len(items), n, dtype=torch.bool)
        for i, t in enumerate(toks):
            if t is not None:
                batch[i, :t.shape[0]] = t
                mask[i, :t.shape[0]] = True
        out[key] = batch
        out[key + ".mask"] = mask
    return out


def batch_inputs(batch: dict[str, torch.Tensor]) -> GuiderInputs:
    """Guider inputs of a collated batch."""
    style = {k[len("style."):]: (v, batch[k + ".mask"]) for k, v in batch.items()
             if k.startswith("style.") and not k.endswith(".mask")}
    return GuiderInputs(batch["agent_audio"], batch["partner_audio"], style, batch["agent_audio"].shape[1])


# --------------------------------------------------------------------------------------
# The trained module and its loss
# --------------------------------------------------------------------------------------


class MotionModel(nn.Module):
    """Guider + DiT in one module (what DDP wraps); ``forward(batch)`` returns the losses."""

    def __init__(self, guider: InteractiveMotionGuider, dit: MotionDiT, train: TrainConfig) -> None:
        super().__init__()
        self.guider = guider
        self.dit = dit
        self.train_cfg = train
        sched = training_noise_scheduler(dit.config)
        self.register_buffer("alphas_cumprod", sched.alphas_cumprod.float(), persistent=False)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """DDPM forward process (the same schedule as diffusers' ``add_noise``)."""
        a = self.alphas_cumprod.to(x0)[t].view(-1, 1, 1)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def forward(self, batch: dict[str, torch.Tensor], generator: Optional[torch.Generator] = None
                ) -> dict[str, torch.Tensor]:
        cfg = self.dit.config
        c = cfg.context
        motion = batch["motion"]
        b = motion.shape[0]
        device = motion.device

        def rand(*shape: int) -> torch.Tensor:
            return torch.rand(*shape, generator=generator, device="cpu").to(device)

        def randn(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=generator, device="cpu").to(device)

        x0 = motion[:, c:]
        context = motion[:, :c] + cfg.context_noise * randn(*motion[:, :c].shape) if c else None
        # eval-mode calls (validation) keep every context and condition: a fixed, comparable loss
        ctx_valid = rand(b) >= (cfg.context_dropout if self.training else 0.0)
        drop = rand(b) < (cfg.cond_dropout if self.training else 0.0)
        guided = self.guider(batch_inputs(batch))
        tokens = self.dit.encode_condition(guided.features, drop)
        t = (rand(b) * cfg.train_timesteps).long().clamp_max(cfg.train_timesteps - 1)
        noise = randn(*x0.shape)
        pred = self.dit(self.add_noise(x0, noise, t), t, context, tokens, context_valid=ctx_valid)
        loss_x0 = F.mse_loss(pred, x0)
        loss_vel = F.mse_loss(pred[:, 1:] - pred[:, :-1], x0[:, 1:] - x0[:, :-1])
        speaking = batch["speaking"].to(guided.speaking_logits)
        loss_speak = F.binary_cross_entropy_with_logits(guided.speaking_logits, speaking)
        tc = self.train_cfg
        total = loss_x0 + tc.velocity_weight * loss_vel + tc.speaking_weight * loss_speak
        return {"loss": total, "x0": loss_x0.detach(), "vel": loss_vel.detach(), "speak": loss_speak.detach()}


class EMA:
    """Exponential moving average of parameters, with the usual warm-up of the decay.

    ``decay_t = min(decay, (1 + t) / (10 + t))`` so early averages follow the weights
    quickly. (Written here rather than importing ``diffusers.training_utils``, whose
    import pulls in every diffusers model and ``transformers``: a minute on this CPU.)
    """

    def __init__(self, parameters: Iterable[torch.nn.Parameter], decay: float) -> None:
        self.decay = decay
        self.shadow_params = [p.detach().clone() for p in parameters]
        self.optimization_step = 0

    @torch.no_grad()
    def step(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        self.optimization_step += 1
        t = self.optimization_step
        d = min(self.decay, (1 + t) / (10 + t))
        for s, p in zip(self.shadow_params, parameters):
            s.lerp_(p.detach().to(s.device), 1 - d)

    @torch.no_grad()
    def copy_to(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        for s, p in zip(self.shadow_params, parameters):
            p.copy_(s.to(p.device))


# --------------------------------------------------------------------------------------
# Metrics logging
# --------------------------------------------------------------------------------------


class MetricsLog:
    """Appends JSON lines to ``metrics.jsonl``; mirrors scalars to TensorBoard if installed."""

    def __init__(self, out_dir: Path, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = out_dir / "metrics.jsonl"
        self.tb = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

                self.tb = SummaryWriter(str(out_dir / "tensorboard"))
            except ImportError:
                self.tb = None

    def log(self, step: int, **values: float) -> None:
        if not self.enabled:
            return
        row = {"step": step, "time": round(time.time(), 3), **{k: float(v) for k, v in values.items()}}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(k, float(v), step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


# --------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------


@dataclass
class TrainData:
    """What :func:`fit` trains on."""

    train: list[ConversationFeatures]
    val: list[ConversationFeatures]
    token_dims: dict[str, int]


def token_dims_of(convs: Sequence[ConversationFeatures]) -> dict[str, int]:
    """Input widths found in the cached features (audio and each style token name)."""
    dims = {AUDIO_TOKEN_NAME: int(convs[0].sides[0].audio.shape[1])}
    for c in convs:
        for s in c.sides:
            for name, tok in s.style.items():
                dims[name] = int(tok.shape[1])
    return dims


def _lr_lambda(warmup: int, total: int):
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return f


def _state_dir(out_dir: Path) -> Path:
    return out_dir / "state"


def warm_start(gen: Any, folder: Path) -> str:
    """Copy the weights of the checkpoint in ``folder`` into ``gen`` (guider and DiT).

    Tensors of the same name and shape are copied; where only the last dimension grew
    (the audio encoder's input when feature columns were appended) the old columns are
    copied and the new ones start at zero, so the warm-started model initially ignores the
    new inputs. The motion statistics stay the new data's. Returns a one-line summary.
    """
    from openinfp.core.generator import MotionGenerator

    old = MotionGenerator.from_pretrained(str(folder), motion_space=gen.space.name)
    same = grown = skipped = 0
    for new_mod, old_mod in ((gen.guider, old.guider), (gen.dit, old.dit)):
        old_state = {k: v.float() for k, v in old_mod.state_dict().items()}
        state = new_mod.state_dict()
        for name, t in state.items():
            o = old_state.get(name)
            if o is None or o.ndim != t.ndim:
                skipped += 1
            elif o.shape == t.shape:
                state[name] = o.clone()
                same += 1
            elif o.shape[:-1] == t.shape[:-1] and o.shape[-1] < t.shape[-1]:
                fresh = torch.zeros_like(t) if t.ndim > 1 else t.clone()
                fresh[..., : o.shape[-1]] = o
                state[name] = fresh
                grown += 1
            else:
                skipped += 1
        new_mod.load_state_dict(state)
    return f"{same} tensors copied, {grown} widened, {skipped} new"


def fit(
    data: TrainData,
    space: MotionSpace,
    guider_config: GuiderConfig,
    dit_config: DiTConfig,
    sampler: SamplerConfig,
    train: TrainConfig,
    out_dir: Path,
    fps: float = 25.0,
    progress: bool = True,
    info: Optional[dict[str, Any]] = None,
    init_from: Optional[Path] = None,
):
    """Train a :class:`MotionGenerator` on cached features; returns it (EMA weights).

    ``init_from``: a checkpoint folder whose weights start the run (warm start, see
    :func:`warm_start`); ignored when resuming from a training state.

    Writes ``out_dir/checkpoint`` (EMA weights), ``out_dir/state`` (resume) and
    ``out_dir/metrics.jsonl``. Works in one process or under ``accelerate launch``.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    from openinfp.core.checkpoint import load_component, load_optimizer, load_state_into, save_component, save_optimizer
    from openinfp.core.generator import MotionGenerator

    if train.threads > 0:
        torch.set_num_threads(train.threads)
    accelerator = Accelerator()
    set_seed(train.seed)
    out_dir = Path(out_dir)
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
    # the model projects exactly the token names the data has (no unused parameters, which
    # DDP would reject); other names are ignored at inference with a warning
    guider_config = dataclasses.replace(guider_config, token_dims=dict(data.token_dims))
    mean, std = motion_stats(data.train)
    space = space.with_stats(mean, std)
    gen = MotionGenerator.build(guider_config, dit_config, space, sampler, fps)
    if init_from is not None and not (train.resume and (_state_dir(out_dir) / "optimizer" / "config.json").is_file()):
        copied = warm_start(gen, Path(init_from))
        accelerator.print(f"warm start from {init_from}: {copied}")
    model = MotionModel(gen.guider, gen.dit, train)
    span = dit_config.context + dit_config.window
    train_ds = WindowDataset(data.train, space, span, stride=max(1, dit_config.window // 5),
                             swap_roles=train.swap_roles, style_dropout=STYLE_DROPOUT)
    loader_gen = torch.Generator().manual_seed(train.seed)
    loader = torch.utils.data.DataLoader(train_ds, batch_size=train.batch_size, shuffle=True, drop_last=True,
                                         collate_fn=collate, num_workers=train.num_workers, generator=loader_gen)
    if len(loader) == 0:
        raise InputError(f"only {len(train_ds)} training windows, fewer than one batch of {train.batch_size}")
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    names = [n for n, _ in model.named_parameters()]
    ema = EMA(model.parameters(), decay=train.ema_decay)
    step = 0
    state = _state_dir(out_dir)
    if train.resume and (state / "optimizer" / "config.json").is_file():
        _, model_state = load_component(state / "model", "training state")
        load_state_into(model, model_state, state / "model")
        extra = load_optimizer(state / "optimizer", optimizer)
        _, ema_state = load_component(state / "ema", "training state")
        ema.shadow_params = [ema_state[n].clone() for n in names]
        step = int(extra["step"])
        ema.optimization_step = int(extra.get("ema_step", step))
        accelerator.print(f"resumed from {state} at step {step}")
    elif train.resume:
        accelerator.print(f"no training state in {state}; starting from scratch")
    schedule = _lr_lambda(train.warmup_steps, train.steps)
    # stepped by hand once per optimizer step (not prepared: accelerate would step it per process)
    start_step = step
    lr_sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: schedule(i + start_step))
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    raw = accelerator.unwrap_model(model)

    log = MetricsLog(out_dir, enabled=accelerator.is_main_process)
    val_ds = WindowDataset(data.val, space, span, stride=dit_config.window, swap_roles=True) if data.val else None

    def ema_generator() -> MotionGenerator:
        g = MotionGenerator.build(guider_config, dit_config, space, sampler, fps)
        tmp = MotionModel(g.guider, g.dit, train)
        ema.copy_to(tmp.parameters())
        g.info = dict(info or {})
        return g

    def validate() -> float:
        if val_ds is None:
            return float("nan")
        g = ema_generator()
        m = MotionModel(g.guider, g.dit, train).eval()
        rng = torch.Generator().manual_seed(1234)
        losses = []
        vl = torch.utils.data.DataLoader(val_ds, batch_size=train.batch_size, collate_fn=collate)
        with torch.no_grad():
            for vb in vl:
                losses.append(float(m(vb, generator=rng)["x0"]) * vb["motion"].shape[0])
        return sum(losses) / len(val_ds)

    def save() -> None:
        if not accelerator.is_main_process:
            return
        ema_generator().save_pretrained(out_dir / "checkpoint", info={**(info or {}), "step": step})
        save_component(state / "model", {"step": step}, raw.state_dict())
        save_component(state / "ema", {"step": step}, dict(zip(names, ema.shadow_params)))
        save_optimizer(state / "optimizer", optimizer, {"step": step, "ema_step": ema.optimization_step})

    bar = tqdm(total=train.steps, initial=step, desc="training", unit="step", file=sys.stderr,
               disable=not (progress and accelerator.is_main_process))
    model.train()
    epoch = step // len(loader)
    t0 = time.perf_counter()
    running: dict[str, float] = {}
    while step < train.steps:
        loader_gen.manual_seed(train.seed + epoch)  # reproducible order, also after resume
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        skip = step % len(loader) if epoch == step // len(loader) else 0
        for i, batch in enumerate(loader):
            if i < skip:
                continue
            with accelerator.accumulate(model):
                losses = model(batch)
                accelerator.backward(losses["loss"])
                if accelerator.sync_gradients and train.grad_clip > 0:
                    accelerator.clip_grad_norm_(model.parameters(), train.grad_clip)
                optimizer.step()
                lr_sched.step()
                optimizer.zero_grad(set_to_none=True)
            ema.step(raw.parameters())
            step += 1
            for k, v in losses.items():
                running[k] = running.get(k, 0.0) + float(v.detach())
            if step % train.log_every == 0 or step == train.steps:
                n = train.log_every if step % train.log_every == 0 else step % train.log_every
                avg = {k: v / n for k, v in running.items()}
                running = {}
                bar.set_postfix(loss=f"{avg['loss']:.4f}")
                log.log(step, **avg, lr=lr_sched.get_last_lr()[0],
                        steps_per_s=(step - start_step) / (time.perf_counter() - t0))
            if val_ds is not None and (step % train.val_every == 0 or step == train.steps):
                if accelerator.is_main_process:
                    log.log(step, val_x0=validate())
            if step % train.save_every == 0 or step == train.steps:
                save()
            bar.update(1)
            if step >= train.steps:
                break
        epoch += 1
    bar.close()
    log.close()
    accelerator.wait_for_everyone()
    return ema_generator()


# --------------------------------------------------------------------------------------
# Evaluation on held-out conversations
# --------------------------------------------------------------------------------------


def _inputs_of(conv: ConversationFeatures, side: int) -> GuiderInputs:
    agent, partner = conv.sides[side], conv.sides[1 - side]
    style = {k: (torch.from_numpy(v)[None], torch.ones(1, v.shape[0], dtype=torch.bool))
             for k, v in agent.style.items()}
    return GuiderInputs(torch.from_numpy(agent.audio)[None], torch.from_numpy(partner.audio)[None], style,
                        conv.num_frames)


def generate_from_features(gen, conv: ConversationFeatures, side: int, seed: int = 0,
                           steps: Optional[int] = None):
    """Generate one side's motion of a cached conversation (the conditioners already ran)."""
    from openinfp.core.sampling import sample_chained

    inputs = _inputs_of(conv, side)
    inputs.style = {k: v for k, v in inputs.style.items() if k in gen.guider.style_proj}
    out = gen.guide(inputs)
    motion = sample_chained(gen.window_sampler(seed, steps), out.features, conv.num_frames)
    return gen.to_motion(motion[0], out.speaking_logits[0])


def evaluate(systems: dict[str, Any], convs: Sequence[ConversationFeatures], space: MotionSpace,
             fps: float = 25.0, seed: int = 0, steps: Optional[int] = None,
             progress: bool = True) -> dict[str, dict[str, Any]]:
    """Behaviour and distribution metrics of several systems on held-out conversations.

    ``systems``: name -> :class:`MotionGenerator`, or ``"static"`` for the baseline that
    holds the training-mean pose. Each conversation is evaluated from every side that has
    ground-truth motion. Uses :func:`openinfp.core.metrics.score_clips`; adds the
    per-frame jawOpen ROC AUC and nod rates during the partner's turns.
    """
    from tqdm.auto import tqdm

    from openinfp.core.metrics import behaviour
    from openinfp.core.metrics import features as mfeat
    from openinfp.core.metrics.suite import EvalClip, fit_codebooks, score_clips
    from openinfp.core.motion import MotionSequence

    cases = [(c, s) for c in convs for s in (0, 1) if c.sides[s].motion is not None]
    if not cases:
        raise InputError("no held-out conversation side with ground-truth motion to evaluate on")
    targets = [MotionSequence(torch.from_numpy(c.sides[s].motion), space, fps) for c, s in cases]
    codebooks = fit_codebooks(targets)
    face = mfeat.face_slice_name(space)

    def extra(seqs: list[MotionSequence]) -> dict[str, float]:
        jaw, lab, nods, listen_min = [], [], 0, 0.0
        for seq, (c, s) in zip(seqs, cases):
            jaw.append(space.get_component(seq.motion, face, "jawOpen").numpy())
            lab.append(c.sides[s].activity > 0.5)
            listening = (c.sides[1 - s].activity > 0.5) & (c.sides[s].activity <= 0.5)
            found = behaviour.detect_nods(mfeat.head_pitch(seq), fps)
            nods += sum(1 for n in found if listening[n.start])
            listen_min += listening.sum() / fps / 60.0
        labels = np.concatenate(lab)
        return {"jaw_auc": behaviour.roc_auc(np.concatenate(jaw), labels),
                "nods_per_listening_min": nods / max(listen_min, 1e-9)}

    results: dict[str, dict[str, Any]] = {}
    gt_clips = [EvalClip(f"{c.id}:{s}", t, agent_active=c.sides[s].activity > 0.5,
                         partner_active=c.sides[1 - s].activity > 0.5, target=t)
                for (c, s), t in zip(cases, targets)]
    res = score_clips(gt_clips, reference=targets, codebooks=codebooks)
    results["ground_truth"] = {**res.values, **extra(targets)}
    for name, system in systems.items():
        seqs = []
        for c, s in tqdm(cases, desc=f"eval {name}", unit="clip", disable=not progress, file=sys.stderr):
            if system == "static":
                seqs.append(MotionSequence(space.mean.expand(c.num_frames, -1).clone(), space, fps))
            else:
                seqs.append(generate_from_features(system, c, s, seed=seed, steps=steps))
        clips = [EvalClip(g.name, m, agent_active=g.agent_active, partner_active=g.partner_active, target=g.target)
                 for g, m in zip(gt_clips, seqs)]
        res = score_clips(clips, reference=targets, codebooks=codebooks)
        results[name] = {**res.values, **extra(seqs)}
    gt_rate = results["ground_truth"]["nods_per_listening_min"]
    for name in systems:
        rate = results[name]["nods_per_listening_min"]
        results[name]["nod_rate_ratio"] = rate / gt_rate if gt_rate > 0 else float("nan")
    return results


def format_table(results: dict[str, dict[str, Any]], keys: Optional[Iterable[str]] = None) -> str:
    """A Markdown table of :func:`evaluate` results (systems as columns)."""
    systems = list(results)
    keys = list(keys) if keys is not None else sorted({k for r in results.values() for k in r})
    lines = ["| metric | " + " | ".join(systems) + " |", "|---" * (len(systems) + 1) + "|"]
    for k in keys:
        cells = []
        for s in systems:
            v = results[s].get(k)
            cells.append("n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


EVAL_KEYS = ("jaw_auc", "role_auc", "nods_per_listening_min", "nod_rate", "nod_rate_ratio", "fd_exp", "fd_pose",
             "sid_exp", "sid_pose", "var_exp", "var_pose")
"""Metrics shown in the evaluation table (``eval.md``)."""

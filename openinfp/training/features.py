"""Conversation features for training: the cache, the train/val split and the statistics.

Every conversation of the corpus is passed once through the configured conditioners
(audio for both tracks, text for each side's style prompt, the resting pose as the
``image`` token); the tokens, both sides' motion and speech activity are cached as
``.npz`` (no pickles) under ``train.cache_dir``, keyed by the conditioners' options, and
later runs reuse them. The corpus reader is passed in by the caller
(:mod:`openinfp.data.shards`): this package imports only :mod:`openinfp.core`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np
import torch

from openinfp.core.audio import ConversationAudio
from openinfp.core.behaviour import BEHAVIOUR_TOKEN_NAME
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.guider import AUDIO_TOKEN_NAME
from openinfp.core.interfaces import ConditionInputs

CACHE_VERSION = 1

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
                    # the behaviour token is a control applied after sampling, not a learned input
                    if tok.kind == "global" and tok.name != BEHAVIOUR_TOKEN_NAME:
                        style[s][tok.name] = tok.tokens.float().numpy()
    if set(audio_feats) != set(sides):
        raise ConfigError("training needs the 'audio' conditioner in conditioners (it gives both tracks' features)")
    out = []
    for s in sides:
        motion = shard.motion(s, space) if s in present and space in shard.spaces(s) else None
        out.append(SideFeatures(audio_feats[s], acts[s], motion, style[s]))
    return ConversationFeatures(shard.info["id"], shard.info.get("split", "train"), shard.fps, out, space)


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


@dataclass
class TrainData:
    """What :func:`openinfp.training.loop.fit` trains on."""

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

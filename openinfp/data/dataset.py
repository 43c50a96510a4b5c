"""`ConversationDataset`: training windows cut from conversation shards.

Every conversation yields samples from both sides: once with side ``a`` as the agent
(the person whose motion is learnt) and ``b`` as the partner, once the other way round.
Windows are read through memory-mapped safetensors slices, so only the requested
frames are touched.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike
from openinfp.data.shards import SIDE_NAMES, ConversationShard, read_manifest


@dataclass(frozen=True)
class _Entry:
    file: Path
    id: str
    agent: str
    partner: Optional[str]  # None when the shard has only one side (silent partner)
    num_frames: int
    count: int  # windows in this (conversation, side)
    style_text: str


class ConversationDataset(torch.utils.data.Dataset):
    """Windows of ``window`` frames with ``context`` preceding frames, from a shard folder.

    Args:
        root: folder with ``manifest.jsonl`` and the shards.
        space: motion space of ``motion`` (``"head"`` or ``"smplx"``); agents lacking it are skipped.
        window: frames per sample (``W``).
        context: frames of previous motion before the window (``C``); windows start at
            frame ``>= C`` so the context is always real motion.
        split: ``"train"`` or ``"val"`` (held-out conversations and voices).
        hop: frames between consecutive window starts (default ``window // 2`` for
            train, ``window`` for val).
        random_offset: jitter each train window start by up to ``hop - 1`` frames
            (deterministic per index, seed and epoch; see :meth:`set_epoch`). Default:
            on for train, off for val.
        audio_context: extra frames of audio before the window to include (for audio
            encoders with a receptive field); the audio then has ``(C_a + W) * 640`` samples.
        seed: seed of the offsets.
        max_conversations: use only the first N conversations (smoke tests).

    Each sample is a dict:
        ``agent_audio`` float32 ``[(audio_context + W) * 640]``, ``partner_audio`` likewise
        (zeros for a silent partner), ``motion`` float32 ``[W, D]``, ``prev_motion`` float32
        ``[C, D]``, ``agent_activity`` / ``partner_activity`` float32 ``[W]``,
        ``style_text`` str (may be empty), ``conversation`` str, ``agent_side`` str, ``start`` int.
    """

    def __init__(
        self,
        root: PathLike,
        space: str = "head",
        window: int = 60,
        context: int = 10,
        split: str = "train",
        hop: Optional[int] = None,
        random_offset: Optional[bool] = None,
        audio_context: int = 0,
        seed: int = 0,
        max_conversations: Optional[int] = None,
    ) -> None:
        if split not in ("train", "val"):
            raise InputError(f"split must be 'train' or 'val', got {split!r}")
        if window < 1 or context < 0 or audio_context < 0:
            raise InputError(f"window must be >= 1 and context/audio_context >= 0 "
                             f"(got {window}, {context}, {audio_context})")
        if audio_context > context:
            raise InputError(f"audio_context ({audio_context}) cannot exceed context ({context}) frames")
        self.root = Path(root)
        self.space_name = space
        self.window = window
        self.context = context
        self.split = split
        self.hop = hop or (window // 2 if split == "train" else window)
        self.random_offset = (split == "train") if random_offset is None else random_offset
        self.audio_context = audio_context
        self.seed = seed
        self.epoch = 0
        rows = [r for r in read_manifest(self.root) if r["split"] == split]
        if max_conversations is not None:
            rows = rows[:max_conversations]
        self.entries: list[_Entry] = []
        for row in rows:
            for agent in row["sides"]:
                if space not in row["spaces"].get(agent, []):
                    continue
                others = [s for s in row["sides"] if s != agent]
                usable = row["num_frames"] - context - window
                if usable < 0:
                    continue
                self.entries.append(_Entry(self.root / row["file"], row["id"], agent, others[0] if others else None,
                                           row["num_frames"], usable // self.hop + 1,
                                           row.get("style_text", {}).get(agent, "")))
        if not self.entries:
            raise InputError(
                f"no {split} conversations with {space!r} motion of at least {context + window} frames in {self.root} "
                f"(manifest has {len(rows)} {split} rows); generate more data or shorten window/context"
            )
        self._cum = np.cumsum([e.count for e in self.entries]).tolist()
        self._shards: dict[Path, ConversationShard] = {}
        self.space = _registry_space(space)

    def __len__(self) -> int:
        return self._cum[-1]

    def set_epoch(self, epoch: int) -> None:
        """Change the random offsets (call once per epoch for fresh windows)."""
        self.epoch = int(epoch)

    @property
    def num_conversations(self) -> int:
        return len({e.id for e in self.entries})

    @property
    def hours(self) -> float:
        """Hours of agent motion covered (each conversation counted once per side)."""
        return sum(e.num_frames for e in self.entries) / 25.0 / 3600.0

    def _shard(self, path: Path) -> ConversationShard:
        if path not in self._shards:
            self._shards[path] = ConversationShard(path)
        return self._shards[path]

    def locate(self, index: int) -> tuple[_Entry, int]:
        """(entry, window start frame) of sample ``index``."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} windows")
        k = bisect.bisect_right(self._cum, index)
        entry = self.entries[k]
        local = index - (self._cum[k - 1] if k else 0)
        start = self.context + local * self.hop
        if self.random_offset and self.hop > 1:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            start += int(rng.integers(self.hop))
        return entry, min(start, entry.num_frames - self.window)

    def __getitem__(self, index: int) -> dict[str, Any]:
        entry, start = self.locate(index)
        shard = self._shard(entry.file)
        W, C, A = self.window, self.context, self.audio_context
        motion = shard.motion(entry.agent, self.space_name, start - C, start + W)
        agent_audio = shard.audio(entry.agent, start - A, start + W)
        if entry.partner is not None:
            partner_audio = shard.audio(entry.partner, start - A, start + W)
            partner_activity = shard.activity(entry.partner, start, start + W)
        else:
            partner_audio = np.zeros_like(agent_audio)
            partner_activity = np.zeros(W, dtype=np.float32)
        return {
            "agent_audio": torch.from_numpy(agent_audio),
            "partner_audio": torch.from_numpy(partner_audio),
            "motion": torch.from_numpy(np.ascontiguousarray(motion[C:])),
            "prev_motion": torch.from_numpy(np.ascontiguousarray(motion[:C])),
            "agent_activity": torch.from_numpy(shard.activity(entry.agent, start, start + W)),
            "partner_activity": torch.from_numpy(partner_activity),
            "style_text": entry.style_text,
            "conversation": entry.id,
            "agent_side": entry.agent,
            "start": start,
        }


def _registry_space(name: str):
    from openinfp.data.shards import _space

    return _space(name)


def motion_stats(
    root: PathLike,
    space: str = "head",
    split: str = "train",
    max_conversations: Optional[int] = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and std ``[D]`` of a space's motion over a split (both sides).

    Use with :meth:`MotionSpace.with_stats` to normalise training targets.
    """
    rows = [r for r in read_manifest(root) if r["split"] == split][:max_conversations]
    total, total_sq, n = None, None, 0
    for row in rows:
        shard = ConversationShard(Path(root) / row["file"])
        for side in row["sides"]:
            if space not in row["spaces"].get(side, []):
                continue
            m = shard.motion(side, space).astype(np.float64)
            total = m.sum(0) if total is None else total + m.sum(0)
            total_sq = (m ** 2).sum(0) if total_sq is None else total_sq + (m ** 2).sum(0)
            n += m.shape[0]
    if n == 0:
        raise InputError(f"no {split} {space!r} motion in {root} to compute statistics from")
    mean = total / n
    std = np.sqrt(np.maximum(total_sq / n - mean ** 2, 0.0))
    return torch.from_numpy(mean).float(), torch.from_numpy(std).float()


__all__ = ["ConversationDataset", "motion_stats", "SIDE_NAMES"]

"""The conversation shard format: one ``.safetensors`` file per conversation + ``manifest.jsonl``.

A shard holds both participants (sides ``"a"`` and ``"b"``) of one conversation:

=======================  ===============  ==========================================
tensor                   dtype, shape     meaning
=======================  ===============  ==========================================
``{s}.audio``            int16 ``[N]``    16 kHz mono PCM of side ``s`` (x / 32768)
``{s}.activity``         float32 ``[T]``  speech activity of side ``s`` per frame, [0, 1]
``{s}.motion.{space}``   float32 ``[T, D]`` motion of side ``s`` in motion space ``space``
=======================  ===============  ==========================================

with ``N == T * 16000 / fps`` exactly (640 samples per frame at 25 fps). A side may
lack a motion space (e.g. a BEAT2 clip has only ``smplx``; a silent partner has no
motion at all). The safetensors header metadata holds ``format``
(``"openinfp-conversation"``), ``format_version`` and ``info``, a JSON object with
``id``, ``source``, ``split``, ``fps``, ``sample_rate``, ``num_frames``, per side
``style``/``style_text``/``voice``/``spaces``, the motion spaces' dimension names,
``events`` (turns, phonemes, nods, ... for synthetic data) and ``checks``.

``manifest.jsonl`` (one JSON object per line, sorted by id) lists every shard with
``file``, ``duration_s``, ``split``, ``sides``, ``spaces``, ``speech_ratio``,
``style_text`` and ``checks``; it is rebuilt from the shards' headers, so a partial or
parallel run is indexed by :func:`write_manifest`. Nothing is pickled.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Optional

import numpy as np

from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output

FORMAT_NAME = "openinfp-conversation"
FORMAT_VERSION = 1
MANIFEST = "manifest.jsonl"
SHARD_SUFFIX = ".safetensors"
SIDE_NAMES: tuple[str, str] = ("a", "b")


@dataclass
class Side:
    """One participant of a conversation.

    Attributes:
        audio: ``[N]`` float32 in [-1, 1] at 16 kHz (zeros for a silent participant).
        activity: ``[T]`` float32 in [0, 1], speech activity per motion frame.
        motion: motion space name -> ``[T, D]`` float32 (may be empty).
        style_text: description of the behaviour (may be empty for real data).
        style: numeric style parameters, if known.
        info: free JSON-able metadata (voice, tracker, file names, ...).
    """

    audio: np.ndarray
    activity: np.ndarray
    motion: dict[str, np.ndarray] = field(default_factory=dict)
    style_text: str = ""
    style: Optional[dict[str, float]] = None
    info: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    """A conversation in memory, as written to / read from one shard.

    Attributes:
        id: unique name (also the file stem).
        source: where it came from (``"synthetic:seed=0"``, a file path, ...).
        split: ``"train"`` or ``"val"``.
        sides: ``"a"`` and/or ``"b"`` -> :class:`Side`.
        fps: motion frame rate.
        events: JSON-able annotations (turns, phonemes, nods, ...).
    """

    id: str
    source: str
    split: str
    sides: dict[str, Side]
    fps: float = 25.0
    events: dict[str, Any] = field(default_factory=dict)

    @property
    def hop(self) -> int:
        """Audio samples per motion frame."""
        return int(round(SAMPLE_RATE / self.fps))

    @property
    def num_frames(self) -> int:
        return int(next(iter(self.sides.values())).activity.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def checks(self) -> dict[str, Any]:
        """Consistency checks; raises :class:`InputError` naming the first failure."""
        if not self.sides or set(self.sides) - set(SIDE_NAMES):
            raise InputError(f"conversation {self.id}: sides must be among {SIDE_NAMES}, got {sorted(self.sides)}")
        if self.split not in ("train", "val"):
            raise InputError(f"conversation {self.id}: split must be 'train' or 'val', got {self.split!r}")
        if abs(SAMPLE_RATE / self.fps - self.hop) > 1e-6:
            raise InputError(f"conversation {self.id}: fps {self.fps} does not divide {SAMPLE_RATE} Hz "
                             "into whole samples")
        T = self.num_frames
        peak = 0.0
        for name, side in self.sides.items():
            where = f"conversation {self.id}, side {name}"
            if side.audio.ndim != 1 or side.audio.shape[0] != T * self.hop:
                raise InputError(f"{where}: audio has {side.audio.shape} samples, expected [{T * self.hop}] "
                                 f"({T} frames x {self.hop})")
            if side.activity.shape != (T,):
                raise InputError(f"{where}: activity has shape {side.activity.shape}, expected ({T},)")
            if not np.all(np.isfinite(side.audio)) or not np.all(np.isfinite(side.activity)):
                raise InputError(f"{where}: audio or activity holds NaN/inf")
            if side.activity.min(initial=0) < 0 or side.activity.max(initial=0) > 1:
                raise InputError(f"{where}: activity must lie in [0, 1]")
            peak = max(peak, float(np.abs(side.audio).max(initial=0.0)))
            for space_name, motion in side.motion.items():
                space = _space(space_name)
                if motion.shape != (T, space.dim):
                    raise InputError(f"{where}: {space_name} motion has shape {motion.shape}, "
                                     f"expected ({T}, {space.dim})")
                if not np.all(np.isfinite(motion)):
                    raise InputError(f"{where}: {space_name} motion holds NaN/inf")
                for part in space.slices:
                    if part.low is None and part.high is None:
                        continue
                    vals = motion[:, space.index(part.name)]
                    lo = -np.inf if part.low is None else part.low
                    hi = np.inf if part.high is None else part.high
                    if vals.size and (vals.min() < lo - 1e-4 or vals.max() > hi + 1e-4):
                        raise InputError(f"{where}: {space_name} slice {part.name!r} leaves its range [{lo}, {hi}]")
        if peak > 1.0 + 1e-6:
            raise InputError(f"conversation {self.id}: audio peak {peak:.3f} exceeds 1.0 (would clip as int16)")
        return {"lengths_agree": True, "finite": True, "ranges_ok": True, "audio_peak": round(peak, 4)}


@lru_cache(maxsize=None)
def _space(name: str):
    """A registered motion space by name (one registry per process, built on first use)."""
    from openinfp.core.registry import Registry

    return Registry.create().motion_space(name)


def manifest_row(info: dict[str, Any], file: str) -> dict[str, Any]:
    """The manifest entry of a shard, from its header ``info``."""
    sides = info["sides"]
    return {
        "id": info["id"], "file": file, "source": info["source"], "split": info["split"],
        "duration_s": round(info["num_frames"] / info["fps"], 3), "num_frames": info["num_frames"],
        "fps": info["fps"], "sides": sorted(sides),
        "spaces": {s: sides[s]["spaces"] for s in sorted(sides)},
        "speech_ratio": {s: sides[s]["speech_ratio"] for s in sorted(sides)},
        "style_text": {s: sides[s]["style_text"] for s in sorted(sides)},
        "checks": info["checks"],
    }


def write_conversation(conv: Conversation, path: PathLike) -> dict[str, Any]:
    """Validate ``conv`` and write it atomically to ``path``; returns its manifest row.

    Raises:
        InputError: a consistency check failed (nothing is written).
    """
    from safetensors.numpy import save_file

    checks = conv.checks()
    tensors: dict[str, np.ndarray] = {}
    sides_info: dict[str, Any] = {}
    space_names: dict[str, list[str]] = {}
    for name, side in conv.sides.items():
        tensors[f"{name}.audio"] = np.round(np.clip(side.audio, -1.0, 32767 / 32768) * 32768).astype(np.int16)
        tensors[f"{name}.activity"] = np.ascontiguousarray(side.activity, dtype=np.float32)
        for space_name, motion in side.motion.items():
            tensors[f"{name}.motion.{space_name}"] = np.ascontiguousarray(motion, dtype=np.float32)
            space_names.setdefault(space_name, _space(space_name).names)
        sides_info[name] = {
            "spaces": sorted(side.motion), "style_text": side.style_text, "style": side.style,
            "speech_ratio": round(float(side.activity.mean()), 4), "info": side.info,
        }
    info = {
        "id": conv.id, "source": conv.source, "split": conv.split, "fps": conv.fps, "sample_rate": SAMPLE_RATE,
        "num_frames": conv.num_frames, "sides": sides_info, "space_names": space_names, "events": conv.events,
        "checks": checks,
    }
    metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION), "info": json.dumps(info)}
    with atomic_output(path, suffix=SHARD_SUFFIX) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return manifest_row(info, Path(path).name)


class ConversationShard:
    """Lazy, memory-mapped reader of one shard (reads only the requested frames).

    Args:
        path: the ``.safetensors`` file.

    Raises:
        InputError: missing file, not a safetensors file, or not this format.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self._handle = None
        self._pid = -1
        meta = self._file().metadata() or {}
        if meta.get("format") != FORMAT_NAME:
            raise InputError(f"{self.path} is not an openinfp conversation shard (format {meta.get('format')!r})")
        if int(meta.get("format_version", "0")) > FORMAT_VERSION:
            raise InputError(f"{self.path} has format version {meta['format_version']}, newer than this openinfp "
                             f"({FORMAT_VERSION}); upgrade openinfp")
        self.info: dict[str, Any] = json.loads(meta["info"])
        self.fps = float(self.info["fps"])
        self.num_frames = int(self.info["num_frames"])
        self.hop = int(round(SAMPLE_RATE / self.fps))

    def _file(self):
        # one mmap handle per process (DataLoader workers fork)
        if self._handle is None or self._pid != os.getpid():
            from safetensors import safe_open

            if not self.path.is_file():
                raise InputError(f"shard {self.path} does not exist")
            try:
                self._handle = safe_open(str(self.path), framework="np")
            except Exception as exc:  # safetensors raises its own error types
                raise InputError(f"shard {self.path} is not a readable safetensors file ({exc})") from None
            self._pid = os.getpid()
        return self._handle

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_handle"] = None
        return state

    @property
    def sides(self) -> list[str]:
        return sorted(self.info["sides"])

    def spaces(self, side: str) -> list[str]:
        return list(self.info["sides"][side]["spaces"])

    def audio(self, side: str, start_frame: int = 0, stop_frame: Optional[int] = None) -> np.ndarray:
        """``[(stop - start) * hop]`` float32 audio of ``side`` for a frame range."""
        stop_frame = self.num_frames if stop_frame is None else stop_frame
        pcm = self._file().get_slice(f"{side}.audio")[start_frame * self.hop: stop_frame * self.hop]
        return pcm.astype(np.float32) / 32768.0

    def activity(self, side: str, start_frame: int = 0, stop_frame: Optional[int] = None) -> np.ndarray:
        """``[stop - start]`` float32 speech activity of ``side``."""
        stop_frame = self.num_frames if stop_frame is None else stop_frame
        return np.asarray(self._file().get_slice(f"{side}.activity")[start_frame:stop_frame], dtype=np.float32)

    def motion(self, side: str, space: str, start_frame: int = 0, stop_frame: Optional[int] = None) -> np.ndarray:
        """``[stop - start, D]`` float32 motion of ``side`` in ``space``."""
        stop_frame = self.num_frames if stop_frame is None else stop_frame
        key = f"{side}.motion.{space}"
        if space not in self.spaces(side):
            raise InputError(f"shard {self.path}: side {side} has no {space!r} motion (has {self.spaces(side)})")
        return np.asarray(self._file().get_slice(key)[start_frame:stop_frame], dtype=np.float32)

    def load(self) -> Conversation:
        """The whole conversation in memory."""
        sides = {}
        for name, sinfo in self.info["sides"].items():
            sides[name] = Side(
                audio=self.audio(name), activity=self.activity(name),
                motion={sp: self.motion(name, sp) for sp in sinfo["spaces"]},
                style_text=sinfo["style_text"], style=sinfo["style"], info=sinfo["info"],
            )
        return Conversation(self.info["id"], self.info["source"], self.info["split"], sides, self.fps,
                            self.info.get("events", {}))


def shard_is_complete(path: Path) -> bool:
    """True when ``path`` holds a whole, readable shard (resume skips it)."""
    if not path.is_file():
        return False
    try:
        ConversationShard(path)
        return True
    except InputError:
        return False


def iter_shards(root: PathLike) -> Iterator[Path]:
    """Shard files directly inside ``root``, sorted by name."""
    return iter(sorted(p for p in Path(root).glob(f"*{SHARD_SUFFIX}") if not p.name.startswith(".")))


def write_manifest(root: PathLike) -> list[dict[str, Any]]:
    """Rebuild ``root/manifest.jsonl`` from the headers of every shard in ``root`` (atomically)."""
    rows = []
    for path in iter_shards(root):
        try:
            shard = ConversationShard(path)
        except InputError:
            continue  # not ours; leave it alone
        rows.append(manifest_row(shard.info, path.name))
    rows.sort(key=lambda r: r["id"])
    with atomic_output(Path(root) / MANIFEST) as tmp:
        tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def read_manifest(root: PathLike) -> list[dict[str, Any]]:
    """Rows of ``root/manifest.jsonl``.

    Raises:
        InputError: the folder or manifest is missing or a line is not JSON.
    """
    path = Path(root) / MANIFEST
    if not Path(root).is_dir():
        raise InputError(f"dataset folder {root} does not exist")
    if not path.is_file():
        raise InputError(f"{path} does not exist; build the corpus with 'openinfp synth' or 'openinfp prepare'")
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise InputError(f"{path} line {i} is not valid JSON ({exc.msg})") from None
    return rows

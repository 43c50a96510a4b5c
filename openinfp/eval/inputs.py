"""What ``openinfp eval`` evaluates on: conversations from a shard folder, or audio +
portrait pairs, or real talking videos (human reference mode).

* **Shard folder** (``manifest.jsonl`` + ``*.safetensors``, see
  :mod:`openinfp.data.shards`): both people's audio, speech activity and motion; side
  ``a`` (or ``b``, or both in turn) is the agent, the other side the partner. Ground
  truth exists.
* **Pairs folder**: ``NAME.wav`` (or flac/mp3/ogg/m4a; stereo = both people, left is
  the agent; mono = the agent alone) with ``NAME.png`` / ``.jpg`` beside it. No ground
  truth: distribution metrics against real motion are reported as unavailable.
* **Videos** (human reference): talking-head videos at any frame rate; the head
  tracker turns each into motion (brought to 25 fps), the audio track is the agent,
  ``NAME.partner.wav`` beside it (optional) the partner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from openinfp.core.audio import ConversationAudio
from openinfp.core.errors import InputError
from openinfp.core.io import PathLike
from openinfp.core.motion import MotionSequence

AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg", ".m4a")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".avi", ".webm")


@dataclass
class EvalConversation:
    """One conversation to evaluate, seen from the agent's side.

    Attributes:
        name: identifier in reports.
        audio: both tracks at 16 kHz with ``agent_activity`` / ``partner_activity``
            at ``fps`` (``[T]`` in [0, 1]).
        fps: motion frame rate.
        num_frames: ``T``.
        agent_motion: real agent motion by space name (ground truth; may be empty).
        partner_motion: real partner motion by space name (may be empty).
        portrait: the agent's photo for rendering, if any.
        source: where it came from.
    """

    name: str
    audio: ConversationAudio
    fps: float
    num_frames: int
    agent_motion: dict[str, MotionSequence] = field(default_factory=dict)
    partner_motion: dict[str, MotionSequence] = field(default_factory=dict)
    portrait: Optional[np.ndarray] = None
    source: str = ""

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    def activity(self, who: str) -> np.ndarray:
        """``[T]`` bool speech activity of ``"agent"`` or ``"partner"`` (threshold 0.5)."""
        act = getattr(self.audio, f"{who}_activity")
        out = np.zeros(self.num_frames, bool)
        if act is not None:
            n = min(self.num_frames, len(act))
            out[:n] = np.asarray(act[:n]) >= 0.5
        return out

    def cropped(self, max_seconds: float) -> "EvalConversation":
        """The first ``max_seconds`` (whole frames) of the conversation."""
        frames = min(self.num_frames, max(1, int(round(max_seconds * self.fps))))
        if frames == self.num_frames:
            return self
        samples = int(round(frames / self.fps * self.audio.sample_rate))
        a = self.audio
        audio = ConversationAudio(a.agent[:samples], a.partner[:samples], source=a.source,
                                  agent_activity=None if a.agent_activity is None else a.agent_activity[:frames],
                                  partner_activity=None if a.partner_activity is None else a.partner_activity[:frames],
                                  activity_fps=a.activity_fps, notes=list(a.notes))

        def cut(motions: dict[str, MotionSequence]) -> dict[str, MotionSequence]:
            return {k: MotionSequence(m.motion[:frames], m.space, m.fps,
                                      {n: v[:frames] for n, v in m.annotations.items()}) for k, m in motions.items()}
        return EvalConversation(self.name, audio, self.fps, frames, cut(self.agent_motion), cut(self.partner_motion),
                                self.portrait, self.source)


def _space(name: str):
    from openinfp.core.registry import Registry

    return Registry.create().motion_space(name)


def load_shards(root: PathLike, split: str = "val", agent_side: str = "a", limit: Optional[int] = None,
                portrait: Optional[np.ndarray] = None) -> list[EvalConversation]:
    """Conversations of a shard folder (``split``: ``val``, ``train`` or ``all``).

    Args:
        agent_side: ``"a"``, ``"b"`` or ``"both"`` (each conversation twice, roles swapped).
        limit: at most this many conversations (the first by id).
        portrait: a photo to render every agent with (shards hold no images).

    Raises:
        InputError: no manifest, no conversation in the split, a bad shard.
    """
    from openinfp.data.shards import ConversationShard, read_manifest

    if agent_side not in ("a", "b", "both"):
        raise InputError(f"agent side must be 'a', 'b' or 'both', got {agent_side!r}")
    rows = read_manifest(root)
    if split != "all":
        rows = [r for r in rows if r.get("split") == split]
    if not rows:
        raise InputError(f"{Path(root) / 'manifest.jsonl'} lists no conversation in split {split!r}; "
                         "use --split all (or train)")
    rows = rows[:limit] if limit else rows
    spaces: dict[str, object] = {}
    out = []
    for row in rows:
        shard = ConversationShard(Path(root) / row["file"])
        sides = shard.sides
        roles = ["a", "b"] if agent_side == "both" else [agent_side]
        for agent in roles:
            if agent not in sides:
                raise InputError(f"shard {shard.path} has no side {agent!r} (sides: {', '.join(sides)})")
            partner = next((s for s in sides if s != agent), None)

            def motions(side: Optional[str]) -> dict[str, MotionSequence]:
                if side is None:
                    return {}
                found = {}
                for sp in shard.spaces(side):
                    space = spaces.setdefault(sp, _space(sp))
                    found[sp] = MotionSequence(shard.motion(side, sp), space, shard.fps)  # type: ignore[arg-type]
                return found

            zeros = np.zeros(shard.num_frames * shard.hop, np.float32)
            audio = ConversationAudio(
                shard.audio(agent), shard.audio(partner) if partner else zeros, source=str(shard.path),
                agent_activity=shard.activity(agent),
                partner_activity=shard.activity(partner) if partner else np.zeros(shard.num_frames, np.float32),
                activity_fps=shard.fps)
            name = row["id"] if agent_side != "both" else f"{row['id']}:{agent}"
            out.append(EvalConversation(name, audio, shard.fps, shard.num_frames, motions(agent), motions(partner),
                                        portrait, str(shard.path)))
    return out


def load_pairs(root: PathLike, fps: float = 25.0, limit: Optional[int] = None) -> list[EvalConversation]:
    """Audio + portrait pairs (``NAME.wav`` + ``NAME.png``) of a folder.

    Raises:
        InputError: no pair found, or an audio file without its portrait.
    """
    from openinfp.audio.conversation import load_conversation
    from openinfp.head.image_io import load_portrait

    folder = Path(root)
    audios = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and not p.name.startswith("."))
    audios = [p for p in audios if not p.stem.endswith(".partner")]
    if not audios:
        raise InputError(f"{folder} holds no manifest.jsonl and no audio files ({', '.join(AUDIO_SUFFIXES)}); "
                         "give a shard folder or NAME.wav + NAME.png pairs")
    out = []
    for wav in audios[:limit] if limit else audios:
        image = next((wav.with_suffix(s) for s in IMAGE_SUFFIXES if wav.with_suffix(s).is_file()), None)
        if image is None:
            raise InputError(f"{wav} has no portrait beside it ({wav.stem}.png or .jpg); every audio file needs one")
        partner = next((folder / f"{wav.stem}.partner{s}" for s in AUDIO_SUFFIXES
                        if (folder / f"{wav.stem}.partner{s}").is_file()), None)
        audio = load_conversation(wav, partner, fps=fps)
        frames = audio.num_frames(fps)
        out.append(EvalConversation(wav.stem, audio, fps, frames, portrait=load_portrait(image), source=str(wav)))
    return out


def load_conversations(root: PathLike, split: str = "val", agent_side: str = "a", limit: Optional[int] = None,
                       portrait: Optional[np.ndarray] = None, fps: float = 25.0) -> list[EvalConversation]:
    """A shard folder when it has ``manifest.jsonl``, otherwise audio + portrait pairs."""
    folder = Path(root)
    if not folder.is_dir():
        raise InputError(f"evaluation folder {folder} does not exist or is not a folder")
    if (folder / "manifest.jsonl").is_file():
        return load_shards(folder, split, agent_side, limit, portrait)
    convs = load_pairs(folder, fps, limit)
    if portrait is not None:
        for c in convs:
            c.portrait = portrait
    return convs


def find_videos(path: PathLike) -> list[Path]:
    """A video file, or the videos directly inside a folder (sorted)."""
    p = Path(path)
    if p.is_file():
        return [p]
    if p.is_dir():
        found = sorted(v for v in p.iterdir() if v.suffix.lower() in VIDEO_SUFFIXES and not v.name.startswith("."))
        if found:
            return found
        raise InputError(f"{p} holds no videos ({', '.join(VIDEO_SUFFIXES)})")
    raise InputError(f"{p} does not exist")


def resample_motion(seq: MotionSequence, fps: float) -> MotionSequence:
    """``seq`` at ``fps`` by nearest-frame selection (exact tracked values, no blending of
    rotations); frame ``i`` of the result is the source frame closest to time ``i / fps``."""
    if abs(seq.fps - fps) < 1e-6:
        return seq
    n = max(1, int(round(seq.duration * fps)))
    idx = np.clip(np.round(np.arange(n) * seq.fps / fps).astype(np.int64), 0, seq.num_frames - 1)
    return MotionSequence(seq.motion[idx], seq.space, fps, {k: np.asarray(v)[idx] for k, v in seq.annotations.items()})


def load_human_video(path: PathLike, fps: float = 25.0, progress: bool = False) -> EvalConversation:
    """Track a real talking video into a conversation whose ``agent_motion['head']`` is
    the tracked person (their own audio track is the agent; ``NAME.partner.wav`` beside
    the video, if present, is the partner). Motion is brought to ``fps`` (the systems'
    frame rate) by nearest-frame selection.

    Raises:
        InputError: unreadable video, no face, no audio track.
    """
    from openinfp.audio.conversation import load_conversation
    from openinfp.core.video import read_frames
    from openinfp.head.tracker import HeadTracker

    video = Path(path)
    with HeadTracker() as tracker:
        motion = resample_motion(tracker.track_video(video, progress=progress), fps)
    partner = next((video.with_name(f"{video.stem}.partner{s}") for s in AUDIO_SUFFIXES
                    if video.with_name(f"{video.stem}.partner{s}").is_file()), None)
    audio = load_conversation(video, partner, fps=fps)
    frames = min(motion.num_frames, audio.num_frames(fps))
    first = next(iter(read_frames(video)))
    conv = EvalConversation(video.stem, audio, fps, motion.num_frames, {"head": motion}, {},
                            portrait=first, source=str(video))
    return conv.cropped(frames / fps)

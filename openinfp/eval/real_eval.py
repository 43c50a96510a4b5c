"""Evaluation on real recordings: does the model listen, and do its lips follow real speech?

``openinfp eval --real DIR`` (see :func:`run_real_eval`). ``DIR`` is a folder of
two-track conversations, a folder of talking videos, or a folder holding both as
``conversations/`` and ``talking_video/`` (the layout of ``../shared/realdata``).

**Two-track conversations** (``NAME.spk1.<audio>`` + ``NAME.spk2.<audio>``, optional
``NAME.rttm`` turns with speakers ``spk1``/``spk2``): motion is generated for each
speaker as the agent with the other as partner, from the two files exactly as
``openinfp animate --audio A --partner-audio B`` reads them. Measured
(:func:`conversation_metrics`), with the RTTM turns as speech activity when present
(otherwise the loader's two-track activity):

* ``listen_speak_speed_ratio``: mean head angular speed (deg/s) over listening frames
  (partner speaks, agent silent) divided by that over speaking frames (agent speaks,
  partner silent);
* ``nods_per_listen_min``: :func:`~openinfp.core.metrics.behaviour.detect_nods` on head
  pitch, nods starting in listening frames per listening minute;
* ``jaw_auc``: ROC AUC of ``jawOpen`` against the agent's speech activity.

Where a ``NAME.spkK.flame.npz`` (FLAME ``pose``, 25 fps) is present, the same head
measures of the real person are reported as the ``real`` row.

**Talking videos** (``*.mp4`` with the person's own voice): the clip is tracked with our
tracker (:mod:`openinfp.eval.real_tracking`), motion is generated from its audio alone
(plain talking head) and compared with the video (:func:`video_metrics`):

* ``lip_r``: highest Pearson r, lags within +-2 frames (:data:`LIP_MAX_LAG`), between the
  generated ``jawOpen`` and the video's raw inner-lip gap;
* ``jaw_rise_max``: largest per-frame increase of ``jawOpen`` (25 fps);
* ``head_step_max_deg``: largest single-frame change of the head angles, degrees;
* ``jaw_auc``: ROC AUC of ``jawOpen`` against the clip's speech activity.

The ``real`` row applies the same measures to the tracked person, and ``envelope`` is
the audio's RMS envelope in place of ``jawOpen`` (what "open when loud" achieves).
Clips listed in :data:`openinfp.eval.real_stats.LISTENING_CLIPS` are skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from openinfp.core.audio import ConversationAudio
from openinfp.core.errors import InputError
from openinfp.core.io import PathLike
from openinfp.core.motion import MotionSequence
from openinfp.eval.real_measures import (  # noqa: F401  (re-exported: the measures of this evaluation)
    LIP_MAX_LAG,
    conversation_metrics,
    max_rise,
    max_step_deg,
    nods_per_minute,
    speed_ratio,
    video_metrics,
)

AUDIO_SUFFIXES = (".flac", ".wav", ".mp3", ".ogg", ".m4a")

GenerateFn = Callable[[ConversationAudio], MotionSequence]
"""Produces the agent's motion for a conversation (at the audio's activity frame rate)."""


# ------------------------------------------------------------------------------ inputs
@dataclass
class TwoTrackConversation:
    """``NAME.spk1`` / ``NAME.spk2`` audio files, with turns and FLAME motion if present."""

    name: str
    tracks: dict[str, Path]
    rttm: Optional[Path] = None
    flame: dict[str, Path] = field(default_factory=dict)


def find_two_track_conversations(folder: Path) -> list[TwoTrackConversation]:
    """Every ``NAME.spk1.*`` with a ``NAME.spk2.*`` beside it (sorted by name)."""
    found = []
    for spk1 in sorted(folder.iterdir()):
        if not spk1.name.endswith(tuple(f".spk1{s}" for s in AUDIO_SUFFIXES)):
            continue
        stem = spk1.name.split(".spk1")[0]
        spk2 = next((folder / f"{stem}.spk2{s}" for s in AUDIO_SUFFIXES if (folder / f"{stem}.spk2{s}").is_file()),
                    None)
        if spk2 is None:
            continue
        rttm = folder / f"{stem}.rttm"
        flame = {k: folder / f"{stem}.{k}.flame.npz" for k in ("spk1", "spk2")
                 if (folder / f"{stem}.{k}.flame.npz").is_file()}
        found.append(TwoTrackConversation(stem, {"spk1": spk1, "spk2": spk2}, rttm if rttm.is_file() else None,
                                          flame))
    return found


def rttm_activity(path: Path, speaker: str, fps: float, num_frames: int) -> np.ndarray:
    """``[T]`` bool: frames inside ``speaker``'s RTTM turns (a frame counts when its
    centre lies in a turn)."""
    from openinfp.audio.der import read_rttm

    active = np.zeros(num_frames, bool)
    centres = (np.arange(num_frames) + 0.5) / fps
    for start, end, name in read_rttm(path):
        if name == speaker:
            active |= (centres >= start) & (centres < end)
    return active


def flame_head_angles(path: Path) -> np.ndarray:
    """Yaw/pitch/roll ``[T, 3]`` (radians) of the global head rotation of a FLAME ``.npz``
    (``pose[:, :3]`` axis-angle; FLAME's camera frame is x right, y up, z to the viewer,
    like the ``head`` space's)."""
    import torch

    from openinfp.core.rotations import axis_angle_to_matrix, matrix_to_euler_ypr

    with np.load(path, allow_pickle=False) as z:
        pose = np.asarray(z["pose"], np.float32)
    return matrix_to_euler_ypr(axis_angle_to_matrix(torch.from_numpy(pose[:, :3]))).double().numpy()


# ------------------------------------------------------------------------------ runner
def _angles_and_jaw(seq: MotionSequence) -> tuple[np.ndarray, np.ndarray]:
    from openinfp.core.metrics.features import head_angles, mouth_opening

    return head_angles(seq), mouth_opening(seq)


def evaluate_conversations(folder: Path, generate: GenerateFn, fps: float = 25.0, progress=None) -> dict:
    """:func:`conversation_metrics` for every speaker of every two-track conversation."""
    from openinfp.audio.conversation import load_conversation

    rows: dict[str, dict] = {"model": {}, "real": {}}
    for conv in find_two_track_conversations(folder):
        for agent, partner in (("spk1", "spk2"), ("spk2", "spk1")):
            key = f"{conv.name}:{agent}"
            if progress:
                progress(f"real eval: {key} as the agent")
            audio = load_conversation(conv.tracks[agent], conv.tracks[partner], fps=fps)
            n = audio.num_frames(fps)
            if conv.rttm is not None:
                act_a, act_p = (rttm_activity(conv.rttm, s, fps, n) for s in (agent, partner))
            else:
                act_a, act_p = (np.asarray(a, np.float32)[:n] >= 0.5
                                for a in (audio.agent_activity, audio.partner_activity))
            angles, jaw = _angles_and_jaw(generate(audio))
            rows["model"][key] = conversation_metrics(angles, jaw, fps, act_a, act_p)
            if agent in conv.flame:
                rows["real"][key] = conversation_metrics(flame_head_angles(conv.flame[agent]), None, fps, act_a, act_p)
    return rows


def evaluate_videos(folder: Path, generate: GenerateFn, fps: float = 25.0, cache: Optional[PathLike] = None,
                    progress=None) -> dict:
    """:func:`video_metrics` for the model, the tracked person and the audio envelope."""
    from openinfp.audio.activity import speech_activity as loader_activity
    from openinfp.core.metrics.audio import speech_activity, speech_envelope
    from openinfp.eval.real_stats import LISTENING_CLIPS, pooled_statistics, signals_from_motion, signals_from_tracked
    from openinfp.eval.real_tracking import track_clip

    rows: dict[str, dict] = {"model": {}, "real": {}, "envelope": {}}
    signals: dict[str, list] = {"model": [], "real": []}
    for video in sorted(folder.glob("*.mp4")):
        if video.stem in LISTENING_CLIPS:
            continue
        if progress:
            progress(f"real eval: {video.name}")
        clip = track_clip(video, fps=fps, cache=cache)
        if clip.wave.size == 0:
            continue
        n = clip.num_frames
        speaking = speech_activity(clip.wave, fps=fps, num_frames=n)
        samples = int(round(n / fps * 16000))
        wave = np.pad(clip.wave, (0, max(0, samples - clip.wave.size)))[:samples]
        audio = ConversationAudio(wave, np.zeros_like(wave), source=f"{video.name} (agent only)",
                                  agent_activity=loader_activity(wave, fps, n),
                                  partner_activity=np.zeros(n, np.float32), activity_fps=fps)
        seq = generate(audio)
        angles, jaw = _angles_and_jaw(seq)
        signals["model"].append(signals_from_motion(seq, speaking, video.stem))
        signals["real"].append(signals_from_tracked(clip))
        gap = clip.column("lip_gap")
        real_angles = np.column_stack([clip.column(k) for k in ("yaw", "pitch", "roll")])
        rows["model"][video.stem] = video_metrics(jaw, angles, gap, speaking)
        rows["real"][video.stem] = video_metrics(clip.column("jawOpen"), real_angles, gap, speaking)
        rows["envelope"][video.stem] = video_metrics(speech_envelope(wave, fps=fps, num_frames=n), None, gap,
                                                     speaking)
    rows["distributions"] = {k: pooled_statistics(v) for k, v in signals.items() if v}
    return rows


def _mean(values: list) -> Optional[float]:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def _max(values: list) -> Optional[float]:
    vals = [v for v in values if v is not None]
    return float(np.max(vals)) if vals else None


def _pooled_conversations(per: list[dict]) -> dict:
    """Listening measures pooled over agents: frame-weighted mean speeds, total nods over
    total listening minutes (an agent that listens for one second weighs one second)."""
    def weighted(key: str, secs: str) -> Optional[float]:
        pairs = [(m[key], m[secs]) for m in per if m[key] is not None and m[secs] > 0]
        total = sum(s for _, s in pairs)
        return sum(v * s for v, s in pairs) / total if total > 0 else None

    listen, speak = weighted("listen_head_speed_deg_s", "listening_s"), weighted("speak_head_speed_deg_s", "speaking_s")
    minutes = sum(m["listening_s"] for m in per) / 60.0
    return {
        "conv_listen_speak_speed_ratio": listen / speak if listen is not None and speak else None,
        "conv_nods_per_listen_min": sum(m["nods_listening"] for m in per) / minutes if minutes > 0 else None,
        "conv_jaw_auc": _mean([m["jaw_auc"] for m in per]),
        "conv_head_step_max_deg": _max([m["head_step_max_deg"] for m in per]),
    }


def summarize(conversations: dict, videos: dict) -> dict:
    """Per-row summaries: conversations pooled over agents (:func:`_pooled_conversations`),
    videos averaged over clips (maxima for the continuity measures)."""
    out: dict[str, dict] = {}
    for row, per in conversations.items():
        if per:
            out.setdefault(row, {}).update(_pooled_conversations(list(per.values())))
    for row, per in videos.items():
        if per and row != "distributions":
            v = list(per.values())
            out.setdefault(row, {}).update({
                "video_lip_r": _mean([m["lip_r"] for m in v]),
                "video_jaw_rise_max": _max([m["jaw_rise_max"] for m in v]),
                "video_head_step_max_deg": _max([m["head_step_max_deg"] for m in v]),
                "video_jaw_auc": _mean([m["jaw_auc"] for m in v]),
            })
    return out


SUMMARY_LABELS: tuple[tuple[str, str], ...] = (
    ("conv_listen_speak_speed_ratio", "conversations: listen/speak head-speed ratio (target 0.3-0.8)"),
    ("conv_nods_per_listen_min", "conversations: nods per listening minute (target >= 6)"),
    ("conv_jaw_auc", "conversations: jawOpen ROC AUC vs own speech (target >= 0.95)"),
    ("conv_head_step_max_deg", "conversations: max single-frame head step, deg (limit 8)"),
    ("video_lip_r", "talking videos: lip-sync r, mean (target >= 0.6)"),
    ("video_jaw_rise_max", "talking videos: max jawOpen rise per frame (limit 0.3)"),
    ("video_head_step_max_deg", "talking videos: max single-frame head step, deg (limit 8)"),
    ("video_jaw_auc", "talking videos: jawOpen ROC AUC vs own speech"),
)


def markdown(summary: dict, rows: tuple[str, ...] = ("real", "model", "envelope")) -> str:
    """The summary as a Markdown table (one column per row present)."""
    cols = [r for r in rows if r in summary]
    lines = ["| measure | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for key, label in SUMMARY_LABELS:
        vals = [summary[c].get(key) for c in cols]
        if all(v is None for v in vals):
            continue
        lines.append(f"| {label} | " + " | ".join("-" if v is None else f"{v:.3g}" for v in vals) + " |")
    return "\n".join(lines) + "\n"


DISTRIBUTION_LABELS: tuple[tuple[str, str, str], ...] = (
    ("jaw_open_speaking", "mean", "jawOpen while speaking, mean"),
    ("jaw_open_speaking", "p95", "jawOpen while speaking, p95"),
    ("jaw_rise", "p95", "jawOpen rise per frame, p95"),
    ("jaw_fall", "p95", "jawOpen fall per frame, p95"),
    ("head_speed_deg_s", "p50", "head speed deg/s, p50"),
    ("head_speed_deg_s", "p95", "head speed deg/s, p95"),
    ("nods_per_min", "", "nods per minute"),
    ("blinks_per_min", "", "blinks per minute"),
    ("smile_share", "", "smile share (mean smile > 0.3)"),
)


def distribution_markdown(distributions: dict) -> str:
    """Real people vs generated motion on the talking videos (:mod:`openinfp.eval.real_stats`)."""
    cols = [c for c in ("real", "model") if c in distributions]
    if not cols:
        return ""
    lines = ["| talking videos, pooled | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for key, sub, label in DISTRIBUTION_LABELS:
        vals = [distributions[c].get(key) for c in cols]
        vals = [v.get(sub) if isinstance(v, dict) else v for v in vals]
        lines.append(f"| {label} | " + " | ".join("-" if v is None else f"{v:.3g}" for v in vals) + " |")
    return "\n".join(lines) + "\n"


def _folders(root: Path) -> tuple[Optional[Path], Optional[Path]]:
    """(conversations folder, talking-video folder) found in or under ``root``."""
    if not root.is_dir():
        raise InputError(f"--real {root}: not a folder; give a folder of two-track conversations "
                         "(NAME.spk1.flac + NAME.spk2.flac) and/or talking videos (*.mp4)")

    def has_convs(p: Path) -> bool:
        return p.is_dir() and bool(find_two_track_conversations(p))

    def has_videos(p: Path) -> bool:
        return p.is_dir() and any(p.glob("*.mp4"))

    convs = root if has_convs(root) else (root / "conversations" if has_convs(root / "conversations") else None)
    videos = root if has_videos(root) else (root / "talking_video" if has_videos(root / "talking_video") else None)
    if convs is None and videos is None:
        raise InputError(f"--real {root} holds no two-track conversations (NAME.spk1.flac + NAME.spk2.flac) and no "
                         "talking videos (*.mp4), directly or in conversations/ and talking_video/")
    return convs, videos


def model_generate_fn(checkpoint: Optional[str] = None, preset: str = "default", seed: int = 0,
                      raw: bool = False) -> GenerateFn:
    """Generation as ``openinfp animate`` runs it (pipeline conditioners, the checkpoint's
    sampler), for ``checkpoint`` (``None``: the shipped ``head`` model). ``raw``: without
    the window cross-fade and the speed limits (the model's own output, chained by
    context only).

    Raises:
        CheckpointError / ConfigError: the checkpoint cannot be loaded.
    """
    from openinfp.core.registry import Registry
    from openinfp.pipeline.pipeline import ConversationPipeline

    overrides = ["motion_space=head"] + ([f"model.checkpoint={checkpoint}"] if checkpoint else [])
    pipe = ConversationPipeline.from_preset(preset, overrides, registry=Registry.create(), show_progress=False)
    generator = pipe.generator("head")  # load now: a bad checkpoint fails before any work
    if raw:
        generator.overlap, generator.limits = 0, None

    def generate(audio: ConversationAudio) -> MotionSequence:
        return pipe.generate(audio, seed=seed, motion_space="head")

    return generate


def run_real_eval(root: PathLike, generate: GenerateFn, cache: Optional[PathLike] = None, progress=None) -> dict:
    """Evaluate ``generate`` on the real recordings under ``root`` (module docstring).

    Returns a JSON-ready dict with ``summary`` (per row), ``conversations`` and
    ``videos`` (per agent / clip) and ``markdown``.
    """
    convs_dir, videos_dir = _folders(Path(root))
    conversations = evaluate_conversations(convs_dir, generate, progress=progress) if convs_dir else {}
    videos = evaluate_videos(videos_dir, generate, cache=cache, progress=progress) if videos_dir else {}
    summary = summarize(conversations, videos)
    return {"root": str(root), "summary": summary, "conversations": conversations, "videos": videos,
            "markdown": markdown(summary) + "\n" + distribution_markdown(videos.get("distributions", {}))}


def write_report(report: dict, path: PathLike) -> Path:
    out = Path(path)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return out

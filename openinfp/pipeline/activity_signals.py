"""Per-frame activity signals: who is speaking, how open the mouth is, how much the head moves.

Used by the timeline plot, the demo and the end-to-end checks. Motion is read by the
names of its parts (any slice holding an ``jawOpen`` component, any rotation slice
holding a ``head`` joint), so the same code serves the ``head`` and ``smplx`` spaces
and any plugin space that follows the same naming.

These read signals that already exist (the audio stage's activity arrays, the motion);
the voice-activity detection on a waveform is :mod:`openinfp.audio.activity`.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from openinfp.core.audio import ConversationAudio
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_space import MotionSpace
from openinfp.core.rotations import rot6d_to_matrix


def energy_activity(wave: np.ndarray, sample_rate: int, fps: float, num_frames: int,
                    floor_db: float = -45.0, rel_db: float = -30.0) -> np.ndarray:
    """Voice activity per frame from short-time energy (a fallback when no VAD ran).

    Args:
        wave: ``[N]`` float32 mono track.
        sample_rate: samples per second of ``wave``.
        fps: frame rate of the result.
        num_frames: length ``T`` of the result.
        floor_db: frames quieter than this (dBFS RMS) are silent.
        rel_db: frames more than this below the loudest frame are silent.

    Returns:
        ``[T]`` float32 in {0, 1}.
    """
    hop = sample_rate / fps
    out = np.zeros(num_frames, np.float32)
    rms = np.zeros(num_frames, np.float64)
    for t in range(num_frames):
        seg = wave[int(round(t * hop)):int(round((t + 1) * hop))]
        if seg.size:
            rms[t] = float(np.sqrt(np.mean(np.square(seg, dtype=np.float64))))
    db = 20.0 * np.log10(np.maximum(rms, 1e-10))
    if num_frames and db.max() > floor_db:
        out[(db > floor_db) & (db > db.max() + rel_db)] = 1.0
    return out


def speech_activity(audio: ConversationAudio, fps: float, num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Agent and partner speech activity, ``([T], [T])`` float32 in [0, 1].

    Uses the activity arrays the audio stage attached (VAD / diarization) when they
    exist at this frame rate, otherwise short-time energy.
    """

    def one(act: Optional[np.ndarray], wave: np.ndarray) -> np.ndarray:
        if act is not None and abs(audio.activity_fps - fps) < 1e-6:
            act = np.asarray(act, np.float32)[:num_frames]
            return np.pad(act, (0, num_frames - act.shape[0]))
        return energy_activity(wave, audio.sample_rate, fps, num_frames)

    return one(audio.agent_activity, audio.agent), one(audio.partner_activity, audio.partner)


def _find_component(space: MotionSpace, component: str) -> Optional[tuple[str, str]]:
    for part in space.slices:
        if component in part.component_names:
            return part.name, component
    return None


def head_rotation_6d(motion: MotionSequence) -> Optional[torch.Tensor]:
    """The head's 6D rotation ``[T, 6]``, or ``None`` when the space has no head.

    The ``head`` space keeps it in ``head_rotation``; the ``smplx`` space in the
    ``head`` joint of its ``body`` slice (local to the neck).
    """
    space = motion.space
    if "head_rotation" in space.slice_names:
        return motion.get("head_rotation")
    for part in space.slices:
        if part.rotation == "6d" and "head.r6d0" in part.component_names:
            start = space.component_index(part.name, "head.r6d0")
            return motion.motion[:, start:start + 6]
    return None


def mouth_activity(motion: MotionSequence) -> np.ndarray:
    """Mouth openness per frame, ``[T]``: the ARKit ``jawOpen`` weight (0 = closed)."""
    found = _find_component(motion.space, "jawOpen")
    if found is None:
        return np.zeros(motion.num_frames, np.float32)
    return motion.space.get_component(motion.motion, *found).detach().cpu().numpy().astype(np.float32)


def head_activity(motion: MotionSequence) -> np.ndarray:
    """Head angular speed per frame in degrees per second, ``[T]`` (first frame 0)."""
    rot = head_rotation_6d(motion)
    if rot is None or motion.num_frames < 2:
        return np.zeros(motion.num_frames, np.float32)
    mats = rot6d_to_matrix(rot.detach().float().cpu())
    rel = mats[1:] @ mats[:-1].transpose(-1, -2)  # rotation between consecutive frames
    cos = ((rel.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0).clamp(-1.0, 1.0)
    speed = torch.rad2deg(torch.arccos(cos)) * motion.fps
    return np.concatenate([[0.0], speed.numpy()]).astype(np.float32)

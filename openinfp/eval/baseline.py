"""A rule-based talking/listening baseline: what a model must beat.

Rules (all from the conversation audio and speech activity, nothing learned):

* **Jaw**: ``jawOpen`` follows the agent's speech envelope (RMS per frame, divided by
  its 95th percentile over the agent's speaking frames, times ``jaw_gain``), with a
  fast-attack / slow-release smoother; it is zero while the agent is silent.
* **Nods at the partner's pauses**: when a partner phrase of at least
  ``min_phrase_s`` ends while the agent is silent, the head nods (pitch down and back,
  ``nod_deg`` degrees, ``nod_s`` seconds, a sin^2 bump) ``nod_delay_s`` after the end.
* **Head motion**: while speaking, pitch and yaw follow the envelope a little (emphasis
  nods); while listening, a slow sway. **Blinks** every 2.5 to 5 s (seeded).
  **Smile** of ``smile`` while the partner speaks.

The output lives in the ``head`` space; for ``smplx`` it is lifted onto a body with
:func:`openinfp.body.convert.head_to_smplx` when that is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from openinfp.core.audio import ConversationAudio
from openinfp.core.errors import InputError
from openinfp.core.metrics.audio import speech_activity, speech_envelope
from openinfp.core.motion import MotionSequence


@dataclass
class RuleBaselineConfig:
    """Parameters of the rule-based baseline."""

    jaw_gain: float = 0.55
    attack: float = 0.6
    release: float = 0.35
    nod_deg: float = 7.0
    nod_s: float = 0.55
    nod_delay_s: float = 0.15
    min_phrase_s: float = 0.8
    min_pause_s: float = 0.2
    speak_head_deg: float = 2.5
    sway_deg: float = 1.5
    smile: float = 0.25
    blink_s: float = 0.15


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` of True runs."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return list(zip(change[::2].tolist(), change[1::2].tolist()))


def _activity(audio: ConversationAudio, which: str, fps: float, num_frames: int) -> np.ndarray:
    given = getattr(audio, f"{which}_activity")
    if given is not None and abs(audio.activity_fps - fps) < 1e-6:
        act = np.zeros(num_frames, bool)
        n = min(num_frames, len(given))
        act[:n] = np.asarray(given[:n]) >= 0.5
        return act
    return speech_activity(getattr(audio, which), audio.sample_rate, fps, num_frames)


def rule_based_motion(audio: ConversationAudio, num_frames: Optional[int] = None, fps: float = 25.0,
                      seed: int = 0, config: Optional[RuleBaselineConfig] = None,
                      motion_space: str = "head") -> MotionSequence:
    """The baseline's agent motion for ``audio``, ``[T, D]`` in ``motion_space``."""
    from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler

    cfg = config or RuleBaselineConfig()
    t_frames = num_frames if num_frames is not None else audio.num_frames(fps)
    if t_frames < 1:
        raise InputError("the rule-based baseline needs at least one frame")
    rng = np.random.default_rng(seed)
    agent = _activity(audio, "agent", fps, t_frames)
    partner = _activity(audio, "partner", fps, t_frames)
    t = np.arange(t_frames) / fps

    # Jaw from the agent's envelope, only while the agent speaks.
    env = speech_envelope(audio.agent, audio.sample_rate, fps, t_frames)
    ref = np.percentile(env[agent], 95) if agent.any() else 1.0
    target = np.where(agent, np.clip(cfg.jaw_gain * env / max(ref, 1e-8), 0.0, 1.0), 0.0)
    jaw = np.zeros(t_frames)
    for i in range(t_frames):
        prev = jaw[i - 1] if i else 0.0
        rate = cfg.attack if target[i] > prev else cfg.release
        jaw[i] = prev + rate * (target[i] - prev)

    # Nods at the partner's phrase ends while the agent listens.
    pitch = np.zeros(t_frames)
    nod_len = max(2, int(round(cfg.nod_s * fps)))
    bump = np.deg2rad(cfg.nod_deg) * np.sin(np.pi * np.arange(nod_len) / nod_len) ** 2
    pause = int(round(cfg.min_pause_s * fps))
    for start, end in _runs(partner):
        if end - start < cfg.min_phrase_s * fps or end >= t_frames:
            continue
        if partner[end:end + pause].any() or agent[end:end + pause].any():
            continue  # not a pause, or the agent takes the turn
        s = end + int(round(cfg.nod_delay_s * fps))
        e = min(t_frames, s + nod_len)
        pitch[s:e] += bump[: e - s]

    # Head motion while speaking (follows the envelope) and slow sway while listening.
    norm_env = np.clip(env / max(ref, 1e-8), 0.0, 1.5)
    phase = rng.uniform(0, 2 * np.pi, 3)
    speak = np.deg2rad(cfg.speak_head_deg) * norm_env * agent
    sway = np.deg2rad(cfg.sway_deg)
    pitch += 0.5 * speak + sway * np.sin(2 * np.pi * 0.13 * t + phase[0]) * ~agent
    yaw = speak * np.sin(2 * np.pi * 0.4 * t + phase[1]) + sway * np.sin(2 * np.pi * 0.07 * t + phase[2])

    # Blinks and smiles.
    blink = np.zeros(t_frames)
    next_blink = rng.uniform(1.0, 3.0)
    blink_len = max(1, int(round(cfg.blink_s * fps)))
    while next_blink < t_frames / fps:
        i = int(next_blink * fps)
        blink[i:i + blink_len] = 1.0
        next_blink += rng.uniform(2.5, 5.0)
    smile = cfg.smile * partner.astype(float)

    space = head_motion_space()
    motion = space.neutral(t_frames)
    ypr = torch.tensor(np.stack([yaw, pitch, np.zeros(t_frames)], axis=1), dtype=torch.float32)
    motion = space.set(motion, "head_rotation", head_rotation_from_euler(ypr))
    for name, values in (("jawOpen", jaw), ("eyeBlinkLeft", blink), ("eyeBlinkRight", blink),
                         ("mouthSmileLeft", smile), ("mouthSmileRight", smile)):
        motion[:, space.component_index("arkit", name)] = torch.as_tensor(values, dtype=torch.float32)
    seq = MotionSequence(space.clamp(motion), space, fps,
                         annotations={"agent_speaking": agent.astype(np.float32),
                                      "partner_speaking": partner.astype(np.float32)})
    if motion_space == "head":
        return seq
    if motion_space == "smplx":
        from openinfp.body.convert import head_to_smplx  # lazy: only for bodies

        return head_to_smplx(seq)
    raise InputError(f"the rule-based baseline draws 'head' or 'smplx' motion, not {motion_space!r}")

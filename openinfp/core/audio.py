"""`ConversationAudio`: the two people's audio tracks, the contract every stage reads.

Loading files, splitting stereo, diarizing mixes and synthesising speech live in
:mod:`openinfp.audio`; this module only holds the validated container.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from openinfp.core.errors import InputError

SAMPLE_RATE = 16_000
"""Sample rate of every track inside the project (Hz)."""


@dataclass
class ConversationAudio:
    """Both participants' mono waveforms, float32 at 16 kHz, equal length.

    Attributes:
        agent: ``[N]`` float32, the portrait's own voice (zeros if it never speaks).
        partner: ``[N]`` float32, the other person (zeros for a plain talking head).
        sample_rate: always :data:`SAMPLE_RATE`; kept explicit for readers.
        source: where the tracks came from (file names, channel choice, diarization).
        agent_activity: optional ``[T]`` float32 in [0, 1], agent speech activity per
            motion frame (see ``activity_fps``).
        partner_activity: optional ``[T]`` likewise for the partner.
        activity_fps: frame rate of the activity arrays (the motion frame rate).
        notes: human-readable remarks on handling (padding, channels dropped, ...).
    """

    agent: np.ndarray
    partner: np.ndarray
    sample_rate: int = SAMPLE_RATE
    source: str = ""
    agent_activity: Optional[np.ndarray] = None
    partner_activity: Optional[np.ndarray] = None
    activity_fps: float = 25.0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.sample_rate != SAMPLE_RATE:
            raise InputError(
                f"ConversationAudio must be at {SAMPLE_RATE} Hz, got {self.sample_rate} Hz "
                "(resample with openinfp.audio before building it)"
            )
        self.agent = _check_track("agent", self.agent)
        self.partner = _check_track("partner", self.partner)
        if self.agent.shape != self.partner.shape:
            raise InputError(
                f"agent and partner tracks differ in length ({self.agent.shape[0]} vs "
                f"{self.partner.shape[0]} samples); pad the shorter one first"
            )
        if self.agent.shape[0] == 0:
            raise InputError(f"conversation audio from {self.source or 'input'} is empty (0 samples)")
        for name in ("agent_activity", "partner_activity"):
            act = getattr(self, name)
            if act is not None:
                act = np.asarray(act, dtype=np.float32)
                if act.ndim != 1 or not np.all(np.isfinite(act)):
                    raise InputError(f"{name} must be a finite 1-D array, got shape {act.shape}")
                setattr(self, name, act)

    @property
    def num_samples(self) -> int:
        """Number of samples per track."""
        return int(self.agent.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_samples / self.sample_rate

    def num_frames(self, fps: float = 25.0) -> int:
        """Number of motion frames covering the audio at ``fps`` (rounded to nearest)."""
        return max(1, int(round(self.duration * fps)))

    def swapped(self) -> "ConversationAudio":
        """The same conversation seen from the partner's side (roles exchanged)."""
        return ConversationAudio(
            agent=self.partner,
            partner=self.agent,
            source=f"{self.source} (swapped)",
            agent_activity=self.partner_activity,
            partner_activity=self.agent_activity,
            activity_fps=self.activity_fps,
            notes=list(self.notes),
        )

    def stereo(self) -> np.ndarray:
        """``[N, 2]`` float32 with the agent on the left, for muxing into videos."""
        return np.stack([self.agent, self.partner], axis=1)


def count_non_finite(wave: np.ndarray, block: int = 1 << 20) -> int:
    """Number of NaN/inf values of ``wave`` (any shape, counted along the first axis in
    blocks, so an hour of audio needs no full-size temporary mask)."""
    return sum(int(np.count_nonzero(~np.isfinite(wave[i:i + block]))) for i in range(0, wave.shape[0], block))


def _check_track(name: str, wave: np.ndarray) -> np.ndarray:
    wave = np.asarray(wave)
    if wave.ndim != 1:
        raise InputError(f"{name} track must be mono (1-D), got shape {wave.shape}")
    wave = wave.astype(np.float32, copy=False)
    if count_non_finite(wave):
        raise InputError(f"{name} track contains NaN or infinite samples")
    return wave

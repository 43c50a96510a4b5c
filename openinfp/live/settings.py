"""Settings of the live (causal) motion path: chunk size, look-ahead, sampling.

:class:`CausalSettings` is read by :class:`openinfp.live.causal.CausalMotionStream`;
it lives apart so that the session, the CLI and the evaluation can name the settings
without the stream's machinery.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from openinfp.core.errors import InputError

LIVE_SAMPLER_STEPS = 5
"""Denoising steps per live window (the shipped checkpoint samples offline with 10)."""

LIVE_CONTEXT_HOP = 1
"""Frames between moves of the live windows' start (1: every chunk); see
:attr:`CausalSettings.context_hop`."""


@dataclass(frozen=True)
class CausalSettings:
    """How the live path trades latency for context.

    Attributes:
        chunk_frames: frames emitted per model call (4 = 160 ms at 25 fps; the first
            call emits one frame, so the first picture comes early).
        lookahead_frames: audio needed past a chunk's last frame before it is emitted
            (2 = 80 ms at 25 fps, within the ~100 ms a conversation tolerates).
        future: what the window's frames past the newest audio are conditioned on:
            ``"mirror"``, the recent audio features reflected back from the newest frame
            (the conversation goes on as it just went), or ``"hold"``, the newest frame's
            guider features repeated (a frozen sound the model never met in training).
        sampler_steps: denoising steps per window (``None``: the checkpoint's own, as
            offline). Live mode samples a whole window for every 4-frame chunk, so the
            DiT is half its cost; :data:`LIVE_SAMPLER_STEPS` (5, the checkpoint has 10)
            keeps a slower 2-core CPU in real time with listening measures within 10 %
            of offline (docs/PIPELINE.md, "Live speed").
        context_hop: the windows' start (and so the emitted frames they are conditioned
            on) moves to the next frame to emit once this many frames have been emitted
            since it last moved; the chunks in between are taken further into windows
            that start at the same frame. 1 (default): every window starts at the next
            frame to emit. 8 feeds the model's own output back half as often: the live
            talker smiles as little as offline, but listening nods drop to 0.85x offline
            (docs/PIPELINE.md, "Live against offline").
    """

    chunk_frames: int = 4
    lookahead_frames: int = 2
    future: str = "mirror"
    sampler_steps: Optional[int] = LIVE_SAMPLER_STEPS
    context_hop: int = LIVE_CONTEXT_HOP

    def __post_init__(self) -> None:
        if not 1 <= self.chunk_frames <= 25:
            raise InputError(f"live chunk_frames must be in 1..25, got {self.chunk_frames}")
        if not 0 <= self.lookahead_frames <= 25:
            raise InputError(f"live lookahead_frames must be in 0..25, got {self.lookahead_frames}")
        if self.future not in ("mirror", "hold"):
            raise InputError(f"live future must be 'mirror' or 'hold', got {self.future!r}")
        if self.sampler_steps is not None and not 1 <= self.sampler_steps <= 1000:
            raise InputError(f"live sampler_steps must be in 1..1000 or None, got {self.sampler_steps}")
        if not 1 <= self.context_hop <= 25:
            raise InputError(f"live context_hop must be in 1..25, got {self.context_hop}")

"""Streaming motion generation: push both people's audio in chunks, get frames back.

::

    stream = MotionStream(generator, audio_conditioner, seed=0)
    for agent_chunk, partner_chunk in microphone_chunks():      # float32 @ 16 kHz
        frames = stream.push(agent_chunk, partner_chunk)          # MotionSequence or None
    tail = stream.flush()                                         # the last partial window

Motion is produced one DiT window (``N`` frames, 2 s at the default 50 frames / 25 fps)
at a time, as soon as the audio for the window plus a small look-ahead (the guider's
receptive field, :attr:`MotionStream.lookahead_frames`) has arrived. Windows overlap
by ``O`` frames (:class:`~openinfp.core.sampling.WindowChain`), so each push returns
whole strides of ``N - O`` frames and the window's last ``O`` frames wait to be
cross-faded into the next one. Windows are chained by the same ``WindowChain`` and
limited by the same causal :class:`~openinfp.core.motion_limits.MotionLimiter` as in
the offline :meth:`MotionGenerator.generate` (same seeded noise order, same context
hand-over), so with a conditioner whose features depend only on nearby audio the
streamed motion equals the offline motion.

Latency: an audio sample reaches the output at most ``N + lookahead`` frames later,
plus the compute time of one window (recorded per push in :attr:`MotionStream.latencies`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch

from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.behaviour import BehaviourControl, split_behaviour
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError
from openinfp.core.generator import MotionGenerator
from openinfp.core.interfaces import Conditioner, ConditionInputs
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_limits import MotionLimiter
from openinfp.core.sampling import WindowChain, window_condition


@dataclass
class ChunkLatency:
    """What one :meth:`MotionStream.push` cost.

    Attributes:
        audio_s: seconds of audio pushed.
        compute_s: wall time spent inside ``push``.
        frames_out: motion frames returned.
    """

    audio_s: float
    compute_s: float
    frames_out: int


@dataclass
class _State:
    agent: list[np.ndarray] = field(default_factory=list)
    partner: list[np.ndarray] = field(default_factory=list)
    samples: int = 0  # samples pushed in total
    offset: int = 0  # samples dropped from the front of the buffers (bounded memory)
    chain: Optional[WindowChain] = None  # windows, overlap cross-fade and context hand-over
    limiter: Optional[MotionLimiter] = None  # physical speed limits, continued across pushes
    behaviour: Optional[BehaviourControl] = None  # prompt's behaviour control, continued across pushes

    @property
    def frames_done(self) -> int:
        return self.chain.done if self.chain is not None else 0


def audio_chunks(agent: np.ndarray, partner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both tracks of one pushed chunk as flat float32 ``[n]`` arrays, checked.

    Raises:
        InputError: the chunks differ in length or hold NaN / infinite samples.
    """
    agent = np.asarray(agent, dtype=np.float32).reshape(-1)
    partner = np.asarray(partner, dtype=np.float32).reshape(-1)
    if agent.shape != partner.shape:
        raise InputError(f"agent and partner chunks differ in length ({agent.shape[0]} vs {partner.shape[0]})")
    if not (np.isfinite(agent).all() and np.isfinite(partner).all()):
        raise InputError("audio chunk contains NaN or infinite samples")
    return agent, partner


class MotionStream:
    """Incremental motion generation from two live audio tracks.

    Args:
        generator: a loaded :class:`MotionGenerator`.
        audio_conditioner: the conditioner that turns :class:`ConversationAudio` into
            the two ``"audio"`` token sets (the one the model was trained with).
        style: global style tokens (text/image) fixed for the whole stream.
        seed: noise seed (the same as ``generate(seed=...)`` for identical motion).
        steps: sampler steps (default: the checkpoint's).
        audio_context_s: seconds of past audio re-encoded with each window, so the
            conditioner sees the same neighbourhood it sees offline.
    """

    def __init__(self, generator: MotionGenerator, audio_conditioner: Conditioner,
                 style: Sequence[ConditionTokens] = (), seed: int = 0, steps: Optional[int] = None,
                 audio_context_s: float = 2.0) -> None:
        self.generator = generator
        self.conditioner = audio_conditioner
        if any(s.kind != "global" for s in style):
            raise InputError("MotionStream style tokens must be global (text/image)")
        self.style, self._behaviour = split_behaviour(list(style))
        self.fps = generator.fps
        self.samples_per_frame = SAMPLE_RATE / self.fps
        cfg = generator.dit.config
        self.window = cfg.window
        self.context = cfg.context
        self.lookahead_frames = generator.guider.receptive_radius
        self._margin = max(self.lookahead_frames, int(round(audio_context_s * self.fps)))
        self._sampler = generator.window_sampler(seed, steps)
        self._state = self._new_state()
        self.latencies: list[ChunkLatency] = []

    @property
    def frames_emitted(self) -> int:
        return self._state.frames_done

    @property
    def algorithmic_latency_s(self) -> float:
        """Worst-case delay from an audio sample to its motion frame, compute excluded."""
        return (self.window + self.lookahead_frames) / self.fps

    def reset(self) -> None:
        """Start a new conversation (the noise sequence restarts as well)."""
        self._sampler.generator.manual_seed(self._sampler.generator.initial_seed())
        self._state = self._new_state()
        self.latencies = []

    def _new_state(self) -> _State:
        return _State(chain=WindowChain(self._sampler, self.generator.overlap),
                      limiter=self.generator.motion_limiter(),
                      behaviour=self.generator.behaviour_control(self._behaviour))

    def _audio(self, start_frame: int, stop_frame: int) -> tuple[ConversationAudio, int]:
        """Both tracks over frames ``[start, stop)``, zero-padded past what arrived."""
        s = self._state
        if len(s.agent) > 1:
            s.agent, s.partner = [np.concatenate(s.agent)], [np.concatenate(s.partner)]
        agent, partner = s.agent[0], s.partner[0]
        a = int(round(start_frame * self.samples_per_frame)) - s.offset
        b = int(round(stop_frame * self.samples_per_frame)) - s.offset
        if a < 0:
            raise RuntimeError("streaming buffer trimmed too early")  # internal invariant
        seg_a, seg_p = agent[a:b], partner[a:b]
        if seg_a.shape[0] < b - a:  # past the end (flush): silence
            pad = b - a - seg_a.shape[0]
            seg_a = np.pad(seg_a, (0, pad))
            seg_p = np.pad(seg_p, (0, pad))
        return ConversationAudio(seg_a, seg_p, source="stream"), stop_frame - start_frame

    def _trim(self) -> None:
        """Drop audio no later window can need."""
        s = self._state
        keep_from = max(0, s.frames_done - self.context - self._margin)
        drop = int(round(keep_from * self.samples_per_frame)) - s.offset
        if drop > 0 and s.agent:
            if len(s.agent) > 1:
                s.agent, s.partner = [np.concatenate(s.agent)], [np.concatenate(s.partner)]
            s.agent, s.partner = [s.agent[0][drop:]], [s.partner[0][drop:]]
            s.offset += drop

    def _features(self, lo: int, hi: int, limit: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Guider features ``[1, hi - lo, W]`` and speaking logits ``[1, hi - max(lo, 0), 2]``.

        ``lo`` may be negative (frames before the start replicate frame 0, as offline);
        audio is read up to ``limit`` frames (what has arrived, or the conversation end).
        """
        seg_lo = max(lo - self._margin, 0)
        seg_hi = max(min(hi + self._margin, limit), hi)
        audio, n = self._audio(seg_lo, seg_hi)
        tokens = self.conditioner.encode(ConditionInputs(audio=audio, fps=self.fps), n)
        inputs = self.generator.guider.prepare(list(tokens) + self.style, n)
        out = self.generator.guide(inputs)
        start = max(lo, 0) - seg_lo
        stop = start + (hi - max(lo, 0))
        piece = out.features[:, start:stop]
        if lo < 0:
            piece = torch.cat([piece[:, :1].expand(-1, -lo, -1), piece], dim=1)
        return piece, out.speaking_logits[:, start:stop]

    def _emit(self, total_frames: Optional[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        s = self._state
        out = []
        while True:
            start = s.frames_done
            if total_frames is None:
                available = int(s.samples // self.samples_per_frame)
                if start + self.window + self.lookahead_frames > available:
                    break
                hi = start + self.window
                feats, logits = self._features(start - self.context, hi, available)
            else:
                if start >= total_frames:
                    break
                hi = min(start + self.window, total_frames)
                feats, logits = self._features(start - self.context, hi, total_frames)
                # a short final window: replicate the last features, like the offline sampler
                feats = window_condition(feats, self.context, self.window, self.context)
            final = total_frames is not None and start + self.window >= total_frames
            frames = s.chain.step(feats, final=final, keep=hi - start if final else None)
            keep = frames.shape[1]
            out.append((frames[0], logits[0, :keep]))
            self._trim()
        return out

    def push(self, agent: np.ndarray, partner: np.ndarray) -> Optional[MotionSequence]:
        """Add a chunk of both tracks (mono float32 at 16 kHz, equal length).

        Returns:
            The motion frames that became final (whole strides of ``N - O`` frames), or ``None``.
        """
        t0 = time.perf_counter()
        agent, partner = audio_chunks(agent, partner)
        s = self._state
        s.agent.append(agent)
        s.partner.append(partner)
        s.samples += agent.shape[0]
        with torch.no_grad():
            frames = self._emit(None)
        result = self._result(frames)
        self.latencies.append(ChunkLatency(agent.shape[0] / SAMPLE_RATE, time.perf_counter() - t0,
                                           0 if result is None else result.num_frames))
        return result

    def flush(self) -> Optional[MotionSequence]:
        """Generate the remaining frames (the audio end is treated as the conversation end)."""
        s = self._state
        if s.samples == 0:
            return None
        t0 = time.perf_counter()
        total = max(1, int(round(s.samples / self.samples_per_frame)))
        with torch.no_grad():
            frames = self._emit(total)
        result = self._result(frames)
        self.latencies.append(ChunkLatency(0.0, time.perf_counter() - t0,
                                           0 if result is None else result.num_frames))
        return result

    def _result(self, frames: list[tuple[torch.Tensor, torch.Tensor]]) -> Optional[MotionSequence]:
        if not frames:
            return None
        return self.generator.to_motion(torch.cat([f for f, _ in frames]), torch.cat([g for _, g in frames]),
                                        self._state.limiter, self._state.behaviour)

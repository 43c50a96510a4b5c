"""Streaming: pushing audio chunks gives the same motion as offline generation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError
from openinfp.core.interfaces import ConditionInputs
from openinfp.core.model_config import SamplerConfig
from openinfp.core.streaming import MotionStream

from .conftest import FEAT, tiny_generator

HOP = SAMPLE_RATE // 25


class FrameLocalAudio:
    """A stand-in audio conditioner whose frame t depends only on the audio of frame t."""

    name = "audio"

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.proj = torch.randn(8, FEAT, generator=g)

    def encode(self, inputs: ConditionInputs, num_frames: int) -> list[ConditionTokens]:
        out = []
        for role, wave in (("agent", inputs.audio.agent), ("partner", inputs.audio.partner)):
            w = np.zeros(num_frames * HOP, np.float32)
            n = min(w.size, wave.size)
            w[:n] = wave[:n]
            frames = torch.from_numpy(w).view(num_frames, 8, HOP // 8)
            stats = frames.pow(2).mean(-1).sqrt()  # [T, 8] sub-frame RMS
            out.append(ConditionTokens("audio", stats @ self.proj, role=role))
        return out


def _conversation(seconds: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    turn = (np.sin(2 * np.pi * 0.3 * t) > 0).astype(np.float32)
    agent = (turn * rng.normal(0, 0.2, n)).astype(np.float32)
    partner = ((1 - turn) * rng.normal(0, 0.2, n)).astype(np.float32)
    return agent, partner


def test_stream_matches_offline_generation():
    from openinfp.core.audio import ConversationAudio

    gen = tiny_generator(sampler=SamplerConfig(steps=3))
    cond = FrameLocalAudio()
    agent, partner = _conversation(3.3)  # 82.5 frames -> 82 after rounding; windows of 20
    audio = ConversationAudio(agent, partner)
    T = audio.num_frames(25)
    offline = gen.generate(cond.encode(ConditionInputs(audio=audio), T), T, seed=5)

    stream = MotionStream(gen, cond, seed=5, audio_context_s=0.5)
    pieces = []
    chunk = 2000  # 125 ms, not a multiple of a frame
    for i in range(0, agent.size, chunk):
        out = stream.push(agent[i:i + chunk], partner[i:i + chunk])
        if out is not None:
            stride = stream._state.chain.stride  # overlapping windows of 20: whole strides per push
            assert out.num_frames % stride == 0
            pieces.append(out.motion)
    tail = stream.flush()
    pieces.append(tail.motion)
    streamed = torch.cat(pieces)
    assert streamed.shape == offline.motion.shape
    assert torch.allclose(streamed, offline.motion, atol=1e-4)
    assert stream.frames_emitted == T
    assert len(stream.latencies) == len(range(0, agent.size, chunk)) + 1
    assert all(lat.compute_s >= 0 for lat in stream.latencies)
    assert sum(lat.frames_out for lat in stream.latencies) == T
    assert stream.algorithmic_latency_s == pytest.approx((20 + gen.guider.receptive_radius) / 25)


def test_stream_memory_is_bounded_and_reset_restarts():
    gen = tiny_generator(sampler=SamplerConfig(steps=2))
    stream = MotionStream(gen, FrameLocalAudio(), seed=1, audio_context_s=0.2)
    agent, partner = _conversation(6.0)
    first = []
    for i in range(0, agent.size, 4000):
        out = stream.push(agent[i:i + 4000], partner[i:i + 4000])
        if out is not None:
            first.append(out.motion)
    buffered = sum(a.size for a in stream._state.agent)
    assert buffered < 3 * SAMPLE_RATE  # old audio is dropped, not kept for the whole stream
    stream.reset()
    again = []
    for i in range(0, agent.size, 4000):
        out = stream.push(agent[i:i + 4000], partner[i:i + 4000])
        if out is not None:
            again.append(out.motion)
    assert torch.equal(torch.cat(first), torch.cat(again))


def test_stream_rejects_bad_chunks():
    stream = MotionStream(tiny_generator(), FrameLocalAudio())
    with pytest.raises(InputError, match="differ in length"):
        stream.push(np.zeros(10, np.float32), np.zeros(11, np.float32))
    with pytest.raises(InputError, match="NaN"):
        stream.push(np.full(10, np.nan, np.float32), np.zeros(10, np.float32))
    assert MotionStream(tiny_generator(), FrameLocalAudio()).flush() is None

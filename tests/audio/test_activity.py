"""Silero speech activity per motion frame, and per-person activity under cross-talk."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.audio.activity import (
    binarize,
    resample_steps,
    speech_activity,
    two_track_activity,
    vad_probabilities,
)
from openinfp.core.errors import InputError

FPS = 25.0


def _agreement(pred, truth):
    return float(np.mean((pred > 0.5) == truth))


def test_resample_steps_is_exact_overlap_averaging():
    values = np.array([1.0, 0.0, 1.0, 1.0])  # 4 Hz steps
    out = resample_steps(values, 4.0, 2.0, 3)  # 2 Hz: [1,0] [1,1] then the last value continues
    np.testing.assert_allclose(out, [0.5, 1.0, 1.0])
    out = resample_steps(values, 4.0, 3.0, 4)  # frame 0 = [0, 1/3) -> 3/4 of 1 + 1/4 of 0
    np.testing.assert_allclose(out[0], 0.75, atol=1e-6)
    two_d = resample_steps(np.stack([values, 1 - values], 1), 4.0, 2.0, 2)
    np.testing.assert_allclose(two_d, [[0.5, 0.5], [1.0, 0.0]])


def test_activity_follows_real_speech(short_scripted, frames_where):
    conv, turns = short_scripted
    act = speech_activity(conv.agent, FPS)
    assert act.shape == (conv.num_frames(FPS),) and act.dtype == np.float32
    assert act.min() >= 0 and act.max() <= 1
    speaking = frames_where(turns, "A", act.shape[0])
    silent = frames_where(turns, "B", act.shape[0])  # agent track is silent during B's turns
    assert act[speaking].mean() > 0.8
    assert act[silent].max() < 0.05
    assert np.array_equal(act, speech_activity(conv.agent, FPS))  # deterministic
    assert speech_activity(np.zeros(16000, np.float32)).max() < 0.05
    assert speech_activity(conv.agent, 30.0).shape == (conv.num_frames(30.0),)


def test_batched_vad_matches_sequential(short_scripted):
    wave = short_scripted[0].partner
    seq = vad_probabilities(wave, batched=False)
    bat = vad_probabilities(wave, batched=True)
    assert seq.shape == bat.shape == (int(np.ceil(wave.shape[0] / 512)),)
    # The warm-up context makes the segments agree with one long pass almost everywhere.
    assert np.mean((seq > 0.5) != (bat > 0.5)) < 0.03
    assert np.mean(np.abs(seq - bat)) < 0.03


def test_binarize_hysteresis_and_gap_filling():
    act = np.array([0, 0.6, 0.4, 0.6, 0.1, 0.1, 0.9, 0, 0, 0, 0, 0, 0.9, 0.9], dtype=np.float32)
    got = binarize(act, fps=10.0, on=0.5, off=0.35, min_speech_s=0.15, min_gap_s=0.25)
    # 0.4 stays on (hysteresis: above `off`), the 0.2 s gap is filled (< 0.25 s), the 0.5 s gap
    # is kept, and the final 0.2 s burst survives (>= 0.15 s).
    assert got.tolist() == [False, True, True, True, True, True, True, False, False, False, False, False, True, True]
    single = binarize(np.array([0, 0, 0.9, 0, 0], np.float32), fps=10.0, min_speech_s=0.15)
    assert not single.any()  # a 0.1 s blip is dropped


def _room(x, gain_db, rng):
    """Bleed path: 3 ms delay, a little colouring and a short reverberant tail."""
    from scipy.signal import fftconvolve, lfilter

    delayed = np.concatenate([np.zeros(48, np.float32), x[:-48]])
    coloured = lfilter([1.0], [1.0, -0.6], delayed)
    ir = np.exp(-np.arange(3200) / 800.0) * rng.standard_normal(3200) * 0.05
    ir[0] = 1.0
    wet = fftconvolve(coloured, ir)[: x.shape[0]]
    wet *= np.sqrt(np.mean(x ** 2) / (np.mean(wet ** 2) + 1e-12))
    return (wet * 10 ** (gain_db / 20)).astype(np.float32)


def test_stereo_bleed_uses_the_dominant_channel(short_scripted, frames_where):
    conv, turns = short_scripted
    rng = np.random.default_rng(0)
    a, b = conv.agent, conv.partner
    noise = lambda: rng.standard_normal(a.shape[0]).astype(np.float32) * 0.002  # noqa: E731
    left = a + _room(b, -12.0, rng) + noise()
    right = b + _room(a, -10.0, rng) + noise()
    T = conv.num_frames(FPS)
    a_only, b_only = frames_where(turns, "A", T), frames_where(turns, "B", T)
    # A VAD alone is fooled: the agent's microphone "speaks" during the partner's turns.
    vad_left = speech_activity(left, FPS)
    assert np.mean(vad_left[b_only] > 0.5) > 0.6
    act_a, act_b, info = two_track_activity(left, right, FPS)
    print(f"bleed estimates: {info}; agent active during partner-only frames "
          f"{np.mean(act_a[b_only] > 0.5):.1%}, partner during agent-only {np.mean(act_b[a_only] > 0.5):.1%}")
    assert np.mean(act_a[b_only] > 0.5) < 0.08
    assert np.mean(act_b[a_only] > 0.5) < 0.08
    assert np.mean(act_a[a_only] > 0.5) > 0.85
    assert np.mean(act_b[b_only] > 0.5) > 0.85
    assert -16 < info["bleed_b_in_a_db"] < -5 and -14 < info["bleed_a_in_b_db"] < -3


def test_overlapping_speech_keeps_both_people_active(short_scripted):
    from openinfp.audio.espeak import synthesize

    conv, turns = short_scripted
    rng = np.random.default_rng(1)
    b_turn = next(t for t in turns if t.speaker == "B" and t.end - t.start > 2.0)
    # The agent talks over the middle of the partner's turn.
    inter = synthesize("No way, really?", voice="en-us", pitch=38).wave
    start = int((b_turn.start + 0.8) * 16000)
    agent = conv.agent.copy()
    agent[start:start + inter.shape[0]] += inter
    left = agent + _room(conv.partner, -12.0, rng)
    right = conv.partner + _room(agent, -10.0, rng)
    act_a, act_b, _ = two_track_activity(left, right, FPS)
    f0, f1 = int(np.ceil(start / 16000 * FPS)) + 3, int((start + inter.shape[0]) / 16000 * FPS) - 3
    both = (act_a[f0:f1] > 0.5) & (act_b[f0:f1] > 0.5)
    assert both.mean() > 0.6, f"both active in only {both.mean():.0%} of the overlap"


def test_no_bleed_equals_vad_and_silent_track(short_scripted):
    conv, _ = short_scripted
    act_a, act_b, info = two_track_activity(conv.agent, conv.partner, FPS)
    vad_a = speech_activity(conv.agent, FPS)
    assert np.mean(np.abs(act_a - vad_a)) < 0.03
    silent_a, silent_b, _ = two_track_activity(conv.agent, np.zeros_like(conv.agent), FPS)
    assert silent_b.max() == 0.0 and np.mean(np.abs(silent_a - vad_a)) < 0.03
    with pytest.raises(InputError, match="equal-length"):
        two_track_activity(conv.agent, conv.partner[:-5])
    with pytest.raises(InputError, match="mono"):
        speech_activity(np.zeros((100, 2), np.float32))


def test_nearly_silent_track_gives_finite_activity(short_scripted):
    """A track that is digital silence but for a few tiny samples (a muted mic) must not
    produce NaN through the running power mean dipping below zero."""
    conv, _ = short_scripted
    muted = np.zeros_like(conv.agent)
    muted[::4000] = 1e-7
    act_muted, act_b, _ = two_track_activity(muted, conv.partner, FPS)
    assert np.all(np.isfinite(act_muted)) and np.all(np.isfinite(act_b))
    assert act_muted.max() < 0.5 and act_b.max() > 0.5


def test_frame_power_in_blocks_equals_direct_mean_square():
    from openinfp.audio.activity import frame_power

    rng = np.random.default_rng(0)
    wave = rng.standard_normal(16000 * 3 + 123).astype(np.float32)
    frames = int(round(wave.shape[0] / 16000 * FPS))
    direct = [np.mean(wave[int(round(t * 640)):min(int(round((t + 1) * 640)), wave.shape[0])].astype(np.float64) ** 2)
              for t in range(frames)]
    for block in (4_000_000, 1000, 641):
        assert np.allclose(frame_power(wave, FPS, frames, block_samples=block), direct, rtol=1e-9, atol=1e-12)

"""Lip-sync proxy and beat consistency on constructed and real (eSpeak) audio."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.core.metrics.audio import onset_times, speech_activity, speech_envelope
from openinfp.core.metrics.timing import (
    beat_consistency,
    joint_rotation_speed,
    lagged_peak_correlation,
    lip_sync_proxy,
    motion_beat_consistency,
    speed_minima,
)

SR = 16_000


@pytest.fixture(scope="module")
def speech():
    from openinfp.audio.espeak import synthesize

    utt = synthesize("Hello there. I went to the market today, and it was busy.", voice="en-us")
    silence = np.zeros(SR // 2, np.float32)
    return np.concatenate([silence, utt.wave, silence])


def test_lagged_peak_correlation_finds_the_shift():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    x = np.roll(y, 3)  # x follows y by 3 frames
    r, lag = lagged_peak_correlation(x, y, max_lag=5)
    assert lag == 3 and r == pytest.approx(1.0, abs=1e-9)
    r, lag = lagged_peak_correlation(np.roll(y, -2), y)
    assert lag == -2 and r == pytest.approx(1.0, abs=1e-9)
    # Outside the window the peak is not found.
    r, _ = lagged_peak_correlation(np.roll(y, 9), y, max_lag=5)
    assert r < 0.5
    with pytest.raises(InputError):
        lagged_peak_correlation(y[:5], y[:5], max_lag=5)


def test_envelope_and_activity_on_real_speech(speech):
    env = speech_envelope(speech, SR, 25.0)
    assert env.shape[0] == int(np.ceil(speech.size * 25 / SR))
    # RMS of a known block: frame 0 is pure silence.
    assert env[0] == 0.0
    block = speech[SR // 25 * 20: SR // 25 * 21]
    assert env[20] == pytest.approx(np.sqrt((block.astype(np.float64) ** 2).mean()))
    act = speech_activity(speech, SR, 25.0)
    assert not act[:10].any() and not act[-10:].any()  # the half-second silences
    assert act.mean() > 0.5


def test_lip_sync_proxy_on_real_speech(make_head, speech):
    env = speech_envelope(speech, SR, 25.0)
    n = env.size
    jaw = np.roll(env / env.max(), 2)
    synced = make_head(n, jaw=jaw)
    r, lag = lip_sync_proxy(synced, speech, SR)
    assert lag == 2 and r > 0.99
    static = make_head(n)
    assert lip_sync_proxy(static, speech, SR)[0] == 0.0
    shuffled = make_head(n, jaw=np.random.default_rng(0).permutation(jaw))
    assert lip_sync_proxy(shuffled, speech, SR)[0] < 0.4


def test_beat_consistency_hand_computed():
    beats = np.array([1.0, 2.0, 3.0])
    assert beat_consistency(beats, beats) == pytest.approx(1.0)
    assert beat_consistency(beats, beats + 0.3, sigma=0.3) == pytest.approx(np.exp(-0.5))
    # Nearest motion beat per audio beat: distances 0, 0.3, 0.7.
    value = beat_consistency(beats, [1.0, 2.3], sigma=0.3)
    expected = (1 + np.exp(-0.09 / 0.18) + np.exp(-0.49 / 0.18)) / 3
    assert value == pytest.approx(expected)
    assert beat_consistency(beats, []) == 0.0
    with pytest.raises(InputError, match="onsets"):
        beat_consistency([], beats)


def test_speed_minima_of_a_periodic_speed():
    fps = 25.0
    t = np.arange(250) / fps
    speed = 1.0 + np.cos(2 * np.pi * t)  # minima at 0.5, 1.5, ... s
    beats = speed_minima(speed, fps, order=7)
    np.testing.assert_allclose(beats, np.arange(0.5, 9.6, 1.0), atol=1 / fps)
    assert speed_minima(np.zeros(100), fps).size == 0  # no motion, no beats


def test_joint_rotation_speed_and_beats_on_clicks(make_head):
    fps, seconds = 25.0, 8
    n = int(fps * seconds)
    t = np.arange(n) / fps
    # Yaw whose speed 0.5 * (1 - cos(2 pi (t - 0.5))) * k is minimal at 0.5, 1.5, ... s.
    speed_true = 0.5 * (1 - np.cos(2 * np.pi * (t - 0.5)))
    yaw = np.cumsum(speed_true) / fps * 0.4
    seq = make_head(n, yaw=yaw)
    speed = joint_rotation_speed(seq, "head")
    assert np.corrcoef(speed[2:-2], speed_true[2:-2])[0, 1] > 0.99
    assert joint_rotation_speed(seq, "left_wrist") is None
    # Audio: clicks at the speed minima, then halfway between them.
    def clicks(times):
        wave = np.zeros(seconds * SR, np.float32)
        for c in times:
            i = int(c * SR)
            wave[i:i + 160] = np.hanning(160) * np.sin(np.arange(160) * 0.9)
        return wave
    on = clicks(np.arange(0.5, seconds - 0.4, 1.0))
    off = clicks(np.arange(1.0, seconds - 0.4, 1.0))
    # librosa's onset frames are 32 ms apart (hop 512 at 16 kHz).
    assert np.abs(onset_times(on, SR)[:, None] - np.arange(0.5, 7.6, 1.0)[None]).min(1).max() < 0.08
    aligned = motion_beat_consistency(seq, on, SR)
    misaligned = motion_beat_consistency(seq, off, SR)
    # Half a second off with sigma 0.3 s: exp(-0.5^2 / 0.18) = 0.25 per onset.
    assert aligned > 0.95 and misaligned < 0.4

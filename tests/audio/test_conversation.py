"""Every way into ConversationAudio, on real eSpeak NG speech, and the bad-input handling."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from openinfp.audio.config import AudioConfig
from openinfp.audio.conversation import load_conversation
from openinfp.core.errors import ConfigError, InputError

FPS = 25.0


def _write(path, wave, sr=16000):
    sf.write(str(path), wave, sr, subtype="PCM_16")
    return path


def _agree(pred, truth_mask):
    return float(np.mean((pred > 0.5) == truth_mask))


@pytest.fixture(scope="module")
def truth(short_scripted, frames_where):
    conv, turns = short_scripted
    T = conv.num_frames(FPS)
    return frames_where(turns, "A", T), frames_where(turns, "B", T)


def test_stereo_split_left_and_right(tmp_path, short_scripted, truth):
    conv, _ = short_scripted
    a_only, b_only = truth
    # Store at 44.1 kHz to exercise resampling on the way in.
    from openinfp.audio.io import resample

    path = _write(tmp_path / "talk.wav", resample(conv.stereo(), 16000, 44100), 44100)
    left = load_conversation(path)
    assert left.sample_rate == 16000 and abs(left.num_samples - conv.num_samples) <= 2
    assert "agent = left channel" in left.source
    assert left.agent_activity.shape == left.partner_activity.shape == (left.num_frames(FPS),)
    assert left.agent_activity[a_only].mean() > 0.8 and left.agent_activity[b_only].mean() < 0.1
    assert left.partner_activity[b_only].mean() > 0.8 and left.partner_activity[a_only].mean() < 0.1
    n = min(left.num_samples, conv.num_samples)
    assert np.corrcoef(left.agent[:n], conv.agent[:n])[0, 1] > 0.99
    right = load_conversation(path, config=AudioConfig(agent_channel="right"))
    assert "agent = right channel" in right.source
    np.testing.assert_array_equal(right.agent, left.partner)
    np.testing.assert_array_equal(right.agent_activity, left.partner_activity)


def test_two_files_of_different_length_are_padded(tmp_path, short_scripted, truth):
    conv, _ = short_scripted
    a_only, b_only = truth
    agent = _write(tmp_path / "agent.wav", conv.agent)
    cut = conv.num_samples - 16000
    partner = _write(tmp_path / "partner.flac", conv.partner[:cut])
    both = load_conversation(agent, partner)
    assert both.num_samples == conv.num_samples
    assert np.all(both.partner[cut:] == 0)
    assert any("partner file is 1.00 s shorter" in n and "padded" in n for n in both.notes)
    assert both.agent_activity[a_only].mean() > 0.8 and both.partner_activity[b_only].mean() > 0.8
    assert both.agent_activity[b_only].mean() < 0.1
    with pytest.raises(ConfigError, match="partner_only applies to a single mono file"):
        load_conversation(agent, partner, AudioConfig(partner_only=True))


def test_mono_agent_only_and_partner_only(tmp_path, short_scripted, truth):
    conv, _ = short_scripted
    a_only, _ = truth
    path = _write(tmp_path / "me.wav", conv.agent)
    solo = load_conversation(path)
    assert "agent only" in solo.source and np.all(solo.partner == 0)
    assert solo.partner_activity.max() == 0 and solo.agent_activity[a_only].mean() > 0.8
    listen = load_conversation(path, config=AudioConfig(partner_only=True))
    assert "partner only" in listen.source and np.all(listen.agent == 0)
    assert listen.agent_activity.max() == 0 and listen.partner_activity[a_only].mean() > 0.8
    np.testing.assert_array_equal(listen.partner, solo.agent)


def test_mono_mix_is_diarized_into_two_tracks(tmp_path, short_scripted, truth):
    conv, turns = short_scripted
    a_only, b_only = truth
    path = _write(tmp_path / "mix.wav", conv.agent + conv.partner)
    first = load_conversation(path, config=AudioConfig(mono_mix=True))  # A speaks first
    assert "diarized" in first.source
    assert _agree(first.agent_activity, a_only) > 0.9 and first.agent_activity[b_only].mean() < 0.1
    assert first.partner_activity[b_only].mean() > 0.8
    # The tracks carry the right voice: the agent track is silent in B's turns.
    # num_frames rounds to the nearest frame, so the last frame may run past the samples: pad it.
    T = first.num_frames(FPS)
    energy = lambda w, m: np.mean(np.pad(w, (0, max(0, T * 640 - w.size)))[: T * 640].reshape(T, 640)[m] ** 2)  # noqa: E731
    assert energy(first.agent, b_only) < 0.01 * energy(first.agent, a_only)
    second = load_conversation(path, config=AudioConfig(mono_mix=True, agent_speaker="second"))
    np.testing.assert_array_equal(second.agent_activity, first.partner_activity)
    talk = {t.speaker: sum(x.end - x.start for x in turns if x.speaker == t.speaker) for t in turns}
    most = load_conversation(path, config=AudioConfig(mono_mix=True, agent_speaker="most"))
    least = load_conversation(path, config=AudioConfig(mono_mix=True, agent_speaker="least"))
    longer = first if talk["A"] > talk["B"] else second
    np.testing.assert_array_equal(most.agent_activity, longer.agent_activity)
    np.testing.assert_array_equal(least.agent_activity, longer.partner_activity)


def test_more_than_two_channels_and_fake_stereo(tmp_path, short_scripted):
    conv, _ = short_scripted
    four = np.stack([conv.agent, conv.partner, conv.agent * 0.5, conv.partner * 0.5], axis=1)
    multi = load_conversation(_write(tmp_path / "four.wav", four))
    assert any("4 channels; used channel 1 (left) and 2 (right), ignored channels 3-4" in n for n in multi.notes)
    np.testing.assert_allclose(multi.agent, conv.agent, atol=1e-3)
    dual_mono = np.stack([conv.agent, conv.agent], axis=1)
    fake = load_conversation(_write(tmp_path / "dual.wav", dual_mono))
    assert "agent only" in fake.source and np.all(fake.partner == 0)
    assert any("identical: treated as a mono file" in n for n in fake.notes)


def test_bad_input_is_refused_clearly(tmp_path, short_scripted):
    conv, _ = short_scripted
    silent = _write(tmp_path / "silent.wav", np.zeros(16000, np.float32))
    with pytest.raises(InputError, match="silent.wav is silent"):
        load_conversation(silent)
    with pytest.raises(InputError, match="both tracks are silent"):
        load_conversation(silent, _write(tmp_path / "silent2.flac", np.zeros(8000, np.float32)))
    one_silent = load_conversation(_write(tmp_path / "half.wav", np.stack([conv.agent, 0 * conv.agent], 1)))
    assert any("right channel is silent" in n for n in one_silent.notes)
    long_ = _write(tmp_path / "long.wav", conv.agent)
    with pytest.raises(InputError, match="over the limit of 5 s"):
        load_conversation(long_, config=AudioConfig(max_duration_s=5.0))
    noise = np.random.default_rng(0).standard_normal(16000 * 2).astype(np.float32) * 1e-3
    with pytest.raises(InputError, match="no speech found"):
        load_conversation(_write(tmp_path / "hiss.wav", noise), config=AudioConfig(mono_mix=True))
    with pytest.raises(ConfigError, match="exclude each other"):
        load_conversation(long_, config=AudioConfig(mono_mix=True, partner_only=True))
    with pytest.raises(ConfigError, match="partner_only is for a mono file"):
        load_conversation(_write(tmp_path / "st.wav", conv.stereo()), config=AudioConfig(partner_only=True))
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(40))
    with pytest.raises(InputError, match="corrupt.wav"):
        load_conversation(corrupt)

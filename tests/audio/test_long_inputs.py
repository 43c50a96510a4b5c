"""Long inputs in bounded memory: every whole-track audio stage works in blocks, and
the blocked results equal the one-shot computation (issue #10)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest


def test_track_features_do_not_depend_on_the_block_size(short_scripted):
    from openinfp.conditioners.audio_features import track_features

    conversation, _ = short_scripted
    wave = conversation.agent
    frames = conversation.num_frames(25.0) + 13  # past the end: silence features too
    whole = track_features(wave, frames, block_cells=10**9)
    for cells in (1, 37, 500):
        blocked = track_features(wave, frames, block_cells=cells)
        assert blocked.shape == whole.shape
        np.testing.assert_allclose(blocked, whole, atol=1e-5, err_msg=f"block_cells={cells}")
    # The features are not trivially equal for a different signal (the check can fail).
    other = track_features(conversation.partner, frames, block_cells=37)
    assert np.abs(other - whole).max() > 0.1


def test_track_features_refuse_a_bad_block_size(short_scripted):
    from openinfp.conditioners.audio_features import track_features
    from openinfp.core.errors import InputError

    with pytest.raises(InputError, match="block_cells"):
        track_features(short_scripted[0].agent, 10, block_cells=0)


@pytest.mark.parametrize("rates", [(44_100, 16_000), (48_000, 16_000), (22_050, 16_000), (8_000, 16_000)])
def test_blocked_resampling_equals_whole_signal_resampling(rates):
    from scipy.signal import resample_poly

    from openinfp.audio.io import resample

    src, dst = rates
    rng = np.random.default_rng(src)
    wave = rng.normal(0.0, 0.3, 3 * src + 7).astype(np.float32)
    from math import gcd

    g = gcd(src, dst)
    reference = resample_poly(wave, dst // g, src // g).astype(np.float32)
    for block in (160, 5000, 1 << 20):
        out = resample(wave, src, dst, block_out=block)
        assert out.shape == reference.shape
        np.testing.assert_allclose(out, reference, atol=1e-6)
    stereo = resample(np.stack([wave, -wave], axis=1), src, dst, block_out=999)
    np.testing.assert_allclose(stereo[:, 1], -reference, atol=1e-6)


def test_vad_rows_scored_in_groups_match_one_batch(scripted, monkeypatch):
    from openinfp.audio import activity

    wave = scripted[0].agent  # ~32 s: 8 rows of 4 s
    one_batch = activity.vad_probabilities(wave)
    monkeypatch.setattr(activity, "_BATCH_ROWS", 3)
    grouped = activity.vad_probabilities(wave)
    np.testing.assert_allclose(grouped, one_batch, atol=1e-5)
    assert one_batch.max() > 0.9 and one_batch.min() < 0.1  # speech and pauses both present


def _stereo_wav(path, seconds: float, rate: int = 16_000):
    import soundfile as sf

    from openinfp.audio.espeak import synthesize

    a = synthesize("Hello there, this is the first person speaking for a while.").wave
    b = synthesize("And this is the second person answering back.", voice="en-us+f3").wave
    n = int(seconds * rate)
    left = np.resize(np.concatenate([a, np.zeros_like(b)]), n)
    right = np.resize(np.concatenate([np.zeros_like(a), b]), n)
    sf.write(str(path), np.stack([left, right], axis=1), rate, subtype="PCM_16")
    return path


def _peak_numpy_memory(path) -> tuple[int, int]:
    """(peak traced bytes of reading ``path`` and featurising both tracks, bytes of the two tracks)."""
    from openinfp.audio.config import AudioConfig
    from openinfp.audio.conversation import load_conversation
    from openinfp.conditioners.audio_features import track_features

    tracemalloc.start()
    try:
        conversation = load_conversation(path, config=AudioConfig(), fps=25.0)
        frames = conversation.num_frames(25.0)
        for wave in (conversation.agent, conversation.partner):
            track_features(wave, frames)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, conversation.agent.nbytes + conversation.partner.nbytes


def test_memory_of_reading_a_conversation_grows_like_its_samples(tmp_path):
    """Each extra minute of conversation costs about what its samples take, no more.

    Peak numpy memory of reading a stereo file (decode, split, speech activity) and
    computing both tracks' features, at 3 and 9 minutes: the growth must stay under 3x
    the growth of the two tracks themselves (measured: about 2x, the decoded file plus
    the two tracks). Before these stages worked in blocks the growth was about 12x (the
    spectra of whole tracks), which made an hour need several GB.
    """
    from openinfp.audio.config import AudioConfig
    from openinfp.audio.conversation import load_conversation

    short, long_ = _stereo_wav(tmp_path / "short.wav", 180.0), _stereo_wav(tmp_path / "long.wav", 540.0)
    load_conversation(short, config=AudioConfig(), fps=25.0)  # warm up: models, caches
    peak_short, samples_short = _peak_numpy_memory(short)
    peak_long, samples_long = _peak_numpy_memory(long_)
    growth, samples = peak_long - peak_short, samples_long - samples_short
    assert samples == 2 * 4 * 16_000 * 360
    assert growth < 3.0 * samples, f"{growth / 2**20:.0f} MB more for {samples / 2**20:.0f} MB more samples"


def test_mel_spectrogram_blocks_match_one_shot(short_scripted):
    from openinfp.audio.spectral import mel_spectrogram

    wave = short_scripted[0].agent
    whole = mel_spectrogram(wave, 16_000, 400, 160, 40, block_frames=10**9)
    for block in (1, 333):
        np.testing.assert_allclose(mel_spectrogram(wave, 16_000, 400, 160, 40, block_frames=block), whole,
                                   rtol=1e-6, atol=1e-9 * float(whole.max()))


def test_long_mixes_seed_the_voices_from_a_subset_of_windows(scripted, monkeypatch):
    """Average linkage is quadratic in the number of embeddings; past MAX_LINKAGE_EMBEDDINGS
    the voices are clustered from evenly spaced ones and the rest are assigned. On a
    two-voice mix that gives the same speakers as clustering every embedding."""
    from openinfp.audio import diarize

    conversation, _ = scripted
    mix = conversation.agent + conversation.partner
    options = diarize.DiarizationOptions(step_s=2.0)  # more windows, so the cap bites
    full = diarize.diarize_frames(mix, options)
    monkeypatch.setattr(diarize, "MAX_LINKAGE_EMBEDDINGS", 8)
    seeded = diarize.diarize_frames(mix, options)
    assert full.num_speakers == seeded.num_speakers == 2
    speech = full.labels >= 0
    assert np.mean(full.labels[speech] == seeded.labels[speech]) > 0.98


@pytest.mark.parametrize("rate,channels,fmt", [(44_100, 2, "WAV"), (48_000, 1, "WAV"), (16_000, 2, "WAV"),
                                               (22_050, 3, "FLAC"), (32_000, 2, "OGG")])
def test_block_by_block_reading_equals_whole_file_decoding(tmp_path, rate, channels, fmt):
    """``load_audio_resampled`` (what conversations are read with) gives the samples of
    ``load_audio`` + ``resample``, with each channel contiguous."""
    import soundfile as sf

    from openinfp.audio.io import load_audio, load_audio_resampled, resample

    rng = np.random.default_rng(rate)
    n = int(2.3 * rate) + 5
    data = np.clip(rng.normal(0.0, 0.4, (n, channels)), -1.2, 1.2).astype(np.float32)  # some samples clip
    path = tmp_path / f"x.{fmt.lower()}"
    sf.write(str(path), data, rate, format=fmt, **({"subtype": "FLOAT"} if fmt == "WAV" else {}))
    reference_clip = load_audio(path)
    wave = reference_clip.wave if reference_clip.wave.ndim == 2 else reference_clip.wave[:, None]
    reference = np.stack([resample(wave[:, c], rate, 16_000) for c in range(channels)], axis=1)
    for block in (997, 1 << 20):
        clip = load_audio_resampled(path, 16_000, block_out=block)
        got = clip.wave if clip.wave.ndim == 2 else clip.wave[:, None]
        assert clip.sample_rate == 16_000 and got.shape == reference.shape
        np.testing.assert_allclose(got, reference, atol=1e-6)
        assert all(got[:, c].flags.c_contiguous for c in range(channels))
    if fmt != "OGG":  # lossless: out-of-range samples were there, and load_audio clipped them
        assert np.abs(data).max() > 1.0 and np.abs(reference_clip.wave).max() <= 1.0


def test_block_by_block_reading_keeps_the_checks(tmp_path):
    import soundfile as sf

    from openinfp.audio.io import load_audio_resampled
    from openinfp.core.errors import InputError

    data = np.zeros((48_000, 2), np.float32)
    data[[5, 30_000, 47_999], 1] = np.nan
    sf.write(str(tmp_path / "nan.wav"), data, 48_000, subtype="FLOAT")
    with pytest.raises(InputError, match="contains 3 NaN"):
        load_audio_resampled(tmp_path / "nan.wav", 16_000, block_out=1000)
    sf.write(str(tmp_path / "long.wav"), np.zeros((48_000 * 3, 1), np.float32), 48_000)
    with pytest.raises(InputError, match="over the limit"):
        load_audio_resampled(tmp_path / "long.wav", 16_000, max_duration_s=2.0)
    full = tmp_path / "full.wav"
    sf.write(str(full), np.full((16_000, 2), 0.1, np.float32), 16_000, subtype="PCM_16")
    data = full.read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    clip = load_audio_resampled(tmp_path / "cut.wav", 16_000)
    assert 0.45 < clip.duration < 0.55 and any("truncated" in n for n in clip.notes)

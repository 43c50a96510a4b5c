"""Decoding every supported container, resampling, and refusing bad files clearly."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from openinfp.audio.io import load_audio, read_audio, resample, write_audio
from openinfp.core.errors import InputError

SR = 44_100


def _tone(seconds=1.0, sr=SR, freq=440.0, channels=2):
    t = np.arange(int(seconds * sr)) / sr
    left = 0.4 * np.sin(2 * np.pi * freq * t)
    right = 0.2 * np.sin(2 * np.pi * freq * 1.5 * t)
    wave = np.stack([left, right], axis=1)[:, :channels]
    return wave.astype(np.float32)


def _encode_pyav(path, wave, sr, codec, with_video=False):
    import av

    planar = np.ascontiguousarray(wave.T.astype(np.float32))
    layout = "stereo" if planar.shape[0] == 2 else "mono"
    with av.open(str(path), "w") as out:
        if with_video:
            vs = out.add_stream("mpeg4", rate=25)
            vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
        stream = out.add_stream(codec, rate=sr)
        stream.layout = layout
        frame_size = 1024
        for i in range(0, planar.shape[1], frame_size):
            frame = av.AudioFrame.from_ndarray(planar[:, i:i + frame_size].copy(), format="fltp", layout=layout)
            frame.sample_rate = sr
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
        if with_video:
            for k in range(25):
                img = np.full((64, 64, 3), k * 8, np.uint8)
                for packet in vs.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    out.mux(packet)
            for packet in vs.encode(None):
                out.mux(packet)


def _dominant_freq(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spec) * sr / len(x)


@pytest.mark.parametrize("suffix,subtype", [(".wav", "PCM_16"), (".wav", "PCM_24"), (".wav", "FLOAT"),
                                            (".flac", "PCM_16"), (".ogg", "VORBIS")])
def test_libsndfile_formats_and_bit_depths(tmp_path, suffix, subtype):
    wave = _tone()
    path = tmp_path / f"x{suffix}"
    sf.write(str(path), wave, SR, subtype=subtype)
    got, sr = read_audio(path)
    assert sr == SR and got.dtype == np.float32 and got.shape[1] == 2
    assert abs(got.shape[0] - wave.shape[0]) < 2048  # vorbis may pad
    assert abs(_dominant_freq(got[:, 0], sr) - 440) < 3 and abs(_dominant_freq(got[:, 1], sr) - 660) < 3


@pytest.mark.parametrize("suffix,codec", [(".mp3", "mp3"), (".m4a", "aac")])
def test_compressed_formats_through_ffmpeg(tmp_path, suffix, codec):
    path = tmp_path / f"x{suffix}"
    _encode_pyav(path, _tone(1.0), SR, codec)
    got, sr = read_audio(path)
    assert sr == SR and got.ndim == 2 and got.shape[1] == 2
    assert 0.9 < got.shape[0] / SR < 1.2
    assert abs(_dominant_freq(got[:, 0], sr) - 440) < 3


def test_audio_track_of_a_video_file(tmp_path):
    path = tmp_path / "clip.mp4"
    _encode_pyav(path, _tone(1.0, channels=1), SR, "aac", with_video=True)
    got, sr = read_audio(path)
    assert sr == SR and got.ndim == 1 and 0.9 < got.shape[0] / SR < 1.2
    assert abs(_dominant_freq(got, sr) - 440) < 3


def test_video_without_audio_is_refused(tmp_path):
    import av

    path = tmp_path / "silent.mp4"
    with av.open(str(path), "w") as out:
        vs = out.add_stream("mpeg4", rate=25)
        vs.width, vs.height, vs.pix_fmt = 64, 64, "yuv420p"
        for k in range(5):
            for packet in vs.encode(av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")):
                out.mux(packet)
        for packet in vs.encode(None):
            out.mux(packet)
    with pytest.raises(InputError, match="has no audio stream"):
        read_audio(path)


def test_resample_keeps_pitch_and_length():
    wave = _tone(1.0, channels=1)[:, 0]
    out = resample(wave, SR, 16_000)
    assert out.dtype == np.float32 and abs(out.shape[0] - 16_000) <= 1
    assert abs(_dominant_freq(out, 16_000) - 440) < 2
    both = resample(_tone(0.5), SR, 16_000)
    assert both.shape[1] == 2 and abs(both.shape[0] - 8000) <= 1
    # 12 kHz is above the new Nyquist limit (8 kHz): filtered out, not aliased to 4 kHz.
    high = _tone(0.5, freq=12000.0, channels=1)[:, 0]
    middle = resample(high, SR, 16_000)[1000:-1000]
    assert np.sqrt(np.mean(middle ** 2)) < 0.01 * np.sqrt(np.mean(high ** 2))


def test_bad_files_give_one_line_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_audio(tmp_path / "nope.wav")
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_audio(empty)
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="cannot decode audio file .*garbage.mp3.*supported:") as info:
        read_audio(garbage)
    assert "\n" not in str(info.value)
    unknown = tmp_path / "notes.xyz"
    unknown.write_text("this is not audio at all\n" * 50)
    with pytest.raises(InputError, match="cannot decode"):
        read_audio(unknown)
    no_samples = tmp_path / "zero.wav"
    sf.write(str(no_samples), np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(InputError, match="no samples|empty"):
        read_audio(no_samples)


def test_nan_samples_and_length_limit(tmp_path):
    wave = _tone(1.0, channels=1)
    wave[100] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(str(path), wave, SR, subtype="FLOAT")
    with pytest.raises(InputError, match="NaN or infinite"):
        read_audio(path)
    ok = tmp_path / "long.wav"
    sf.write(str(ok), _tone(2.0), SR)
    with pytest.raises(InputError, match=r"2\.0 s long, over the limit of 1 s"):
        read_audio(ok, max_duration_s=1.0)
    m4a = tmp_path / "long.m4a"
    _encode_pyav(m4a, _tone(2.0), SR, "aac")
    with pytest.raises(InputError, match="over the limit"):
        read_audio(m4a, max_duration_s=1.0)


def test_truncated_wav_is_decoded_with_a_note(tmp_path):
    path = tmp_path / "full.wav"
    sf.write(str(path), _tone(1.0), SR, subtype="PCM_16")
    data = path.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])
    clip = load_audio(cut)
    assert 0.4 < clip.duration < 0.6
    assert any("truncated" in n for n in clip.notes)
    assert not load_audio(path).notes


def test_write_audio_round_trip_and_atomicity(tmp_path):
    wave = _tone(0.5)
    out = write_audio(tmp_path / "o.wav", wave, SR)
    got, sr = read_audio(out)
    assert sr == SR and np.abs(got - wave).max() < 1e-3
    with pytest.raises(InputError, match=".wav or .flac"):
        write_audio(tmp_path / "o.mp3", wave, SR)
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "o.mp3").exists()

"""Small files that claim huge sizes: absurd audio headers, image and motion size bombs.

Each is refused with one line (or read correctly when valid) from what its header says,
before any big allocation. The memory cases run the CLI in a subprocess and assert its
own peak resident memory stays under the 2.5 GB budget of issue #20.
"""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.errors import ConfigError, InputError

PEAK_BUDGET_MB = 2500


# --------------------------------------------------------------------------------------
# Audio headers
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("rate", [2_147_483_647, 268_435_459, 768_001, 3_999, 1])
def test_absurd_sample_rates_are_refused_from_the_header(tmp_path, hostile, rate):
    from openinfp.audio.conversation import load_conversation
    from openinfp.audio.io import load_audio, probe_audio

    path = hostile.wav_with_rate(tmp_path / "rate.wav", rate)
    for read in (load_audio, probe_audio, load_conversation):
        with pytest.raises(InputError, match=f"declares a sample rate of {rate} Hz, outside the accepted 4000-768000"):
            read(path)


@pytest.mark.parametrize("rate", [8_000, 11_025, 96_000])
def test_unusual_but_valid_sample_rates_are_read(tmp_path, hostile, rate):
    from openinfp.audio.io import load_audio_resampled, probe_audio

    path = hostile.wav_with_rate(tmp_path / "rate.wav", rate)
    info = probe_audio(path)
    assert (info.sample_rate, info.channels) == (rate, 1)
    clip = load_audio_resampled(path, 16_000)
    assert clip.sample_rate == 16_000 and abs(clip.wave.shape[0] - 4000 * 16_000 / rate) <= 1


def test_huge_rate_wav_through_animate_stays_small(tmp_path, bad, hostile, run_measured_cli):
    wav = hostile.wav_with_rate(tmp_path / "rate.wav", 2_147_483_647)
    out = tmp_path / "out"
    code, err, peak = run_measured_cli(["animate", str(bad / "astronaut.png"), str(wav), "-o", str(out / "v.mp4"),
                                        "-q"])
    assert code == 2 and "declares a sample rate of 2147483647 Hz" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert not out.exists()
    assert peak < PEAK_BUDGET_MB, f"peak {peak:.0f} MB"


def test_probe_reads_only_the_header_and_checks_the_length(tmp_path):
    import soundfile as sf

    from openinfp.audio.io import probe_audio

    path = tmp_path / "long.flac"
    sf.write(path, np.zeros((16000 * 30, 2), np.float32), 16000)  # 30 s of stereo silence: a tiny FLAC
    info = probe_audio(path)
    assert info.channels == 2 and info.duration == pytest.approx(30.0)
    with pytest.raises(InputError, match="over the limit of 10 s"):
        probe_audio(path, max_duration_s=10)


@pytest.mark.parametrize("limit", [float("nan"), 0.0, -5.0, float("inf")])
def test_a_broken_length_limit_is_refused_not_ignored(tmp_path, hostile, limit):
    from openinfp.audio.io import load_audio, load_audio_resampled

    path = hostile.wav_with_rate(tmp_path / "a.wav", 16_000)
    for read in (load_audio, lambda p, max_duration_s: load_audio_resampled(p, 16_000, max_duration_s)):
        with pytest.raises(ConfigError, match="audio.max_duration_s must be a positive number"):
            read(path, max_duration_s=limit)


def test_demo_counts_channels_from_the_header(tmp_path, monkeypatch):
    """The demo's "partner only" / "mixed" modes ask for the channel count: it must not
    decode the upload (a three-hour FLAC took the server to 2.75 GB)."""
    import soundfile as sf

    import openinfp.audio.io as audio_io
    from openinfp.pipeline.demo import _mono_overrides
    from openinfp.pipeline.demo_inputs import Upload, check_audio

    stereo, mono = tmp_path / "stereo.flac", tmp_path / "mono.flac"
    sf.write(stereo, np.zeros((1600, 2), np.float32), 16000)
    sf.write(mono, np.zeros(1600, np.float32), 16000)

    def no_decoding(*args, **kwargs):
        raise AssertionError("the upload was decoded")

    monkeypatch.setattr(audio_io, "load_audio", no_decoding)
    monkeypatch.setattr(audio_io, "load_audio_resampled", no_decoding)
    channels = {p: check_audio(Upload(p, p.name), "conversation audio", 10.0, 60.0) for p in (stereo, mono)}
    assert channels == {stereo: 2, mono: 1}
    assert _mono_overrides("partner", channels[stereo], None) == []
    assert _mono_overrides("partner", channels[mono], None) != []


def test_audio_shorter_than_one_frame_is_refused(tmp_path, bad, run_cli):
    import soundfile as sf

    wav = tmp_path / "blip.wav"
    sf.write(wav, (0.3 * np.sin(np.arange(32) / 3)).astype(np.float32), 16000)  # 2 ms
    out = tmp_path / "out"
    code, err = run_cli(["animate", str(bad / "astronaut.png"), str(wav), "-o", str(out / "v.mp4"), "-q"])
    assert code == 2 and "is 2 ms long, shorter than one motion frame (40 ms)" in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("bits, color", [(16, 0), (16, 2), (8, 2)])
def test_images_over_the_megapixel_limit_are_refused_before_decoding(tmp_path, hostile, bits, color):
    from openinfp.head.image_io import MAX_MEGAPIXELS, load_portrait

    path = hostile.flat_png(tmp_path / "big.png", 8200, 8000, bits, color)  # 65.6 MP, a few hundred kB
    assert path.stat().st_size < 2_000_000
    with pytest.raises(InputError, match=f"8200x8000 px \\(66 MP\\), over the limit of {MAX_MEGAPIXELS} MP"):
        load_portrait(path)


def test_big_16_bit_png_is_read_in_bounded_memory(tmp_path, bad, hostile, run_measured_cli):
    """A 16-bit 60 MP grey PNG (under the limit) peaked at 3 GB when converted through
    float64; reduced before conversion it stays far below the budget. Through `track`."""
    png = hostile.flat_png(tmp_path / "grey.png", 7700, 7700, 16, 0)
    code, err, peak = run_measured_cli(["track", str(png), "-o", str(tmp_path / "m.npz")])
    assert code == 2 and "no face found" in err, err  # decoded fine; a flat grey image has no face
    assert peak < PEAK_BUDGET_MB, f"peak {peak:.0f} MB"


def test_16_bit_conversion_keeps_the_values(tmp_path):
    from PIL import Image

    from openinfp.head.image_io import load_portrait

    ramp = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    got = load_portrait(tmp_path / "ramp.png")
    want = np.round(ramp.astype(np.float64) / 65535 * 255).astype(np.uint8)
    assert got.shape == (64, 64, 3) and np.abs(got[:, :, 0].astype(int) - want).max() <= 1


def test_large_images_are_reduced_to_the_long_side_limit(tmp_path, hostile):
    from openinfp.head.image_io import load_portrait

    image = load_portrait(hostile.flat_png(tmp_path / "wide.png", 6000, 3000, 8, 2), max_side=1000)
    assert image.shape == (500, 1000, 3) and int(image.min()) == int(image.max()) == 128


# --------------------------------------------------------------------------------------
# Motion files
# --------------------------------------------------------------------------------------

def test_long_motion_is_refused_by_render_in_bounded_memory(tmp_path, hostile, run_measured_cli):
    npz = hostile.motion_npz(tmp_path / "long.npz", 200_000)  # 8000 s at 25 fps in about 0.5 MB
    code, err, peak = run_measured_cli(["render", str(npz), "--renderer", "skeleton", "-o",
                                        str(tmp_path / "out" / "v.mp4"), "-q"])
    assert code == 2 and "is 8000 s long (200000 frames at 25 fps), over the limit of 7200 s" in err, err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()
    assert peak < PEAK_BUDGET_MB, f"peak {peak:.0f} MB"


@pytest.mark.slow  # writing the 1.1 GB of zeros into the archive takes about 10 s
def test_motion_bomb_is_refused_from_the_zip_directory(tmp_path, hostile, run_measured_cli):
    """A few MB of archive declaring 1.1 GB of frames (a 2.4 MB file of 10 million frames
    made `render` use 8.9 GB and begin a 111-hour video)."""
    npz = hostile.motion_npz(tmp_path / "bomb.npz", 4_500_000)
    assert npz.stat().st_size < 6_000_000
    code, err, peak = run_measured_cli(["render", str(npz), "--renderer", "skeleton", "-o",
                                        str(tmp_path / "out" / "v.mp4"), "-q"])
    assert code == 2 and "holds 1064 MB of arrays, more than the 1024 MB a motion file may hold" in err, err
    assert peak < PEAK_BUDGET_MB and not (tmp_path / "out").exists()


@pytest.mark.parametrize("frames, fps, limit, message", [
    (200_000, 25.0, 7200.0, "is 8000 s long (200000 frames at 25 fps), over the limit of 7200 s"),
    (100, 25.0, 2.0, "is 4 s long (100 frames at 25 fps), over the limit of 2 s"),
    (10, 1e-9, 7200.0, "fps is 1e-09; it must be between 1 and 240"),
    (10, 1e9, 7200.0, "fps is 1e+09; it must be between 1 and 240"),
    (10, float("nan"), 7200.0, "fps is nan; it must be between 1 and 240"),
])
def test_motion_duration_and_fps_are_checked_before_loading(tmp_path, hostile, monkeypatch, frames, fps, limit,
                                                            message):
    from openinfp.core.motion import MotionSequence

    npz = hostile.motion_npz(tmp_path / "m.npz", frames, fps=fps)
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("np.load ran before the header checks"))
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        MotionSequence.load(npz, max_duration_s=limit)


def test_motion_header_declaring_more_than_the_data_says_so(tmp_path, hostile):
    from openinfp.core.motion import MotionSequence

    npz = hostile.motion_npz(tmp_path / "lie.npz", 10, declared_frames=1000)
    with pytest.raises(InputError, match="declares \\(1000, 62\\) float32 .* the file is damaged or truncated") as exc:
        MotionSequence.load(npz)
    assert "pickled" not in str(exc.value)


def test_np_load_value_errors_are_not_called_pickles(tmp_path, monkeypatch):
    from openinfp.core import motion as motion_mod

    assert motion_mod._load_problem(ValueError("cannot reshape array of size 5 into shape (9,)")).startswith(
        "is damaged (cannot reshape")
    assert "pickled objects" in motion_mod._load_problem(
        ValueError("Object arrays cannot be loaded when allow_pickle=False"))


@pytest.mark.parametrize("value", [1e30, -5e3])
def test_absurd_motion_values_are_refused(tmp_path, hostile, value):
    from openinfp.core.motion import MotionSequence

    with pytest.raises(InputError, match="beyond the plausible 1000; the file is damaged"):
        MotionSequence.load(hostile.motion_npz(tmp_path / "m.npz", 10, value=value))


def test_valid_streamed_motion_still_loads(tmp_path, hostile):
    from openinfp.core.motion import MotionSequence

    seq = MotionSequence.load(hostile.motion_npz(tmp_path / "m.npz", 50, fps=30.0, value=0.5))
    assert seq.num_frames == 50 and seq.fps == 30.0 and float(seq.motion.mean()) == pytest.approx(0.5)


@pytest.mark.parametrize("suffix", [".wav", ".ogg", ".m4a"])
def test_decoded_sample_budget_is_checked_before_decoding(tmp_path, monkeypatch, suffix):
    """Blocked (wav), whole-file libsndfile (ogg) and FFmpeg (m4a) readers all refuse a
    file whose frames x channels exceed the budget (lowered here to 8000 samples)."""
    import av

    import openinfp.audio.probe as probe
    from openinfp.audio.io import load_audio_resampled

    path = tmp_path / f"a{suffix}"
    wave = (0.2 * np.sin(np.arange(16000) / 5)).astype(np.float32)
    if suffix == ".m4a":
        with av.open(str(path), "w") as container:
            stream = container.add_stream("aac", rate=16000)
            stream.layout = "mono"
            for i in range(0, 16000, 1024):
                frame = av.AudioFrame.from_ndarray(wave[None, i:i + 1024], format="fltp", layout="mono")
                frame.sample_rate, frame.pts = 16000, i
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
    else:
        import soundfile as sf

        sf.write(path, wave, 16000)
    assert load_audio_resampled(path, 16000).wave.shape[0] >= 15000
    monkeypatch.setattr(probe, "MAX_DECODED_SAMPLES", 8000)
    with pytest.raises(InputError, match="more than can be decoded at once \\(8000 samples\\)"):
        load_audio_resampled(path, 16000)

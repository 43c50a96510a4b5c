import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.core.video import GENERATOR_TAG, VideoWriter, probe_video, read_frames


def test_writes_h264_with_audio_and_provenance_tags(tmp_path):
    out = tmp_path / "clip.mp4"
    sr = 16000
    tone = (0.2 * np.sin(np.arange(sr * 2) / sr * 2 * np.pi * 220)).astype(np.float32)
    with VideoWriter(out, fps=25, audio=np.stack([tone, tone * 0], 1), sample_rate=sr) as w:
        for i in range(50):
            w.write(np.full((64, 96, 3), i * 4, np.uint8))
    info = probe_video(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["frames"] == 50 and info["width"] == 96 and info["height"] == 64
    assert abs(info["duration"] - 2.0) < 1e-6
    assert info["has_audio"] and abs(info["audio_duration"] - 2.0) < 0.05
    assert info["metadata"]["generator"] == GENERATOR_TAG and info["metadata"]["synthetic"] == "true"
    frames = list(read_frames(out))
    assert abs(int(frames[25].mean()) - 100) <= 3  # content survives encoding


def test_failure_leaves_no_partial_file(tmp_path):
    out = tmp_path / "clip.mp4"
    with pytest.raises(RuntimeError):
        with VideoWriter(out, fps=25) as w:
            w.write(np.zeros((32, 32, 3), np.uint8))
            raise RuntimeError("renderer crashed")
    assert list(tmp_path.iterdir()) == []


def test_rejects_bad_frames_and_names(tmp_path):
    with pytest.raises(InputError, match=".mp4"):
        VideoWriter(tmp_path / "clip.avi")
    w = VideoWriter(tmp_path / "x.mp4")
    with pytest.raises(InputError, match="uint8"):
        w.write(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(InputError, match="even"):
        w.write(np.zeros((33, 32, 3), np.uint8))
    with pytest.raises(InputError, match="no frames"):
        w.close()
    assert list(tmp_path.iterdir()) == []


def _decoded_audio(path) -> np.ndarray:
    """``[C, n]`` float32 of the file's audio stream."""
    import av

    with av.open(str(path)) as container:
        parts = [f.to_ndarray() for f in container.decode(container.streams.audio[0])]
    return np.concatenate(parts, axis=1)


def test_audio_as_separate_channels_muxes_like_a_stereo_array(tmp_path):
    """Long conversations pass their two tracks without stacking them into one array."""
    sr = 16000
    t = np.arange(int(sr * 1.5)) / sr
    left = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    right = (0.6 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    right[:100] = 1.7  # out of range: clipped to [-1, 1] in both cases
    outs = {}
    for name, audio in (("stacked", np.stack([left, right], 1)), ("channels", (left, right))):
        outs[name] = tmp_path / f"{name}.mp4"
        with VideoWriter(outs[name], fps=25, audio=audio, sample_rate=sr) as w:
            for _ in range(50):  # 2 s of video: the audio is padded with silence to 2 s
                w.write(np.zeros((32, 32, 3), np.uint8))
    a, b = _decoded_audio(outs["stacked"]), _decoded_audio(outs["channels"])
    assert a.shape == b.shape and a.shape[0] == 2
    np.testing.assert_array_equal(a, b)
    rms = np.sqrt((a[:, 8000:16000] ** 2).mean(axis=1))  # AAC decodes at 16 kHz here
    assert 0.15 < rms[0] < 0.27 and 0.35 < rms[1] < 0.5  # left is the quieter tone
    assert probe_video(outs["channels"])["audio_duration"] == pytest.approx(2.0, abs=0.05)


def test_bad_audio_channels_are_refused_before_anything_is_written(tmp_path):
    ok = np.zeros(1600, np.float32)
    with pytest.raises(InputError, match="differ in length"):
        VideoWriter(tmp_path / "a.mp4", audio=(ok, ok[:-1]))
    with pytest.raises(InputError, match="1 or 2 arrays"):
        VideoWriter(tmp_path / "b.mp4", audio=(ok, ok, ok))
    bad = ok.copy()
    bad[7] = np.nan
    with pytest.raises(InputError, match="NaN"):
        VideoWriter(tmp_path / "c.mp4", audio=(ok, bad))
    assert list(tmp_path.iterdir()) == []

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

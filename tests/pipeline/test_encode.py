"""Streaming encode: threaded and plain paths give the same video; errors write nothing."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.core.video import probe_video, read_frames
from openinfp.pipeline.render import encode_frames


def _frames(n, size=64):
    for i in range(n):
        f = np.zeros((size, size, 3), np.uint8)
        f[:, : (i * 4) % size] = (200, 80, 40)
        yield f


@pytest.mark.parametrize("threaded", [True, False])
def test_encode_writes_every_frame_in_order(tmp_path, threaded):
    audio = (0.1 * np.sin(np.arange(16_000) / 10.0)).astype(np.float32)
    out = encode_frames(tmp_path / "v.mp4", _frames(25), 25, 25.0, audio=np.stack([audio, audio], 1),
                        show_progress=False, threaded=threaded, queue_frames=2)
    info = probe_video(out)
    assert info["frames"] == 25 and info["has_audio"]
    decoded = list(read_frames(out))
    widths = [(f[32, :, 0] > 100).sum() for f in decoded]
    assert widths == [(i * 4) % 64 for i in range(25)]


@pytest.mark.parametrize("threaded", [True, False])
def test_renderer_error_or_short_stream_leaves_nothing(tmp_path, threaded):
    def broken():
        yield from _frames(5)
        raise RuntimeError("renderer crashed")

    with pytest.raises(RuntimeError, match="renderer crashed"):
        encode_frames(tmp_path / "a.mp4", broken(), 10, 25.0, show_progress=False, threaded=threaded)
    with pytest.raises(InputError, match="produced 5 frames for 10"):
        encode_frames(tmp_path / "b.mp4", _frames(5), 10, 25.0, show_progress=False, threaded=threaded)
    bad = (np.zeros((7, 7, 3), np.uint8) for _ in range(3))  # odd size: the encoder refuses it
    with pytest.raises(InputError, match="even"):
        encode_frames(tmp_path / "c.mp4", bad, 3, 25.0, show_progress=False, threaded=threaded)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("watermark, label", [(True, False), (False, False), (True, True)])
def test_provenance_switches_reach_the_writer(tmp_path, watermark, label):
    out = encode_frames(tmp_path / "v.mp4", _frames(5, size=256), 5, 25.0, watermark=watermark, label=label,
                        show_progress=False)
    tags = probe_video(out)["metadata"]
    assert tags["synthetic"] == "true"
    assert ("watermark" in tags) == watermark and ("visible_label" in tags) == label

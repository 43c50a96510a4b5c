"""Every video VideoWriter writes is marked; the output.watermark/label switches work."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.config import OutputConfig
from openinfp.core.errors import InputError
from openinfp.core.provenance import frame_filter
from openinfp.core.video import VideoWriter, output_options, probe_video, read_frames
from openinfp.provenance.label import draw_label
from openinfp.provenance.verify import verify_video


def _write(path, frames, **kwargs):
    with VideoWriter(path, fps=25, **kwargs) as writer:
        writer.write_all(frames)
    return path


def test_default_writer_marks_the_video(videos):
    report = verify_video(videos["marked"])
    assert report.tags["synthetic"] == "true" and report.tags["watermark"] == "openinfp-wm1"
    assert report.tags["generator_version"] and report.watermark.present
    unmarked = verify_video(videos["unmarked"])
    assert "watermark" not in unmarked.tags and not unmarked.watermark.present
    assert unmarked.tagged  # the container still says synthetic: the switch only drops the pixel mark


def test_provenance_filter_passed_as_frame_filter_is_not_applied_twice(tmp_path, portrait_frames):
    frames = portrait_frames[:4]
    default = list(read_frames(_write(tmp_path / "a.mp4", frames)))
    via_filter = list(read_frames(_write(tmp_path / "b.mp4", frames, frame_filter=frame_filter(True, False))))
    assert all(np.array_equal(x, y) for x, y in zip(default, via_filter))
    off = _write(tmp_path / "c.mp4", frames, frame_filter=frame_filter(watermark=False, label=True))
    meta = probe_video(off)["metadata"]
    assert "watermark" not in meta and meta["visible_label"] == "AI-generated"
    assert not verify_video(off).watermark.present


def test_user_filter_runs_before_the_watermark(tmp_path, portrait_frames):
    seen = []

    def darken(index, frame):
        seen.append(index)
        return (frame // 2).astype(np.uint8)

    path = _write(tmp_path / "d.mp4", portrait_frames[:5], frame_filter=darken)
    assert seen == [0, 1, 2, 3, 4] and verify_video(path).watermark.present


def test_label_is_drawn_in_the_corner_only(astronaut):
    labelled = draw_label(astronaut)
    changed = np.any(labelled != astronaut, axis=-1)
    ys, xs = np.nonzero(changed)
    assert ys.min() > 512 * 0.85 and xs.min() > 512 * 0.6  # bottom-right box
    box = labelled[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(int)
    assert box.max() >= 240  # white text on a darkened box
    wide = draw_label(np.full((512, 1024, 3), 128, np.uint8), corner="top-left")
    ys, xs = np.nonzero(np.any(wide != 128, axis=-1))
    assert ys.max() < 100 and xs.max() < 300


def test_label_survives_encoding_and_is_tagged(tmp_path, portrait_frames):
    path = _write(tmp_path / "l.mp4", portrait_frames[:3], label=True)
    assert probe_video(path)["metadata"]["visible_label"] == "AI-generated"
    frame = next(iter(read_frames(path))).astype(int)
    assert (frame[440:, 300:] > 235).mean() > 0.01 and verify_video(path).watermark.present
    plain = next(iter(read_frames(_write(tmp_path / "p.mp4", portrait_frames[:3])))).astype(int)
    assert np.abs(frame[:400] - plain[:400]).mean() < 0.5 < np.abs(frame[440:, 300:] - plain[440:, 300:]).mean()


def test_label_errors():
    with pytest.raises(InputError, match="too small"):
        draw_label(np.zeros((16, 16, 3), np.uint8))
    with pytest.raises(InputError, match="corner"):
        draw_label(np.zeros((64, 64, 3), np.uint8), corner="middle")
    with pytest.raises(InputError, match="ASCII"):
        draw_label(np.zeros((64, 64, 3), np.uint8), text="")


def test_output_config_switches_map_to_writer_options():
    assert output_options(OutputConfig()) == {"crf": 20, "watermark": True, "label": False}
    assert output_options(OutputConfig(watermark=False, label=True, crf=23)) == \
        {"crf": 23, "watermark": False, "label": True}

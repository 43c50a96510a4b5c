"""The real-video check, run on a talking video rendered from the astronaut photo."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.head.video_check import best_lag, check_talking_video


@pytest.fixture(scope="module")
def talking_video(tmp_path_factory, renderer):
    """36 frames at 25 fps: the jaw opens and closes three times, two blinks, a slow yaw."""
    from openinfp.core.video import VideoWriter
    from openinfp.head.closed_loop import make_motion

    path = tmp_path_factory.mktemp("talk") / "talk.mp4"
    t = np.arange(36)
    jaw = 0.7 * np.clip(np.sin(2 * np.pi * t / 12), 0, None)
    blink = np.isin(t % 18, (8, 9)).astype(float)
    with VideoWriter(path, fps=25, watermark=False) as w:
        for k in t:
            w.write(renderer.render_frame(make_motion((8 * np.sin(2 * np.pi * k / 36), 0, 0), jawOpen=jaw[k],
                                                      eyeBlinkLeft=blink[k], eyeBlinkRight=blink[k])))
    return path


def test_best_lag_finds_a_delayed_copy():
    x = np.sin(np.linspace(0, 6 * np.pi, 90)) + np.random.default_rng(0).normal(0, 0.05, 90)
    assert best_lag(np.roll(x, 2), x) == 2 and best_lag(np.roll(x, -1), x) == -1 and best_lag(x, x) == 0


def test_check_finds_lips_lids_and_reenacts_the_video(tmp_path, talking_video):
    sbs = tmp_path / "sbs.mp4"
    r = check_talking_video(talking_video, side_by_side=sbs, progress=False)
    assert r.frames == 36 and r.face_found == 1.0 and r.rerender_lost == 0
    # The tracked jaw follows the lip gap, without lag from the smoothing.
    assert r.jaw_lip_corr > 0.9 and r.jaw_lag_frames == 0
    assert r.lip_gap_range[1] > 0.2 > r.lip_gap_range[0]
    assert r.blink_lid_corr > 0.7
    assert r.jitter_smoothed_deg <= r.jitter_raw_deg
    # Self-reenactment puts the landmarks where the video has them, far better than a still frame.
    assert r.reenact_landmark_error < 0.06 and r.reenact_landmark_error < 0.5 * r.still_landmark_error
    assert r.reenact_mouth_error < 0.5 * r.still_mouth_error
    assert r.rerender_jaw_corr > 0.9
    from openinfp.core.video import probe_video

    info = probe_video(sbs)
    assert info["frames"] == 36 and info["width"] == 2 * 512
    assert "lips: jawOpen vs inner-lip gap" in r.summary()


def test_cli_writes_json_and_refuses_bad_input(tmp_path, talking_video, capsys):
    from openinfp.cli import main

    out = tmp_path / "check.json"
    assert main(["check-video", str(talking_video), "--json", str(out), "--max-frames", "12", "--quiet"]) == 0
    data = json.loads(out.read_text())
    assert data["frames"] == 12 and data["face_found"] == 1.0
    assert "self-reenactment landmark error" in capsys.readouterr().out
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video")
    sbs = tmp_path / "sbs.mp4"
    assert main(["check-video", str(bad), "--side-by-side", str(sbs)]) != 0
    assert "notes.mp4" in capsys.readouterr().err and not sbs.exists()
    with pytest.raises(InputError, match="at least 3"):
        check_talking_video(talking_video, max_frames=2)

import csv

import numpy as np
import pytest

from openinfp.cli import main
from openinfp.core.motion import MotionSequence


@pytest.fixture(scope="module")
def driving_video(tmp_path_factory, renderer):
    from openinfp.core.video import VideoWriter
    from openinfp.head.closed_loop import make_motion

    path = tmp_path_factory.mktemp("drive") / "drive.mp4"
    n = 12
    tone = (0.2 * np.sin(2 * np.pi * 220 * np.arange(int(16000 * n / 25)) / 16000)).astype(np.float32)
    with VideoWriter(path, fps=25, audio=tone, sample_rate=16000) as w:
        for i in range(n):
            w.write(renderer.render_frame(make_motion((10 * np.sin(i / 2), 0, 0), jawOpen=0.6 * (i % 4 > 1))))
    return path


def test_track_image_and_export_csv(tmp_path, astronaut, capsys):
    from PIL import Image

    img = tmp_path / "a.jpg"
    Image.fromarray(astronaut).save(img)
    assert main(["track", str(img), "-o", str(tmp_path / "m.npz")]) == 0
    seq = MotionSequence.load(tmp_path / "m.npz")
    assert seq.num_frames == 1 and seq.space.name == "head"
    assert main(["export", str(tmp_path / "m.npz"), "--format", "arkit-csv", "-o", str(tmp_path / "m.csv")]) == 0
    rows = list(csv.reader(open(tmp_path / "m.csv")))
    assert len(rows[0]) == 2 + 52 + 3 and rows[0][2] == "EyeBlinkLeft" and rows[0][-3:] == ["HeadYaw", "HeadPitch",
                                                                                            "HeadRoll"]
    assert rows[1][0] == "00:00:00:00.000" and len(rows) == 2


def test_track_video_and_reenact(tmp_path, driving_video, astronaut):
    from PIL import Image

    from openinfp.core.video import probe_video

    assert main(["track", str(driving_video), "-o", str(tmp_path / "v.npz"), "--quiet"]) == 0
    seq = MotionSequence.load(tmp_path / "v.npz")
    assert seq.num_frames == 12 and seq.fps == 25
    portrait = tmp_path / "gray.png"
    Image.fromarray(astronaut).convert("L").save(portrait)
    out = tmp_path / "out.mp4"
    assert main(["reenact", str(portrait), str(driving_video), "-o", str(out), "--size", "256", "--quiet"]) == 0
    info = probe_video(out)
    assert info["frames"] == 12 and info["width"] == 256 and info["has_audio"]


def test_user_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "x.png"
    bad.write_text("hello")
    assert main(["track", str(bad), "-o", str(tmp_path / "m.npz")]) != 0
    err = capsys.readouterr().err.strip()
    assert "x.png" in err and len(err.splitlines()) == 1
    assert main(["reenact", str(bad), str(bad), "-o", str(tmp_path / "o.mp4")]) != 0
    assert not (tmp_path / "o.mp4").exists()

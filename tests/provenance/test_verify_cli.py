"""``openinfp verify``: report, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json

import pytest

from openinfp.cli import main
from openinfp.provenance import clips as C


def test_verify_reports_tags_and_watermark(videos, capsys):
    assert main(["verify", str(videos["marked"])]) == 0
    out = capsys.readouterr().out
    assert "synthetic='true'" in out and "generator='openinfp" in out and "watermark='openinfp-wm1'" in out
    assert "watermark: PRESENT (score" in out and "verdict: synthetic video made with openinfp" in out


def test_verify_json_and_exit_status_for_stripped_copies(videos, tmp_path, capsys):
    marked = C.transcode(videos["marked"], tmp_path / "marked.mp4", scale=0.5)
    clean = C.transcode(videos["unmarked"], tmp_path / "clean.mp4", scale=0.5)
    assert main(["verify", "--json", str(marked)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["tags"] == {} and report["watermark"]["present"] and report["marked"]
    assert report["watermark"]["score"] > 8 and (report["width"], report["height"]) == (256, 256)
    assert main(["verify", "--json", str(marked), str(clean)]) == 1  # one of them carries no provenance
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["marked"] for line in lines] == [True, False]


def test_max_frames_limits_the_analysis(videos, capsys):
    assert main(["verify", "--json", "--max-frames", "3", str(videos["marked"])]) == 0
    assert json.loads(capsys.readouterr().out)["watermark"]["frames"] == 3


@pytest.mark.parametrize("make, args, message", [
    (None, [], "does not exist"),
    ("empty", [], "is empty"),
    ("text", [], "cannot be read"),
    ("audio", [], "no video stream"),
    ("marked", ["--max-frames", "0"], "--max-frames must be at least 1"),
    ("marked", ["--threshold", "nan"], "--threshold must be a finite number"),
])
def test_bad_input_is_a_one_line_error(videos, tmp_path, capsys, make, args, message):
    path = tmp_path / "input.mp4"
    if make == "empty":
        path.write_bytes(b"")
    elif make == "text":
        path.write_text("this is not a video\n" * 50)
    elif make == "audio":
        import numpy as np
        import soundfile as sf

        path = tmp_path / "tone.wav"
        sf.write(path, np.zeros(1600, np.float32), 16000)
    elif make == "marked":
        path = videos["marked"]
    code = main(["verify", *args, str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("openinfp: error:") and "\n" not in err and message in err

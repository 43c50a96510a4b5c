"""``python -m openinfp.provenance.evaluate --real-videos``: camera videos scored as
negatives (as given) and as positives (marked through VideoWriter)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from openinfp.provenance import clips as C
from openinfp.provenance import evaluate as E


def write_camera_video(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    """Encode frames as a plain camera-style H.264 file (PyAV directly: no openinfp tags, no mark)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "18", "preset": "veryfast"}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


@pytest.fixture(scope="module")
def camera_folder(tmp_path_factory) -> Path:
    """A folder with a real photo filmed by the moving hand-held camera (256x320, 24
    frames), a 48x48 video too small for the mark, and a text file (ignored)."""
    folder = tmp_path_factory.mktemp("real_videos")
    rng = np.random.default_rng(7)
    write_camera_video(folder / "coffee_cam.mp4", list(C.camera_clip(C.load_photo("coffee"), 256, 320, 24, rng)))
    write_camera_video(folder / "tiny.mp4", list(C.camera_clip(C.load_photo("chelsea"), 48, 48, 4, rng)))
    (folder / "notes.txt").write_text("not a video\n")
    return folder


def test_real_videos_are_scored_as_negatives_and_detected_when_marked(camera_folder, tmp_path, capsys):
    out = tmp_path / "eval.json"
    code = E.main(["--clips", "0", "--real-videos", str(camera_folder), "--real-frames", "20",
                   "--transforms", "h264_crf28", "half_size", "--wrong-keys", "20", "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "skipped" in captured.err and "tiny.mp4" in captured.err and "48x48" in captured.err
    report = json.loads(out.read_text())
    trials = report["trials"]
    assert {t["kind"] for t in trials} == {E.REAL_KIND}
    assert {t["source"] for t in trials} == {"coffee_cam.mp4"}  # tiny skipped, notes.txt not a video
    unmarked = {t["transform"]: t for t in trials if not t["marked"]}
    marked = {t["transform"]: t for t in trials if t["marked"]}
    assert set(unmarked) == {E.AS_GIVEN, "h264_crf28", "half_size"}
    assert set(marked) == {E.ORIGINAL, "h264_crf28", "half_size"}
    assert unmarked[E.AS_GIVEN]["size"] == "320x256" and unmarked["half_size"]["size"] == "160x128"
    # The camera's own file carries no mark: scores are N(0, 1) draws, far below 4.
    for t in unmarked.values():
        assert not t["detected"] and abs(t["score"]) < 3.5, t
    # Marked through VideoWriter, the same camera frames are found after each re-encoding.
    for t in marked.values():
        assert t["detected"], t
    assert marked[E.ORIGINAL]["score"] > 20
    assert 42 < marked[E.ORIGINAL]["psnr"] < 44
    summary = report["summary"]
    assert summary["real_videos"]["original"]["detected"] == "1/1"
    assert summary["real_videos"]["original"]["false_positives"] == "0/1"
    assert summary["wrong_key_null"]["samples"] == 6 * 20
    assert "| original | " in captured.out and "coffee_cam.mp4 (320x256)" in captured.out
    assert report["args"]["real_videos"] == [str(camera_folder)]


def test_a_file_that_is_not_a_video_is_a_one_line_error(tmp_path, capsys):
    fake = tmp_path / "holiday.mp4"
    fake.write_text("this is text, not a video\n" * 20)
    code = E.main(["--clips", "0", "--real-videos", str(fake)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and "holiday.mp4" in err and "not a readable video" in err


def test_only_too_small_videos_is_an_error_and_clips_0_needs_real_videos(camera_folder, tmp_path, capsys):
    code = E.main(["--clips", "0", "--real-videos", str(camera_folder / "tiny.mp4")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "skipped" in err[0] and "none of the --real-videos" in err[-1]
    empty = tmp_path / "empty_folder"
    empty.mkdir()
    assert E.main(["--clips", "0", "--real-videos", str(empty)]) == 2
    assert "holds no video file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        E.main(["--clips", "0"])
    assert exit_info.value.code == 2


def test_odd_sized_lossless_video_in_another_container_is_scored(tmp_path):
    """A camera file need not be an even-sized H.264 MP4: an FFV1 .mkv of 177x145 is
    scored as given, and its marked copy and re-encodings lose the odd row/column."""
    import av

    frames = list(C.camera_clip(C.load_photo("coffee"), 145, 177, 10, np.random.default_rng(0)))
    path = tmp_path / "odd.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=25)
        stream.width, stream.height, stream.pix_fmt = 177, 145, "yuv444p"
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    videos, skipped = E.select_real_videos([path])
    assert skipped == [] and (videos[0].width, videos[0].height) == (177, 145)
    trials, nulls, _ = E.run(0, real_videos=videos, transforms=["h264_crf28"], wrong_keys=0, progress=False)
    got = {(t.marked, t.transform): t for t in trials}
    assert got[False, E.AS_GIVEN].size == "177x145" and got[False, "h264_crf28"].size == "176x144"
    assert got[True, E.ORIGINAL].size == "176x144" and nulls.size == 0
    assert not any(t.detected for t in trials if not t.marked)
    assert all(t.detected for t in trials if t.marked)

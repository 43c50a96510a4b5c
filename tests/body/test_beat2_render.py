"""BEAT2/EMAGE ``.npz`` files are read directly by everything that reads motion."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.cli import main
from openinfp.core.errors import InputError
from openinfp.core.motion import MotionSequence


def _beat2_file(path, frames: int = 12, fps: float = 30.0):
    """A small file in the BEAT2 layout, as EMAGE writes it: poses T x 165, trans, expressions T x 100,
    betas, mocap_frame_rate, gender, model (no openinfp keys)."""
    rng = np.random.default_rng(0)
    poses = np.zeros((frames, 165), np.float32)
    poses[:, 3:66] = 0.2 * np.sin(np.linspace(0, 3, frames))[:, None] * rng.uniform(-1, 1, 63)  # body joints move
    np.savez(path, poses=poses, trans=np.zeros((frames, 3), np.float32),
             expressions=0.1 * rng.standard_normal((frames, 100)).astype(np.float32),
             betas=np.zeros(300, np.float32), mocap_frame_rate=np.asarray(fps), gender=np.asarray("neutral"),
             model=np.asarray("smplx"))
    return path


def test_motion_load_recognises_the_beat2_layout(tmp_path):
    motion = MotionSequence.load(_beat2_file(tmp_path / "x.npz"))
    assert motion.space.name == "smplx" and motion.num_frames == 12 and motion.fps == 30.0
    assert motion.get("body").std(0).max() > 0.01  # the body moves as in the file


def test_render_takes_a_beat2_file_and_says_which_layout_it_read(tmp_path, capsys):
    from openinfp.core.video import probe_video

    src = _beat2_file(tmp_path / "x.npz")
    out = tmp_path / "x.mp4"
    assert main(["render", str(src), "--renderer", "skeleton", "-o", str(out), "--size", "64"]) == 0
    captured = capsys.readouterr()
    assert "BEAT2/EMAGE SMPL-X" in captured.err and "x.npz" in captured.err
    # stderr is not a terminal here: progress comes as a few plain lines, no carriage returns
    assert "\r" not in captured.err and len(captured.err.splitlines()) <= 6, captured.err
    assert "render+encode: 100% 12/12" in captured.err
    info = probe_video(out)
    assert info["frames"] == 12 and info["fps"] == pytest.approx(30.0)
    assert main(["render", str(src), "--renderer", "skeleton", "-o", str(out), "--size", "64", "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_unknown_npz_names_both_layouts(tmp_path):
    np.savez(tmp_path / "odd.npz", frames=np.zeros((3, 4)))
    with pytest.raises(InputError, match="neither an openinfp motion file .* nor a BEAT2/EMAGE"):
        MotionSequence.load(tmp_path / "odd.npz")

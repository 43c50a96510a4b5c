"""`openinfp render`: saved motion drawn again, with any renderer."""

from __future__ import annotations

import pytest

from openinfp.cli import main
from openinfp.core.video import probe_video


@pytest.fixture(scope="module")
def saved(tmp_path_factory, astronaut_png, partner_png, conversation, model_flags):
    """Agent and partner motion from one `animate --partner-portrait` run."""
    d = tmp_path_factory.mktemp("saved")
    wav, _, _ = conversation
    code = main(["animate", str(astronaut_png), str(wav), "-o", str(d / "a.mp4"), "--partner-portrait",
                 str(partner_png), "--size", "128", "--steps", "2", *model_flags, "--motion-out", str(d / "m.npz"),
                 "-q"])
    assert code == 0
    return d, probe_video(d / "a.mp4")["frames"]


def test_render_portrait_with_audio(tmp_path, saved, astronaut_png, conversation, capsys):
    d, frames = saved
    wav, _, _ = conversation
    out = tmp_path / "again.mp4"
    assert main(["render", str(d / "m.npz"), "--portrait", str(astronaut_png), "--audio", str(wav),
                 "-o", str(out), "--size", "128", "-q"]) == 0
    info = probe_video(out)
    assert info["frames"] == frames and info["has_audio"] and (info["width"], info["height"]) == (128, 128)
    assert info["metadata"]["openinfp_renderer"] == "portrait"


def test_render_side_by_side_and_body_scene(tmp_path, saved, astronaut_png, partner_png, capsys):
    d, frames = saved
    out = tmp_path / "pair.mp4"
    assert main(["render", str(d / "m.npz"), "--partner-motion", str(d / "m.partner.npz"), "--portrait",
                 str(astronaut_png), "--partner-portrait", str(partner_png), "-o", str(out), "--size", "128",
                 "-q"]) == 0
    assert (probe_video(out)["width"], probe_video(out)["frames"]) == (256, frames)
    # head motion on a body renderer is lifted onto a resting body
    out = tmp_path / "skel.mp4"
    assert main(["render", str(d / "m.npz"), "--partner-motion", str(d / "m.partner.npz"), "--renderer",
                 "skeleton", "-o", str(out), "--size", "128", "-q"]) == 0
    info = probe_video(out)
    assert info["frames"] == frames and info["width"] > info["height"] and not info["has_audio"]


def test_render_errors(tmp_path, saved, capsys):
    d, _ = saved
    cases = [
        (["render", str(d / "m.npz"), "-o", str(tmp_path / "x.mp4")], "portrait"),
        (["render", str(d / "m.npz"), "--renderer", "hologram", "-o", str(tmp_path / "x.mp4")], "unknown renderer"),
        (["render", str(tmp_path / "none.npz"), "-o", str(tmp_path / "x.mp4")], "does not exist"),
        (["render", str(d / "m.npz"), "--partner-motion", str(d / "m.partner.npz"), "--renderer", "portrait",
          "--portrait", str(d / "a.mp4"), "-o", str(tmp_path / "x.mp4")], "partner-portrait"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("openinfp: error:")]
        assert len(lines) == 1 and message in lines[0], (argv, lines)
    assert list(tmp_path.iterdir()) == []

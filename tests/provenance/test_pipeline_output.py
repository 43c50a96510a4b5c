"""Real `openinfp animate` output (real photo, real eSpeak NG speech) carries provenance
that survives a half-size re-encode that strips the metadata."""

from __future__ import annotations

import pytest

from openinfp.cli import main
from openinfp.provenance import clips as C
from openinfp.provenance.verify import verify_video

SCRIPT = "A: Hello! I just came back from the mountains.\nB: Oh nice, how was it?\n"


@pytest.fixture(scope="module")
def model_flags(tmp_path_factory) -> list[str]:
    """The shipped head model when there is one, else a tiny untrained one (plumbing)."""
    from openinfp.core.generator import default_checkpoint
    from openinfp.core.registry import Registry
    from openinfp.pipeline.smoke import save_untrained_generator

    try:
        default_checkpoint("head")
        return []
    except Exception:
        folder = tmp_path_factory.mktemp("model") / "head"
        return ["--checkpoint", str(save_untrained_generator(folder, Registry.create(autoload=False), "head"))]


def test_animate_output_is_tagged_watermarked_and_labelled(tmp_path, astronaut, model_flags, capsys):
    from PIL import Image

    portrait, script = tmp_path / "portrait.png", tmp_path / "script.txt"
    Image.fromarray(astronaut).save(portrait)
    script.write_text(SCRIPT)
    out = tmp_path / "out.mp4"
    code = main(["animate", str(portrait), "--script", str(script), "-o", str(out), "--size", "256",
                 "--steps", "2", "-q", "--set", "output.label=true", *model_flags])
    assert code == 0, capsys.readouterr().err
    report = verify_video(out)
    assert report.tags["synthetic"] == "true" and report.tags["visible_label"] == "AI-generated"
    assert report.tags["watermark"] == "openinfp-wm1" and report.watermark.present
    copy = verify_video(C.transcode(out, tmp_path / "half.mp4", scale=0.5, crf=28))
    assert copy.tags == {} and copy.watermark.present and copy.marked, copy.format()

"""`openinfp eval --real DIR` end to end through the command line, on a short real clip."""

from __future__ import annotations

import json

import soundfile as sf

from openinfp.cli import main


def test_eval_real_runs_from_the_command_line(realdata, tmp_path, capsys):
    """Eight seconds of a real two-track conversation: the command writes the report it prints."""
    folder = tmp_path / "conversations"
    folder.mkdir()
    name = "dualtalk_UbjUDM1MiGE_72"
    for track in ("spk1", "spk2"):
        audio, rate = sf.read(realdata / "conversations" / f"{name}.{track}.flac", dtype="float32")
        sf.write(folder / f"clip.{track}.flac", audio[: 8 * rate], rate)
    out = tmp_path / "real.json"
    assert main(["eval", "--real", str(tmp_path), "-o", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["checkpoint"] == "shipped default" and report["live"] is False
    model = report["conversations"]["model"]
    assert set(model) == {"clip:spk1", "clip:spk2"}  # each speaker once the agent
    assert all(0.0 <= row["jaw_auc"] <= 1.0 for row in model.values())
    assert "nods per listening minute" in printed and "nods per listening minute" in report["markdown"]

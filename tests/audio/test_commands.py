"""The ``tracks`` and ``speak`` CLI commands."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from openinfp.cli import main


def test_speak_then_tracks_round_trip(tmp_path, capsys):
    script = tmp_path / "talk.txt"
    script.write_text("A: Hi, how was the trip?\nB: Long, but worth it.\n", encoding="utf-8")
    wav, rttm = tmp_path / "talk.wav", tmp_path / "talk.rttm"
    assert main(["speak", str(script), "-o", str(wav), "--rttm", str(rttm), "--no-backchannels"]) == 0
    stereo, sr = sf.read(str(wav))
    assert sr == 16000 and stereo.shape[1] == 2
    lines = rttm.read_text().split("\n")
    assert lines[0].startswith("SPEAKER talk 1 0.500") and " A " in lines[0] and " B " in lines[1]
    out, csv = tmp_path / "tracks.wav", tmp_path / "act.csv"
    assert main(["tracks", str(wav), "-o", str(out), "--activity", str(csv), "--agent-channel", "right"]) == 0
    swapped, _ = sf.read(str(out))
    np.testing.assert_allclose(swapped[:, 0], stereo[:, 1], atol=1e-4)
    rows = csv.read_text().splitlines()
    assert rows[0] == "frame,time_s,agent,partner" and len(rows) > 50
    act = np.array([[float(v) for v in r.split(",")[2:]] for r in rows[1:]])
    assert act[:, 0].max() > 0.9 and act[:, 1].max() > 0.9
    assert "agent = right channel" in capsys.readouterr().out


def test_commands_report_bad_input_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("no labels here\n", encoding="utf-8")
    assert main(["speak", str(bad), "-o", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err
    assert "line 1 has no speaker label" in err and err.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()
    assert main(["tracks", str(tmp_path / "none.wav"), "-o", str(tmp_path / "y.wav")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["tracks", str(tmp_path / "none.wav"), "-o", str(tmp_path / "y.wav"), "--partner-only",
                 "--mono-mix"]) == 2
    assert "exclude each other" in capsys.readouterr().err


def test_speakers_flag_reaches_the_audio_config():
    import argparse

    import pytest

    from openinfp.audio.commands import add_audio_arguments, audio_config_from_args
    from openinfp.audio.config import AudioConfig, parse_speakers
    from openinfp.core.errors import ConfigError
    from openinfp.pipeline.cli import _overrides, add_animate_arguments

    parser = argparse.ArgumentParser()
    add_audio_arguments(parser)
    assert AudioConfig().speakers == "2"
    assert audio_config_from_args(parser.parse_args(["--mono-mix", "--speakers", "auto"])).speakers == "auto"
    with pytest.raises(ConfigError, match="--speakers"):
        audio_config_from_args(parser.parse_args(["--speakers", "0"]))
    assert parse_speakers("auto") is None and parse_speakers(3) == 3
    animate = argparse.ArgumentParser()
    add_animate_arguments(animate)
    overrides = _overrides(animate.parse_args(["p.jpg", "mix.wav", "-o", "o.mp4", "--speakers", "3"]))
    assert "audio.speakers=3" in overrides and "audio.mono_mix=true" in overrides

"""The ``openinfp`` console script."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from openinfp import __version__
from openinfp.cli import build_parser, main
from openinfp.core.registry import Registry


def test_console_script_version():
    exe = shutil.which("openinfp")
    cmd = [exe] if exe else [sys.executable, "-m", "openinfp"]
    out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == f"openinfp {__version__}"


def _subcommands(parser):
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


def test_every_subcommand_has_help(capsys):
    parser = build_parser(Registry.create())
    commands = _subcommands(parser)
    assert {"plugins", "config"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert f"openinfp {name}" in out and len(out.strip().splitlines()) >= 2


def test_plugins_lists_builtin_spaces_with_source(capsys):
    assert main(["plugins", "-v"]) == 0
    out = capsys.readouterr().out
    assert "head" in out and "smplx" in out and f"openinfp {__version__} (built-in)" in out
    assert "[0:6] head_rotation" in out


def test_config_list_and_errors_are_one_line(capsys):
    assert main(["config", "list"]) == 0
    assert "default" in capsys.readouterr().out
    code = main(["config", "show", "default", "model.sampler.stepz=3"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("openinfp: error:") and "\n" not in err and "stepz" in err


# ----- one flag vocabulary ------------------------------------------------------------------

# commands that write one file (or one folder) and so take -o/--output
WRITES_ONE = {"track", "export", "reenact", "diarize", "tracks", "speak", "animate", "render", "synth", "prepare",
              "beat2", "bench", "eval"}
# commands that read a config preset and so take -c/--config and --set
CONFIGURED = {"animate", "render", "demo", "train", "eval", "config show"}
OLD_SPELLINGS = {"--out", "--no-progress", "--preset"}


def _leaf_parsers(parser, prefix=""):
    """(name, parser) of every runnable subcommand, nested ones as 'config show'."""
    for name, sub in _subcommands(parser).items():
        full = f"{prefix}{name}"
        nested = [a for a in sub._actions if a.__class__.__name__ == "_SubParsersAction"]
        if nested:
            yield from _leaf_parsers(sub, full + " ")
        else:
            yield full, sub


def _options(parser) -> dict:
    return {s: a for a in parser._actions for s in a.option_strings}


def test_every_subcommand_speaks_one_flag_vocabulary():
    leaves = dict(_leaf_parsers(build_parser(Registry.create())))
    assert WRITES_ONE | CONFIGURED | {"plugins", "config list", "verify", "check-video"} <= set(leaves)
    for name, p in leaves.items():
        opts = _options(p)
        visible = {s for s, a in opts.items() if a.help != "==SUPPRESS=="}
        assert "-q" in visible and opts["-q"] is opts["--quiet"] and opts["-q"].dest == "quiet", name
        assert not visible & OLD_SPELLINGS, f"{name} shows an old spelling: {visible & OLD_SPELLINGS}"
        if name in WRITES_ONE or "--output" in opts:
            assert {"-o", "--output"} <= visible and opts["-o"] is opts["--output"], name
            assert opts["-o"].dest == "output", name
            assert "--json" not in visible, f"{name}: the JSON file is -o now"
        if name in CONFIGURED or "--config" in opts:
            assert {"-c", "--config", "--set"} <= visible and opts["-c"] is opts["--config"], name
            assert opts["--set"].dest == "overrides" and opts["--set"].metavar == "KEY=VALUE", name
        for s, a in opts.items():  # old spellings stay as hidden aliases of the same setting
            if s in OLD_SPELLINGS or (s == "--json" and a.dest == "output"):
                assert a.help == "==SUPPRESS==", (name, s)


@pytest.mark.parametrize("argv, dest, value", [
    (["synth", "--hours", "1", "--out", "c"], "output", "c"),
    (["prepare", "x", "--format", "dualtalk", "--out", "c"], "output", "c"),
    (["bench", "--json", "b.json"], "output", "b.json"),
    (["eval", "--json", "e.json"], "output", "e.json"),
    (["eval", "--preset", "head"], "config", "head"),
    (["train", "--no-progress"], "quiet", True),
    (["train", "--config", "head", "data.root=c", "--set", "train.steps=3"], "overrides",
     ["data.root=c", "train.steps=3"]),
    (["beat2", "in.npz", "out.npz"], "legacy_output", "out.npz"),
    (["eval"], "config", "default"),  # an alias never shadows the default
    (["eval"], "output", None),
    (["train"], "config", "head"),
])
def test_old_spellings_still_work(argv, dest, value):
    from openinfp.cli_options import merge_legacy_overrides

    args = build_parser(Registry.create()).parse_args(argv)
    merge_legacy_overrides(args)
    assert getattr(args, dest) == value


def test_config_show_takes_config_and_set_and_the_old_positional_form(capsys):
    assert main(["config", "show", "-c", "default", "--set", "model.sampler.steps=7", "-q"]) == 0
    new = capsys.readouterr().out
    assert main(["config", "show", "default", "model.sampler.steps=7"]) == 0
    assert capsys.readouterr().out == new and "steps: 7" in new


def test_bare_openinfp_prints_usage_and_exits_2(capsys):
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: openinfp") and "openinfp --help" in err


def test_bench_writes_json_only_where_o_says(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = ["bench", "--stages", "video", "--clip-seconds", "1", "--runs", "1", "--warmup", "0", "--size", "64", "-q"]
    assert main(argv) == 0
    assert list(tmp_path.iterdir()) == [] and "| video encoding |" in capsys.readouterr().out
    assert main([*argv, "-o", "sub.json"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["sub.json"]
    assert capsys.readouterr().err == ""


# ----- quiet ---------------------------------------------------------------------------------


def _console(*args: str) -> list[str]:
    exe = shutil.which("openinfp")
    return [exe, *args] if exe else [sys.executable, "-m", "openinfp", *args]


def test_track_q_prints_nothing_on_stderr(tmp_path, astronaut):
    """MediaPipe's TF Lite and absl lines (written by C++ straight to fd 2) never reach the user."""
    from PIL import Image

    photo = tmp_path / "a.png"
    Image.fromarray(astronaut).save(photo)
    run = subprocess.run(_console("track", str(photo), "-o", str(tmp_path / "m.npz"), "-q"),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "" and "wrote" in run.stdout
    # errors still get through under -q
    run = subprocess.run(_console("track", str(tmp_path / "none.png"), "-o", str(tmp_path / "m.npz"), "-q"),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and run.stderr.startswith("openinfp: error:") and run.stderr.count("\n") == 1


@pytest.mark.slow
def test_animate_with_prompt_q_prints_nothing_on_stderr(tmp_path, astronaut):
    import numpy as np
    import soundfile as sf
    from PIL import Image

    photo = tmp_path / "a.png"
    Image.fromarray(astronaut).save(photo)
    t = np.arange(16000 * 2) / 16000
    sf.write(tmp_path / "a.wav", np.stack([0.3 * np.sin(2 * np.pi * 180 * t), 0 * t], 1), 16000)
    run = subprocess.run(_console("animate", str(photo), str(tmp_path / "a.wav"), "--prompt", "calm, nods a lot",
                                  "--size", "64", "-o", str(tmp_path / "o.mp4"), "-q"),
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""


def test_native_noise_filter_keeps_real_messages():
    from openinfp.quiet import is_native_noise

    assert is_native_noise("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
    assert is_native_noise("W0000 00:00:1796173052.724490    9211 inference_feedback_manager.cc:114] Feedback\n")
    assert is_native_noise("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR")
    assert not is_native_noise("E0000 00:00:1796173052.724490    9211 graph.cc:1] real failure\n")
    assert not is_native_noise("openinfp: error: no face found\n")


def test_q_hides_notes_too(tmp_path, capfd):
    """A stereo file given to `diarize` is mixed down with a note; -q keeps stderr empty."""
    import numpy as np
    import soundfile as sf

    t = np.arange(16000 * 2) / 16000
    sf.write(tmp_path / "s.wav", np.stack([0.3 * np.sin(2 * np.pi * 180 * t), 0.2 * np.sin(2 * np.pi * 90 * t)], 1),
             16000)
    assert main(["diarize", str(tmp_path / "s.wav"), "-o", str(tmp_path / "a.rttm")]) == 0
    assert "note:" in capfd.readouterr().err
    assert main(["diarize", str(tmp_path / "s.wav"), "-o", str(tmp_path / "b.rttm"), "-q"]) == 0
    assert capfd.readouterr().err == ""

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

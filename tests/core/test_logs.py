"""Library code logs; only command-line code prints to stderr."""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import openinfp
from openinfp.core.logs import LOGGER_NAME, configure_cli_logging
from openinfp.pipeline.progress import StageTimer

ROOT = Path(openinfp.__file__).resolve().parent
#: command-line modules (argument parsing, exit codes, user-facing output)
CLI_MODULES = {"cli.py", "commands.py", "__main__.py", "train_cli.py"}
#: functions that are command lines, stderr progress callbacks or the demo server's request log by design
CLI_FUNCTIONS = {"main", "stderr_progress", "launch_demo", "server_log"}


def _stderr_prints(source: str, where: str) -> list[str]:
    tree = ast.parse(source)
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) or func.name in CLI_FUNCTIONS:
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print" and any(
                    k.arg == "file" and ast.unparse(k.value) == "sys.stderr" for k in node.keywords):
                found.append(f"{where}:{node.lineno} in {func.name}()")
    return found


def test_library_modules_do_not_print_to_stderr():
    found = [hit for p in sorted(ROOT.rglob("*.py")) if p.name not in CLI_MODULES
             for hit in _stderr_prints(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT.parent)))]
    assert not found, "use logging.getLogger(__name__) instead:\n" + "\n".join(sorted(set(found)))


def test_the_check_sees_a_stderr_print():
    source = "import sys\ndef f():\n    print('x', file=sys.stderr)\ndef main():\n    print('y', file=sys.stderr)\n"
    assert _stderr_prints(source, "mod.py") == ["mod.py:3 in f()"]


def test_cli_logging_shows_stage_messages_on_stderr(capsys):
    logger = logging.getLogger(LOGGER_NAME)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        configure_cli_logging()
        configure_cli_logging()  # idempotent: one line per record, not two
        with StageTimer(show=True).stage("audio", "loading audio"):
            pass
        assert capsys.readouterr().err == "openinfp: loading audio\n"
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def test_library_use_prints_nothing(capsys):
    logger = logging.getLogger(LOGGER_NAME)
    saved = (list(logger.handlers), logger.level, logger.propagate)
    try:
        logger.handlers.clear()
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
        with StageTimer(show=True).stage("audio", "loading audio"):
            pass
        assert "loading audio" not in capsys.readouterr().err
    finally:
        logger.handlers[:], logger.level, logger.propagate = saved


def test_a_command_shows_each_message_once(capsys, tmp_path):
    # The CLI sets logging up twice (third-party quieting, then its own handler); a message
    # must still come out once (it came out twice when each added its own handler).
    from openinfp.cli import main

    bad = tmp_path / "not_audio.wav"
    bad.write_bytes(b"this is not audio")
    image = tmp_path / "none.png"
    code = main(["animate", str(image), str(bad), "-o", str(tmp_path / "out.mp4")])
    err = capsys.readouterr().err
    assert code != 0
    lines = [line for line in err.splitlines() if line.startswith("openinfp: ")]
    assert lines and len(lines) == len(set(lines)), err

"""The first anny build is announced with progress, where the cache is and how to move it."""

from __future__ import annotations

import logging
import time

from openinfp.body.anny_cache import announce_first_build, cache_is_built


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def test_first_build_is_announced_with_progress_and_where_it_went(tmp_path):
    cache = tmp_path / "anny"
    logger = logging.getLogger("openinfp.body.anny")
    caught, level = _Lines(), logger.level
    logger.addHandler(caught)
    logger.setLevel(logging.INFO)
    try:
        with announce_first_build(cache, interval_s=0.05):
            (cache / "v14").mkdir(parents=True)
            (cache / "v14" / "build_model_data_x.safetensors").write_bytes(b"\0" * 3_000_000)
            time.sleep(0.3)
        text = caught.text
        caught.lines.clear()
        with announce_first_build(cache, interval_s=0.05):  # built: nothing to say
            time.sleep(0.1)
        assert caught.lines == []
    finally:
        logger.removeHandler(caught)
        logger.setLevel(level)
    assert "building its model data once" in text and str(cache) in text
    assert "step 2 of 3" in text and "of about 860 MB written" in text  # progress while it builds
    assert "3 MB in" in text and "ANNY_CACHE_DIR" in text  # where it is, how to move it
    assert cache_is_built(cache)


def test_cli_shows_openinfp_notes_unless_quiet(capsys):
    from openinfp.quiet import quiet_third_party

    try:
        quiet_third_party()
        logging.getLogger("openinfp.body.anny").info("a note")
        assert capsys.readouterr().err == "openinfp: a note\n"
        quiet_third_party(quiet=True)
        logging.getLogger("openinfp.body.anny").info("a note")
        assert capsys.readouterr().err == ""
    finally:
        logger = logging.getLogger("openinfp")
        logger.handlers.clear()
        logger.propagate = True
        logger.setLevel(logging.NOTSET)

"""Logging: library code logs, the command line shows it.

Library modules log through ``logging.getLogger(__name__)`` (all under the
``openinfp`` logger) and never print. The CLI calls :func:`configure_cli_logging`,
which shows ``INFO`` and above on stderr as ``openinfp: message`` lines; a program that
uses openinfp as a library configures logging itself (by default Python shows only
warnings).
"""

from __future__ import annotations

import logging
import sys

LOGGER_NAME = "openinfp"
CLI_FORMAT = "openinfp: %(message)s"


class _CurrentStderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (test capture, redirects)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # logging must never break a run
            self.handleError(record)


def configure_cli_logging(level: int = logging.INFO) -> logging.Logger:
    """Show ``openinfp.*`` records of ``level`` and above on stderr (idempotent)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        if isinstance(handler, _CurrentStderrHandler):
            logger.removeHandler(handler)
    handler = _CurrentStderrHandler()
    handler.setFormatter(logging.Formatter(CLI_FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger

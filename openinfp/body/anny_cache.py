"""Tell the user about Anny's one-time model-data build: what, where, how long, how to move it.

The first use of the ``anny`` body builds about 860 MB of model data (a minute or two on a
2-core CPU) into the cache folder; later runs load it in seconds. Messages go to the
``openinfp`` logger (the CLI shows them on stderr unless ``-q``); while the build runs, a
line every ``interval_s`` seconds reports how much has been written.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Iterator

log = logging.getLogger("openinfp.body.anny")

EXPECTED_MB = 860
"""About how much the built cache holds."""
STEPS = 3
"""anny 0.6 writes its cache in three steps, one safetensors file each (load, build, compact)."""


def cache_is_built(path: Path) -> bool:
    """True when ``path`` already holds Anny's built model data (any version of it)."""
    return any(Path(path).rglob("build_model_data_*.safetensors"))


def folder_mb(path: Path) -> float:
    """Size of the files under ``path`` in MB (0 when missing)."""
    total = 0
    for p in Path(path).rglob("*"):
        with contextlib.suppress(OSError):
            if p.is_file():
                total += p.stat().st_size
    return total / 1e6


@contextlib.contextmanager
def announce_first_build(path: Path, interval_s: float = 10.0) -> Iterator[None]:
    """Around Anny's model construction: when the cache is not built yet, say so, report the
    growth of the cache folder every ``interval_s`` seconds, and say at the end where it is
    and how to move it. Does nothing when the cache is already there."""
    path = Path(path)
    if cache_is_built(path):
        yield
        return
    log.info("first use of the anny body: building its model data once (about %d MB; a minute or two on a "
             "quiet 2-core CPU, several on a busy one) in %s", EXPECTED_MB, path)
    start = time.monotonic()
    done = threading.Event()

    def report() -> None:
        while not done.wait(interval_s):
            steps = min(STEPS, len(list(path.rglob("*.safetensors"))) + 1)
            log.info("building anny model data: step %d of %d, %.0f s so far, %.0f of about %d MB written", steps,
                     STEPS, time.monotonic() - start, folder_mb(path), EXPECTED_MB)

    ticker = threading.Thread(target=report, name="openinfp-anny-cache", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        done.set()
        ticker.join()
    log.info("anny model data built in %.0f s: %.0f MB in %s; later runs load it in seconds. To keep it "
             "elsewhere, move that folder and set the environment variable ANNY_CACHE_DIR to its new place",
             time.monotonic() - start, folder_mb(path), path)

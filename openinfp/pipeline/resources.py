"""Shared resources of pipeline runs: loaded models, CPU threads, peak memory."""

from __future__ import annotations

import sys
from typing import Any

GENERATION_THREADS = 1
"""Torch intra-op threads while reading audio (voice activity), conditioning and
sampling on a CPU. The motion models
multiply small matrices (a 60-frame window, width 128), where a second thread buys
little on a free machine and costs a lot on a busy one: measured on the 2-core
machine at load average 13, 30 s of motion (10 DDIM steps) took 0.9 s with one
thread and 25-37 s with two (threads spin-waiting for a core)."""


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (0 where the OS does not say)."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (2**20 if sys.platform == "darwin" else 1024.0)



class ModelCache:
    """Loaded conditioners and motion generators by what identifies them (name and
    options; motion space, checkpoint and device), shared by pipelines. Thread-safe:
    a run may preload its models in a background thread."""

    def __init__(self) -> None:
        import threading

        self._items: dict[tuple, Any] = {}
        self._lock = threading.RLock()

    def get(self, key: tuple, build: Any) -> Any:
        """The item for ``key``, built by ``build()`` on first use."""
        with self._lock:
            if key not in self._items:
                self._items[key] = build()
            return self._items[key]

    def __len__(self) -> int:
        return len(self._items)

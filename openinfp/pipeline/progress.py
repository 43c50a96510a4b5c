"""Stage timing and progress bars (tqdm on stderr) for pipeline runs."""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from typing import Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class StageTimer:
    """Wall-clock and CPU seconds per named stage, in the order the stages ran.

    Use ``with timer.stage("render"):``; repeated stages add up. CPU seconds are the
    process's (all threads): on a busy shared machine they show the work a stage
    needs, while wall seconds also count the waiting for a core.
    """

    def __init__(self, show: bool = True) -> None:
        self.show = show
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self._start = time.perf_counter()
        self._cpu_start = time.process_time()

    @contextlib.contextmanager
    def stage(self, name: str, message: str = "") -> Iterator[None]:
        """Time a block; with ``show``, log ``message`` first (the CLI shows it on stderr)."""
        if self.show and message:
            log.info("%s", message)
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
            self.cpu_seconds[name] = self.cpu_seconds.get(name, 0.0) + time.process_time() - c0

    @property
    def total(self) -> float:
        """Wall seconds since the timer was created."""
        return time.perf_counter() - self._start

    @property
    def cpu_total(self) -> float:
        """CPU seconds of the process (all threads) since the timer was created."""
        return time.process_time() - self._cpu_start

    def summary(self) -> str:
        """One line: ``inputs 0.4s | motion 1.2s | ... | total 9.1s (cpu 12.0s)``."""
        parts = [f"{k} {v:.1f}s" for k, v in self.seconds.items()]
        return " | ".join(parts + [f"total {self.total:.1f}s (cpu {self.cpu_total:.1f}s)"])


def progress(iterable: Iterable[T], total: Optional[int], desc: str, show: bool = True,
             unit: str = "frame") -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar on stderr (or pass it through when ``show`` is false)."""
    if not show:
        yield from iterable
        return
    from tqdm.auto import tqdm

    with tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
              leave=False) as bar:
        yield from bar

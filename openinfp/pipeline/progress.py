"""Stage timing and progress bars (tqdm on stderr) for pipeline runs."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Iterable, Iterator, Optional, TypeVar

T = TypeVar("T")


class StageTimer:
    """Wall-clock seconds per named stage, in the order the stages ran.

    Use ``with timer.stage("render"):``; nested or repeated stages add up.
    """

    def __init__(self, show: bool = True) -> None:
        self.show = show
        self.seconds: dict[str, float] = {}
        self._start = time.perf_counter()

    @contextlib.contextmanager
    def stage(self, name: str, message: str = "") -> Iterator[None]:
        """Time a block; with ``show``, print ``message`` (or the stage name) to stderr first."""
        if self.show and message:
            print(f"openinfp: {message}", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0

    @property
    def total(self) -> float:
        """Seconds since the timer was created."""
        return time.perf_counter() - self._start

    def summary(self) -> str:
        """One line: ``audio 0.4s | conditions 0.2s | ... | total 9.1s``."""
        parts = [f"{k} {v:.1f}s" for k, v in self.seconds.items()]
        return " | ".join(parts + [f"total {self.total:.1f}s"])


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

"""Stage timing and progress bars (tqdm on stderr) for pipeline runs.

On a terminal, bars redraw in place. Anywhere else (a log file, CI, a pipe) carriage-return
redraws would pile up as hundreds of updates, so :class:`PlainProgressStream` turns every
bar written to stderr (ours, and tqdm bars inside libraries) into a few plain lines: the
start, one line every ``interval_s`` seconds, and the end.
"""

from __future__ import annotations

import contextlib
import logging
import re
import sys
import time
from typing import Callable, Iterable, Iterator, Optional, TextIO, TypeVar

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

    # a terminal redraws the bar and clears it at the end; elsewhere (wrapped into plain
    # lines by PlainProgressStream) the bar is kept so its final count is printed
    tty = _is_tty(sys.stderr)
    with tqdm(iterable, total=total, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True,
              leave=not tty) as bar:
        yield from bar


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


_BAR_GRAPHIC = re.compile(r"\|[^|]*\|")


class PlainProgressStream:
    """A text stream wrapper that turns carriage-return progress redraws into a few plain lines.

    Text ending in ``\\n`` passes through unchanged. A redraw (text followed by ``\\r``,
    as tqdm writes) is a *status*: the first status of a bar is written as a line, later
    ones at most every ``interval_s`` seconds, and the last one when the bar finishes
    (cleared or ended with a newline), so a finished bar always shows its final count.
    The bar graphic between ``|`` marks is dropped. Every other attribute is the wrapped
    stream's (``fileno``, ``encoding``, ``isatty`` ...).
    """

    def __init__(self, stream: TextIO, interval_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._interval = interval_s
        self._clock = clock
        self._line = ""  # text since the last CR or LF
        self._status = ""  # latest redraw not yet written
        self._in_bar = False
        self._after_cr = False  # the text being collected follows a carriage return (a redraw)
        self._last_shown = float("-inf")

    def write(self, text: str) -> int:
        for piece in re.split(r"(\r|\n)", text):
            if piece == "\r":
                if self._line.strip():
                    self._redraw(self._line)
                elif self._after_cr:  # "\r" + blanks + "\r": a bar clearing itself
                    self._redraw("")
                self._line, self._after_cr = "", True
            elif piece == "\n":
                line, self._line, self._after_cr = self._line, "", False
                if not line.strip() and self._in_bar:  # the newline that ends a kept bar
                    self._end_bar("")
                else:  # a message, possibly between two redraws of a bar
                    self._stream.write(line + "\n")
            else:
                self._line += piece
        if self._after_cr and self._line.strip():  # tqdm draws a status in one write: it is complete now
            self._redraw(self._line)
            self._line, self._after_cr = "", False
        return len(text)

    def _redraw(self, status: str) -> None:
        status = _plain(status)
        if not status:  # a bar clearing itself
            if self._in_bar:
                self._end_bar("")
            return
        now = self._clock()
        if not self._in_bar or now - self._last_shown >= self._interval:
            self._stream.write(status + "\n")
            self._status, self._last_shown = "", now
        else:
            self._status = status
        self._in_bar = True

    def _end_bar(self, final: str) -> None:
        last = _plain(final) or self._status
        if last:
            self._stream.write(last + "\n")
        self._status, self._in_bar = "", False

    def finish(self) -> None:
        """Write out what is still held back (an unfinished bar's last status, a partial line)."""
        if self._in_bar:
            self._end_bar(self._line)
        elif self._line:
            self._stream.write(self._line)
        self._line = ""
        self._stream.flush()

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _plain(status: str) -> str:
    return " ".join(_BAR_GRAPHIC.sub(" ", status).split())


@contextlib.contextmanager
def plain_progress_on_non_tty() -> Iterator[None]:
    """While the block runs, ``sys.stderr`` shows progress bars as plain lines unless it is a terminal."""
    stream = sys.stderr
    tty = _is_tty(stream)
    if tty or isinstance(stream, PlainProgressStream):
        yield
        return
    sys.stderr = PlainProgressStream(stream)
    try:
        yield
    finally:
        wrapper, sys.stderr = sys.stderr, stream
        if isinstance(wrapper, PlainProgressStream):
            with contextlib.suppress(Exception):
                wrapper.finish()

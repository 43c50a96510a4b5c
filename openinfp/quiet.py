"""Keep third-party chatter off the user's terminal.

Libraries under openinfp log at their source in three ways, each silenced differently:

* C++ logs read environment variables once, when their shared library loads
  (``TF_CPP_MIN_LOG_LEVEL``, ``GLOG_minloglevel``): :func:`quiet_third_party` sets them,
  so it must run before ``mediapipe`` / ``torch`` / ``transformers`` are imported (the
  CLI and the demo call it first thing).
* Python loggers and progress bars (transformers' "Loading weights" bar, huggingface_hub,
  absl): logger levels and the libraries' own environment switches.
* MediaPipe's TF Lite and absl logs ignore both and write straight to file descriptor 2
  while a graph is built and on its first frames: :func:`native_stderr_filtered`
  captures the descriptor around those calls and passes on only the lines that are not
  known noise.

Nothing here runs at import time; every function is idempotent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
import threading
import warnings
from typing import Iterator

# set before the libraries load; setdefault keeps a user's own choice
_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # TensorFlow / TF Lite C++ (errors only)
    "GLOG_minloglevel": "2",  # glog-based C++ (MediaPipe's older builds)
    "GLOG_logtostderr": "0",
    "TRANSFORMERS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # also the "Loading weights" bar of transformers
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TOKENIZERS_PARALLELISM": "false",  # else a fork warning from tokenizers
    "GRADIO_ANALYTICS_ENABLED": "False",
}

_NOISY_LOGGERS = (
    "absl", "transformers", "sentence_transformers", "huggingface_hub", "tensorflow", "mediapipe", "torch",
    "matplotlib", "PIL", "numba", "httpx", "httpcore", "urllib3", "gradio", "uvicorn", "uvicorn.error",
    "uvicorn.access", "fastapi", "speechbrain", "senko", "accelerate", "diffusers", "asyncio", "filelock",
)

# lines C++ libraries print to fd 2 that say nothing a user can act on
_NATIVE_NOISE = re.compile(
    r"^(INFO: Created TensorFlow Lite|INFO: Initialized TensorFlow Lite"
    r"|WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IW]\d{4} [\d:. ]+\d+ [\w./-]+:\d+\] )"
)

_lock = threading.Lock()
_FD = 2  # C++ libraries write to the process's file descriptor 2, whatever sys.stderr is


def quiet_environment() -> None:
    """Only the environment switches (no logger or warning changes): safe for library code to call."""
    for key, value in _ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def quiet_third_party(quiet: bool = False) -> None:
    """Silence third-party logging for this process (and the children it starts).

    Args:
        quiet: also drop third-party warnings and keep only errors from every library
            logger (the ``-q`` flag: nothing but errors on stderr).
    """
    quiet_environment()
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    # python warnings from libraries are for their developers, not for our users
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module=r"(?!openinfp)")
    if quiet:
        os.environ.setdefault("PYTHONWARNINGS", "ignore")  # child processes (bench, workers) too
        warnings.simplefilter("ignore")
        logging.getLogger().setLevel(logging.ERROR)
    _show_openinfp_messages(quiet)
    _quiet_loaded_libraries()


def _show_openinfp_messages(quiet: bool) -> None:
    """The ``openinfp`` logger's notes (e.g. a one-time cache build) as ``openinfp: ...`` lines on stderr,
    errors only under ``quiet``: the CLI's own handler (:func:`openinfp.core.logs.configure_cli_logging`),
    so a message is shown once however often this and the CLI set logging up."""
    from openinfp.core.logs import configure_cli_logging

    configure_cli_logging(logging.ERROR if quiet else logging.INFO)


def _quiet_loaded_libraries() -> None:
    """Switch off bars of libraries that are already imported (the env vars are read at import)."""
    hf = sys.modules.get("huggingface_hub.utils")
    if hf is not None and hasattr(hf, "disable_progress_bars"):
        hf.disable_progress_bars()
    tl = sys.modules.get("transformers.utils.logging")
    if tl is not None:
        tl.set_verbosity_error()
        tl.disable_progress_bar()


def is_native_noise(line: str) -> bool:
    """True for a C++ log line known to carry nothing for users (TF Lite / absl info and warnings)."""
    return bool(_NATIVE_NOISE.match(line))


class NativeStderrCapture:
    """Capture file descriptor 2 from :meth:`start` to :meth:`stop`, then write back every line that is not noise.

    For C++ code that logs straight to fd 2. MediaPipe opens its calculators on
    background threads after the graph object is built, so the capture has to span from
    construction to the end of the first frame, across calls: hence start/stop rather
    than only a ``with`` block. Error lines and anything unknown still reach stderr,
    only later; Python writes to ``sys.stderr`` meanwhile are captured and passed on too.
    One capture at a time (a second ``start`` elsewhere does nothing); without an fd 2 it
    does nothing.
    """

    def __init__(self) -> None:
        self._saved: int | None = None
        self._sink = None

    def start(self) -> "NativeStderrCapture":
        try:
            os.fstat(_FD)
        except OSError:  # no stderr at all
            return self
        if not _lock.acquire(blocking=False):  # someone else is capturing already: their filter applies
            return self
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        self._sink = tempfile.TemporaryFile(mode="w+b")
        self._saved = os.dup(_FD)
        os.dup2(self._sink.fileno(), _FD)
        return self

    def stop(self) -> None:
        if self._saved is None:
            return
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(self._saved, _FD)
        os.close(self._saved)
        self._saved = None
        sink, self._sink = self._sink, None
        _lock.release()
        sink.seek(0)
        kept = [ln for ln in sink.read().decode("utf-8", "replace").splitlines(keepends=True)
                if not is_native_noise(ln)]
        sink.close()
        if kept:  # back where it was going: fd 2 (also when sys.stderr is something else)
            os.write(_FD, "".join(kept).encode("utf-8", "replace"))

    @property
    def active(self) -> bool:
        return self._saved is not None


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """:class:`NativeStderrCapture` around a block."""
    capture = NativeStderrCapture().start()
    try:
        yield
    finally:
        capture.stop()


class QuietMediaPipeGraph:
    """A MediaPipe solution (``process`` / ``close``) whose start-up runs with TF Lite / absl noise
    filtered out of fd 2: from construction (calculators open on background threads) to the
    end of the first frame.

    Args:
        build: makes the solution object, e.g. ``lambda: mp.solutions.face_mesh.FaceMesh(...)``.
    """

    def __init__(self, build) -> None:
        self._capture = NativeStderrCapture().start()
        try:
            self._graph = build()
        except BaseException:
            self._capture.stop()
            raise

    def process(self, image):
        """The solution's ``process(image)``; the first call ends the capture."""
        if not self._capture.active:
            return self._graph.process(image)
        try:
            return self._graph.process(image)
        finally:
            self._capture.stop()

    def close(self) -> None:
        self._capture.stop()
        self._graph.close()

"""The benchmark machinery: stage specs, timing runs, statistics.

A stage benchmark is a :class:`BenchStage`: a name, the unit it is timed per (frame,
window, second of audio, clip), and a ``prepare(context)`` function that does all
untimed setup (imports, model loading, input synthesis) and returns the *timed*
callable. ``prepare`` imports its stage lazily and raises :class:`StageUnavailable`
when the stage is not installed or has nothing to run on, so the table shows
"unavailable (reason)" instead of the whole benchmark failing.

Other packages add stages without touching this module: a module listed in
:data:`PLUGIN_BENCH_MODULES` (e.g. ``openinfp.head.bench``) that defines
``bench_stages() -> list[BenchStage]`` is picked up when it exists.
"""

from __future__ import annotations

import gc
import importlib
import statistics
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

from openinfp.core.errors import CheckpointError, ConfigError, DependencyError, PluginError

TimedFn = Callable[[], float]
"""The timed part of a stage: does one run, returns how many units it processed."""


class StageUnavailable(Exception):
    """A stage cannot be benchmarked here (module absent, no model, no renderer...)."""


@dataclass(frozen=True)
class BenchStage:
    """One stage to time.

    Attributes:
        name: row name in the table (``"renderer:portrait"``, ``"tracking"``, ...).
        unit: what one unit is (``"frame"``, ``"window"``, ``"audio s"``, ``"clip"``).
        prepare: ``prepare(context) -> timed callable``; raises :class:`StageUnavailable`.
        description: one line for the docs.
        real_time_units: how many units make one second of real time at the
            context's frame rate (``fps`` for frames, ``1`` for audio seconds, ``None``
            when a real-time factor does not apply).
    """

    name: str
    unit: str
    prepare: Callable[["BenchContext"], TimedFn]
    description: str = ""
    real_time_units: Optional[Callable[["BenchContext"], float]] = None


@dataclass
class BenchSettings:
    """What to time and how often.

    Attributes:
        clip_seconds: length of the conversation for per-clip and end-to-end stages.
        runs: timed repetitions per stage (median and spread are over these).
        warmup: untimed runs first (caches, lazy model loading); the first warm-up
            time is kept as the "cold" figure.
        frames: frames per run for per-frame stages (tracking, renderers, encoding).
        size: output frame size in pixels (square).
        fps: motion frame rate.
        seed: seeds synthesis and generation.
        stages: only run stages whose name starts with one of these (empty: all).
        device: ``cpu`` or ``cuda``.
    """

    clip_seconds: float = 10.0
    runs: int = 3
    warmup: int = 1
    frames: int = 30
    size: int = 512
    fps: float = 25.0
    seed: int = 0
    stages: tuple[str, ...] = ()
    device: str = "cpu"


@dataclass
class StageResult:
    """Timings of one stage (per run) and what they mean.

    Attributes:
        status: ``"ok"``, ``"unavailable"`` or ``"failed"``.
        reason: why not ok.
        times_s: wall seconds of each timed run.
        cpu_s: CPU seconds of this process in each timed run (all its threads; stays
            meaningful when other jobs share the machine, unlike wall time).
        cold_s: wall seconds of the first (warm-up) run, if any.
        units_per_run: units processed per run.
        real_time_units: units per second of real time (for the real-time factor).
        notes: remarks from the stage (e.g. "untrained weights").
    """

    name: str
    unit: str
    description: str = ""
    status: str = "ok"
    reason: str = ""
    times_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    cold_s: Optional[float] = None
    units_per_run: float = 0.0
    real_time_units: Optional[float] = None
    notes: list[str] = field(default_factory=list)

    @property
    def median_s(self) -> Optional[float]:
        return statistics.median(self.times_s) if self.times_s else None

    @property
    def per_unit_ms(self) -> Optional[float]:
        """Median milliseconds per unit."""
        if not self.times_s or not self.units_per_run:
            return None
        return 1000.0 * self.median_s / self.units_per_run  # type: ignore[operator]

    @property
    def cpu_per_unit_ms(self) -> Optional[float]:
        """Median CPU milliseconds (this process, all threads) per unit."""
        if not self.cpu_s or not self.units_per_run:
            return None
        return 1000.0 * statistics.median(self.cpu_s) / self.units_per_run

    @property
    def spread_ms(self) -> Optional[tuple[float, float]]:
        """Fastest and slowest run, in milliseconds per unit."""
        if not self.times_s or not self.units_per_run:
            return None
        return (1000.0 * min(self.times_s) / self.units_per_run, 1000.0 * max(self.times_s) / self.units_per_run)

    @property
    def units_per_s(self) -> Optional[float]:
        per = self.per_unit_ms
        return 1000.0 / per if per else None

    @property
    def real_time_factor(self) -> Optional[float]:
        """Wall time divided by the real time the processed units cover (< 1: faster)."""
        if self.real_time_units is None or not self.times_s or not self.units_per_run:
            return None
        covered = self.units_per_run / self.real_time_units
        return self.median_s / covered if covered > 0 else None  # type: ignore[operator]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(median_s=self.median_s, per_unit_ms=self.per_unit_ms, cpu_per_unit_ms=self.cpu_per_unit_ms,
                 spread_ms=self.spread_ms,
                 units_per_s=self.units_per_s, real_time_factor=self.real_time_factor)
        return d


class BenchContext:
    """Shared, lazily built inputs for the stages of one benchmark run.

    Everything here is built once, outside the timed sections, and cached.
    """

    def __init__(self, settings: BenchSettings) -> None:
        self.settings = settings
        self._cache: dict[str, Any] = {}
        self.notes: dict[str, list[str]] = {}

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def peek(self, key: str) -> Any:
        """A cached value (``KeyError`` if it was never built)."""
        return self._cache[key]

    def note(self, stage: str, text: str) -> None:
        """Attach a remark to a stage's row (shown under the table)."""
        self.notes.setdefault(stage, []).append(text)

    @property
    def clip_frames(self) -> int:
        return max(1, int(round(self.settings.clip_seconds * self.settings.fps)))

    def registry(self) -> Any:
        from openinfp.core.registry import Registry

        return self.cached("registry", Registry.create)


# Errors that mean "this stage is not set up here", not "this stage is broken".
_UNAVAILABLE_ERRORS = (StageUnavailable, ImportError, CheckpointError, PluginError, DependencyError, ConfigError)


def run_stage(stage: BenchStage, context: BenchContext, progress: Optional[Callable[[str], None]] = None
              ) -> StageResult:
    """Prepare and time one stage; never raises for a stage's own failure."""
    s = context.settings
    result = StageResult(stage.name, stage.unit, stage.description)
    if progress:
        progress(f"bench: {stage.name} ...")
    try:
        fn = stage.prepare(context)
        if stage.real_time_units is not None:
            result.real_time_units = float(stage.real_time_units(context))
        for i in range(max(0, s.warmup)):
            t0 = time.perf_counter()
            fn()
            if i == 0:
                result.cold_s = time.perf_counter() - t0
        for _ in range(max(1, s.runs)):
            gc.collect()
            c0, t0 = time.process_time(), time.perf_counter()
            units = fn()
            result.times_s.append(time.perf_counter() - t0)
            result.cpu_s.append(time.process_time() - c0)
            result.units_per_run = float(units)
    except _UNAVAILABLE_ERRORS as exc:
        result.status, result.reason = "unavailable", _one_line(exc)
        result.times_s, result.cpu_s = [], []
    except Exception as exc:  # a broken stage is reported, the others still run
        result.status, result.reason = "failed", _one_line(exc)
        result.notes.append(traceback.format_exc(limit=3).strip().splitlines()[-1])
        result.times_s, result.cpu_s = [], []
    result.notes.extend(context.notes.get(stage.name, []))
    return result


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def require_module(module: str, what: str) -> Any:
    """``module`` imported, or :class:`StageUnavailable` naming ``what`` when it is not installed."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            raise StageUnavailable(f"{what} is not installed yet ({module} missing)") from None
        raise

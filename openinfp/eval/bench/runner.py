"""`run_bench`: time every stage, summarise, print a markdown table, write JSON."""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional

from openinfp.core.io import PathLike, atomic_output
from openinfp.eval.bench.core import BenchContext, BenchSettings, StageResult, run_stage

E2E_STAGE = "end-to-end"
ENCODE_STAGE = "video encoding"


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on (CPU, cores, memory, load, versions)."""
    import numpy
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gb = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal"):
                    mem_gb = round(int(line.split()[1]) / 1024 ** 2, 1)
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = os.cpu_count()
    info = {
        "cpu": cpu, "cores_usable": usable, "cores_total": os.cpu_count(), "memory_gb": mem_gb,
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "torch": torch.__version__, "torch_threads": torch.get_num_threads(), "numpy": numpy.__version__,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    from openinfp import __version__

    info["openinfp"] = __version__
    return info


@dataclass
class BenchReport:
    """Everything one benchmark run measured."""

    settings: BenchSettings
    machine: dict[str, Any]
    results: list[StageResult]
    skipped_modules: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0

    def result(self, name: str) -> Optional[StageResult]:
        return next((r for r in self.results if r.name == name), None)

    def summary(self) -> dict[str, Optional[float]]:
        """End-to-end seconds (median, cold), real-time factor, and ratio to the encode floor."""
        e2e, enc = self.result(E2E_STAGE), self.result(ENCODE_STAGE)
        out: dict[str, Optional[float]] = {"clip_seconds": self.settings.clip_seconds, "end_to_end_s": None,
                                           "end_to_end_cold_s": None, "real_time_factor": None,
                                           "encode_floor_s": None, "ratio_to_encode_floor": None}
        if enc is not None and enc.status == "ok":
            out["encode_floor_s"] = enc.median_s
        if e2e is not None and e2e.status == "ok":
            out["end_to_end_s"] = e2e.median_s
            out["end_to_end_cold_s"] = e2e.cold_s
            out["real_time_factor"] = e2e.real_time_factor
            if out["encode_floor_s"]:
                out["ratio_to_encode_floor"] = e2e.median_s / out["encode_floor_s"]  # type: ignore[operator]
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"settings": asdict(self.settings), "machine": self.machine, "summary": self.summary(),
                "stages": [r.to_dict() for r in self.results], "skipped_modules": self.skipped_modules,
                "wall_s": self.wall_s}

    def markdown(self) -> str:
        """The results table plus the summary and the machine, as markdown."""
        return format_markdown(self)


def _fmt(x: Optional[float], digits: int = 3) -> str:
    if x is None:
        return "–"
    if x == 0:
        return "0"
    mag = abs(x)
    if mag >= 100:
        return f"{x:.0f}"
    if mag >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}g}"


def format_markdown(report: BenchReport) -> str:
    s, m = report.settings, report.machine
    lines = [
        f"Clip {s.clip_seconds:g} s at {s.fps:g} fps, {s.size}x{s.size}; {s.runs} timed runs after {s.warmup} "
        f"warm-up; per-frame stages over {s.frames} frames; device {s.device}.",
        "",
        "| stage | unit | ms / unit (median) | fastest – slowest | CPU ms / unit | units / s "
        "| real-time factor | notes |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report.results:
        if r.status != "ok":
            lines.append(f"| {r.name} | {r.unit} | – | – | – | – | – | {r.status} ({_escape(r.reason)}) |")
            continue
        lo, hi = r.spread_ms  # type: ignore[misc]
        notes = "; ".join(_escape(n) for n in r.notes)
        lines.append(f"| {r.name} | {r.unit} | {_fmt(r.per_unit_ms)} | {_fmt(lo)} – {_fmt(hi)} | "
                     f"{_fmt(r.cpu_per_unit_ms)} | {_fmt(r.units_per_s)} | {_fmt(r.real_time_factor)} | {notes} |")
    sm = report.summary()
    lines += ["", "Real-time factor = wall time / real time covered (below 1 is faster than real time). "
                  "CPU ms = this process's CPU time (all threads) per unit: unlike wall time it does not grow "
                  "when other jobs share the machine."]
    if sm["end_to_end_s"] is not None:
        lines.append(
            f"End to end: {_fmt(sm['end_to_end_s'])} s for {s.clip_seconds:g} s of conversation "
            f"(real-time factor {_fmt(sm['real_time_factor'])}; first, cold run {_fmt(sm['end_to_end_cold_s'])} s); "
            f"encoding the same frames alone takes {_fmt(sm['encode_floor_s'])} s, so end to end is "
            f"{_fmt(sm['ratio_to_encode_floor'])}x the encoding floor.")
    else:
        e2e = report.result(E2E_STAGE)
        why = f" ({e2e.status}: {e2e.reason})" if e2e is not None else " (not run)"
        lines.append(f"End to end: not measured{why}; encoding floor for the clip: {_fmt(sm['encode_floor_s'])} s.")
    for module, why in report.skipped_modules.items():
        lines.append(f"Stage module {module}: {why}.")
    lines += ["", f"Machine: {m.get('cpu')}, {m.get('cores_usable')} usable cores, {m.get('memory_gb')} GB RAM, "
                  f"load average at start {m.get('load_average')}, {m.get('os')}, Python {m.get('python')}, "
                  f"torch {m.get('torch')} ({m.get('torch_threads')} threads), GPU: {m.get('gpu') or 'none'}, "
                  f"openinfp {m.get('openinfp')}. Benchmark wall time {report.wall_s:.0f} s."]
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def run_bench(settings: BenchSettings, progress: Optional[Callable[[str], None]] = None) -> BenchReport:
    """Time every (selected) stage in turn; each stage's failure is recorded, not raised."""
    from openinfp.eval.bench.stages import all_stages

    t0 = time.perf_counter()
    ctx = BenchContext(settings)
    machine = machine_info()
    try:
        stages, skipped = all_stages(ctx)
        results = [run_stage(stage, ctx, progress) for stage in stages]
    finally:
        tmp = ctx._cache.get("tmpdir")
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return BenchReport(settings, machine, results, skipped, time.perf_counter() - t0)


def write_json(report: BenchReport, path: PathLike) -> None:
    """Write the report as JSON (atomically)."""
    with atomic_output(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n", encoding="utf-8")


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

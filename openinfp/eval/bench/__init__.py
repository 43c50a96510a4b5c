"""`openinfp bench`: time every stage on this machine (see ``docs/BENCHMARKS.md``).

Public API::

    from openinfp.eval.bench import BenchSettings, run_bench
    report = run_bench(BenchSettings(clip_seconds=10, runs=3))
    print(report.markdown())

Packages add stages by defining ``bench_stages() -> list[BenchStage]`` in one of
:data:`openinfp.eval.bench.stages.PLUGIN_BENCH_MODULES`.
"""

from openinfp.eval.bench.core import BenchContext, BenchSettings, BenchStage, StageResult, StageUnavailable
from openinfp.eval.bench.runner import BenchReport, run_bench, write_json

__all__ = ["BenchContext", "BenchSettings", "BenchStage", "StageResult", "StageUnavailable", "BenchReport",
           "run_bench", "write_json"]

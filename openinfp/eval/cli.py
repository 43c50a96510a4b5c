"""``openinfp bench`` and ``openinfp eval``: argument parsers (light) and runners (lazy)."""

from __future__ import annotations

import argparse
import sys

from openinfp.core.errors import InputError

DEFAULT_BENCH_JSON = "bench.json"
DEFAULT_EVAL_JSON = "eval.json"


# ------------------------------------------------------------------------------ bench
def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip-seconds", type=float, default=10.0,
                        help="conversation length for per-clip and end-to-end stages (default: 10)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per stage; median and spread over them "
                                                            "(default: 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing (default: 1)")
    parser.add_argument("--frames", type=int, default=50,
                        help="frames per run for per-frame stages: tracking, renderers (default: 50)")
    parser.add_argument("--size", type=int, default=512, help="frame size in pixels, square (default: 512)")
    parser.add_argument("--stages", nargs="*", default=[], metavar="PREFIX",
                        help="only stages whose name starts with one of these (e.g. renderer tracking)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="device for the models")
    parser.add_argument("--seed", type=int, default=0, help="seed for synthesis and generation")
    parser.add_argument("--json", default=DEFAULT_BENCH_JSON, metavar="PATH",
                        help=f"where to write the JSON report (default: {DEFAULT_BENCH_JSON})")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")


def run_bench_cli(args: argparse.Namespace) -> int:
    from openinfp.eval.bench import BenchSettings, run_bench, write_json
    from openinfp.eval.bench.runner import stderr_progress

    checks = [("--clip-seconds", args.clip_seconds > 0), ("--runs", args.runs >= 1), ("--warmup", args.warmup >= 0),
              ("--frames", args.frames >= 1), ("--size", args.size >= 16 and args.size % 2 == 0)]
    for flag, ok in checks:
        if not ok:
            raise InputError(f"{flag} must be positive (and --size even, at least 16); got "
                             f"{getattr(args, flag[2:].replace('-', '_'))}")
    if not str(args.json).endswith(".json"):
        raise InputError(f"--json {args.json} must end in .json")
    settings = BenchSettings(clip_seconds=args.clip_seconds, runs=args.runs, warmup=args.warmup, frames=args.frames,
                             size=args.size, stages=tuple(args.stages), device=args.device, seed=args.seed)
    report = run_bench(settings, progress=None if args.quiet else stderr_progress)
    write_json(report, args.json)
    sys.stdout.write(report.markdown())
    print(f"openinfp: wrote {args.json}", file=sys.stderr)
    return 0

"""CLI commands of the data stage: ``openinfp synth`` and ``openinfp prepare``.

``add_arguments`` functions import nothing heavy; ``run`` functions do the work.
"""

from __future__ import annotations

import argparse
import json
import os


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=float, required=True, help="total conversation time to generate, in hours")
    parser.add_argument("--out", required=True, help="output folder for the shards and manifest.jsonl")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed; the same seed gives the same corpus (default 0)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="parallel processes (default: min(2, CPU count))")
    parser.add_argument("--min-seconds", type=float, default=40.0, help="shortest planned conversation (s, default 40)")
    parser.add_argument("--max-seconds", type=float, default=100.0, help="longest planned conversation (s, default 100)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run_synth(args: argparse.Namespace) -> int:
    from openinfp.core.errors import InputError
    from openinfp.data.synth import synth_corpus

    if args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    _single_thread_torch()
    summary = synth_corpus(args.out, args.hours, seed=args.seed, workers=args.workers, progress=not args.quiet,
                           min_seconds=args.min_seconds, max_seconds=args.max_seconds)
    print(json.dumps(summary))
    return 0


def _single_thread_torch() -> None:
    """The rules do many tiny tensor ops; thread pools only add overhead (and fight other jobs)."""
    import torch

    torch.set_num_threads(1)

"""CLI commands of the data stage: ``openinfp synth`` and ``openinfp prepare``.

``add_arguments`` functions import nothing heavy; ``run`` functions do the work.
"""

from __future__ import annotations

import argparse
import json
import os

from openinfp.cli_options import add_output, add_quiet


def add_synth_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hours", type=float, required=True, help="total conversation time to generate, in hours")
    add_output(parser, "DIR", "output folder for the shards and manifest.jsonl", old=("--out",))
    parser.add_argument("--seed", type=int, default=0,
                        help="corpus seed; the same seed gives the same corpus (default 0)")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="parallel processes (default: min(2, CPU count))")
    parser.add_argument("--min-seconds", type=float, default=40.0, help="shortest planned conversation (s, default 40)")
    parser.add_argument("--max-seconds", type=float, default=100.0,
                        help="longest planned conversation (s, default 100)")
    parser.add_argument("--real-speech", action="append", default=[], metavar="DIR",
                        help="real-voice mode: folder of real speech (.wav/.flac; optional speakers.tsv and "
                             "transcripts.tsv) to cut turns from; repeatable")
    parser.add_argument("--real-ratio", type=float, default=0.5,
                        help="with --real-speech: share of conversation sides spoken by a real voice (default 0.5)")
    parser.add_argument("--phone-cache", default="",
                        help="with --real-speech: JSON cache of the pool's phone timings "
                             "(default OUTPUT/real-phones.json)")
    add_quiet(parser)


def run_synth(args: argparse.Namespace) -> int:
    from openinfp.core.errors import InputError
    from openinfp.data.synth import synth_corpus

    if args.workers < 1:
        raise InputError(f"--workers must be >= 1, got {args.workers}")
    _single_thread_torch()
    real = None
    if args.real_speech:
        from pathlib import Path

        from openinfp.data.real_speech import RealSpeechSpec

        if not 0.0 <= args.real_ratio <= 1.0:
            raise InputError(f"--real-ratio must be in [0, 1], got {args.real_ratio}")
        for folder in args.real_speech:
            if not Path(folder).is_dir():
                raise InputError(f"--real-speech {folder}: not a folder; give a folder of .wav/.flac speech")
        cache = args.phone_cache or str(Path(args.output) / "real-phones.json")
        real = RealSpeechSpec(tuple(str(Path(f).resolve()) for f in args.real_speech), cache, args.real_ratio)
    summary = synth_corpus(args.output, args.hours, seed=args.seed, workers=args.workers, progress=not args.quiet,
                           min_seconds=args.min_seconds, max_seconds=args.max_seconds, real=real)
    print(json.dumps(summary))
    return 0


def _single_thread_torch() -> None:
    """The rules do many tiny tensor ops; thread pools only add overhead (and fight other jobs)."""
    import torch

    torch.set_num_threads(1)


# options of the built-in readers, as CLI flags (None = not given; only valid for formats that have them)
_READER_FLAGS = {
    "blendshape_fps": ("--blendshape-fps", float, "DualTalk: frame rate of the blendshape arrays (default 25)"),
    "layout": ("--layout", str, "video: auto | single | pair | side-by-side (default auto)"),
    "agent_channel": ("--agent-channel", str, "video side-by-side: stereo channel of the left person (left/right)"),
    "smoothing": ("--smoothing", float, "video: head tracker smoothing, 0 = off (default 1)"),
    "val_fraction": ("--val-fraction", float, "share of clips (by id hash) put in the val split (default 0.05)"),
}


def add_prepare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", help="input folders or files of the chosen format")
    parser.add_argument("--format", required=True, dest="fmt",
                        help="dataset format: dualtalk, beat2, video, shards, or one from a plugin (openinfp plugins)")
    add_output(parser, "DIR", "output folder for the shards and manifest.jsonl", old=("--out",))
    parser.add_argument("--shard", default="0/1",
                        help="process items i, i+n, ... of n (i from 0), e.g. $SLURM_ARRAY_TASK_ID/8 (default 0/1)")
    for key, (flag, typ, text) in _READER_FLAGS.items():
        parser.add_argument(flag, dest=key, type=typ, default=None, help=text)
    parser.add_argument("--mono-mix", dest="mono_mix", action="store_const", const=True, default=None,
                        help="video side-by-side: the audio is a mono mix of both people; diarize it")
    add_quiet(parser)


def run_prepare(args: argparse.Namespace) -> int:
    import dataclasses
    import sys

    from openinfp.core.errors import ConfigError
    from openinfp.data.prepare import parse_shard, prepare_corpus

    registry = args._registry
    spec = registry.spec("dataset_formats", args.fmt, key="--format")
    given = {k: getattr(args, k) for k in list(_READER_FLAGS) + ["mono_mix"] if getattr(args, k, None) is not None}
    allowed = {f.name for f in dataclasses.fields(spec.config_cls)} if spec.config_cls else set()
    unknown = sorted(set(given) - allowed)
    if unknown:
        flags = ", ".join("--" + k.replace("_", "-") for k in unknown)
        raise ConfigError(f"{flags} does not apply to --format {args.fmt}")
    shard = parse_shard(args.shard)
    _single_thread_torch()
    reader = spec.create(given)
    summary = prepare_corpus(reader, list(args.inputs), args.output, shard, progress=not args.quiet)
    print(json.dumps(summary))
    if summary["failed"]:
        print(f"openinfp: {summary['failed']} item(s) failed, see {summary['failures_file']}", file=sys.stderr)
        return 1
    return 0

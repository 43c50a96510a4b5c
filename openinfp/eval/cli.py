"""``openinfp bench`` and ``openinfp eval``: argument parsers (light) and runners (lazy)."""

from __future__ import annotations

import argparse
import sys

from openinfp.cli_options import add_config, add_output, add_quiet
from openinfp.core.config import DEVICES
from openinfp.core.errors import InputError


# ------------------------------------------------------------------------------ bench
def add_bench_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip-seconds", type=float, default=10.0,
                        help="conversation length for per-clip and end-to-end stages (default: 10)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per stage; median and spread over them "
                                                            "(default: 3)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs before timing (default: 1)")
    parser.add_argument("--frames", type=int, default=30,
                        help="frames per run for per-frame stages: tracking, renderers, scenes (default: 30)")
    parser.add_argument("--size", type=int, default=512, help="frame size in pixels, square (default: 512)")
    parser.add_argument("--stages", nargs="*", default=[], metavar="PREFIX",
                        help="only stages whose name starts with one of these (e.g. renderer tracking)")
    parser.add_argument("--device", choices=DEVICES, default="cpu", help="device for the models")
    parser.add_argument("--seed", type=int, default=0, help="seed for synthesis and generation")
    add_output(parser, "BENCH.json", "also write the report as JSON to this file (default: none)",
               required=False, old=("--json",))
    parser.add_argument("--long-minutes", type=float, default=None, metavar="MIN",
                        help="instead of the stage table: run `openinfp animate` on a MIN-minute two-voice "
                             "conversation and report its peak memory and time (e.g. 60 for issue #10's "
                             "one-hour check; --size sets the frame size, 256 recommended)")
    from openinfp.live.cli import add_live_bench_arguments

    add_live_bench_arguments(parser)
    add_quiet(parser)


def run_bench_cli(args: argparse.Namespace) -> int:
    from openinfp.eval.bench import BenchSettings, run_bench, write_json
    from openinfp.eval.bench.runner import stderr_progress

    checks = [("--clip-seconds", args.clip_seconds > 0), ("--runs", args.runs >= 1), ("--warmup", args.warmup >= 0),
              ("--frames", args.frames >= 1), ("--size", args.size >= 16 and args.size % 2 == 0)]
    for flag, ok in checks:
        if not ok:
            raise InputError(f"{flag} must be positive (and --size even, at least 16); got "
                             f"{getattr(args, flag[2:].replace('-', '_'))}")
    _check_json_output(args.output)
    if args.long_minutes is not None:
        return _run_long(args)
    if args.live:
        from openinfp.live.cli import run_live_bench_cli

        return run_live_bench_cli(args)
    settings = BenchSettings(clip_seconds=args.clip_seconds, runs=args.runs, warmup=args.warmup, frames=args.frames,
                             size=args.size, stages=tuple(args.stages), device=args.device, seed=args.seed)
    report = run_bench(settings, progress=None if args.quiet else stderr_progress)
    sys.stdout.write(report.markdown())
    if args.output is not None:
        write_json(report, args.output)
        _say_wrote(args)
    return 0


def _check_json_output(output) -> None:
    if output is not None and not str(output).endswith(".json"):
        raise InputError(f"-o {output} must end in .json")


def _say_wrote(args: argparse.Namespace) -> None:
    if not args.quiet:
        print(f"openinfp: wrote {args.output}", file=sys.stderr)


def _run_long(args: argparse.Namespace) -> int:
    from openinfp.eval.bench.long_run import run_long_conversation, write_report

    if not args.long_minutes > 0:
        raise InputError(f"--long-minutes must be positive, got {args.long_minutes}")
    if not args.quiet:
        print(f"openinfp: animating a {args.long_minutes:g}-minute conversation at {args.size}x{args.size} "
              "in a child process (on 2 cores at 256 px this takes about a fifth of the conversation's length)",
              file=sys.stderr)
    report = run_long_conversation(args.long_minutes, size=args.size, seed=args.seed)
    sys.stdout.write(report.markdown())
    if args.output is not None:
        write_report(report, args.output)
        _say_wrote(args)
    return 0


# ------------------------------------------------------------------------------- eval
def _run_real(args: argparse.Namespace) -> int:
    from openinfp.eval.real_eval import model_generate_fn, run_real_eval, write_report

    if args.data is not None or args.human is not None:
        raise InputError("--real DIR replaces DATA and --human; give only one of them")
    if getattr(args, "live", False):
        from openinfp.live.evaluate import live_generate_fn

        generate = live_generate_fn(args.checkpoint or None, args.config, args.seed)
    else:
        generate = model_generate_fn(args.checkpoint or None, args.config, args.seed, raw=args.raw_motion)
    say = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    report = run_real_eval(args.real, generate, cache=args.real_cache, progress=say)
    report["checkpoint"] = args.checkpoint or "shipped default"
    report["raw_motion"] = bool(args.raw_motion)
    report["live"] = bool(getattr(args, "live", False))
    sys.stdout.write(report["markdown"])
    if args.output is not None:
        write_report(report, args.output)
        _say_wrote(args)
    return 0


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    from openinfp.eval import SYSTEM_NAMES

    parser.add_argument("data", nargs="?", default=None,
                        help="a shard folder (manifest.jsonl) or a folder of NAME.wav + NAME.png pairs; "
                             "omitted: a few held-out synthetic conversations are generated (see --synthetic)")
    parser.add_argument("--human", metavar="VIDEO_OR_DIR", default=None,
                        help="human reference mode: track real talking videos and score the people in them "
                             "(and every system on the same audio) with the same metrics")
    parser.add_argument("--real", metavar="DIR", default=None,
                        help="real-data mode: two-track conversations (NAME.spk1.flac + NAME.spk2.flac) and/or "
                             "talking videos (*.mp4) in DIR or its conversations/ and talking_video/ folders; "
                             "reports listening, lip sync and continuity of the model (--checkpoint) next to "
                             "the real people (see openinfp/eval/real_eval.py)")
    parser.add_argument("--real-cache", metavar="DIR", default=None,
                        help="with --real: folder to cache the tracking of the videos in (default: none)")
    parser.add_argument("--live", action="store_true",
                        help="with --real: generate through the live path (openinfp.live: 20 ms chunks, "
                             "4-frame steps, 80 ms look-ahead, 5 denoising steps) to compare it with offline "
                             "generation")
    parser.add_argument("--raw-motion", action="store_true",
                        help="with --real: evaluate the model's raw output, without the window cross-fade and "
                             "the physical speed limits (openinfp/core/motion_limits.py)")
    parser.add_argument("--synthetic", type=int, default=3, metavar="N",
                        help="without DATA: how many held-out synthetic conversations to generate (default: 3)")
    parser.add_argument("--split", choices=("val", "train", "all"), default="val",
                        help="shard folder split to evaluate (default: val)")
    parser.add_argument("--agent-side", choices=("a", "b", "both"), default="a",
                        help="which side of each shard conversation is the agent (default: a)")
    parser.add_argument("--limit", type=int, default=4, help="at most this many conversations (default: 4; 0 = all)")
    parser.add_argument("--max-seconds", type=float, default=20.0,
                        help="evaluate the first SECONDS of each conversation (default: 20; 0 = all)")
    parser.add_argument("--space", choices=("head", "smplx"), default="head", help="motion space (default: head)")
    parser.add_argument("--systems", nargs="+", choices=SYSTEM_NAMES, default=list(SYSTEM_NAMES),
                        help="rows of the table, in order (default: all)")
    parser.add_argument("--checkpoint", default="", help="model checkpoint folder (default: the shipped model)")
    parser.add_argument("--no-banks-checkpoint", default="",
                        help="checkpoint trained with guider.options.use_memory_banks=false for the ablation row "
                             "(default: a shipped one, if any)")
    add_config(parser, old=("--preset",))
    parser.add_argument("--portrait", default=None,
                        help="photo to render with for image metrics (default: the astronaut photo for synthetic "
                             "data; pairs use their own portraits)")
    parser.add_argument("--render-frames", type=int, default=25,
                        help="frames rendered per conversation for image metrics (default: 25; 0 = none)")
    parser.add_argument("--render-clips", type=int, default=1,
                        help="how many conversations to render for image metrics (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default: 0)")
    parser.add_argument("--sid-k", type=int, default=40, help="k-means clusters for SID (default: 40)")
    parser.add_argument("--sid-seed", type=int, default=0, help="k-means seed for SID (default: 0)")
    add_output(parser, "EVAL.json", "also write the report as JSON to this file (default: none)",
               required=False, old=("--json",))
    add_quiet(parser)


def run_eval_cli(args: argparse.Namespace) -> int:
    import tempfile

    from openinfp.core.metrics.suite import SuiteOptions
    from openinfp.eval import inputs
    from openinfp.eval.runner import EvalOptions, run_eval, stderr_progress, write_json

    _check_json_output(args.output)
    for flag, value, low in (("--limit", args.limit, 0), ("--max-seconds", args.max_seconds, 0),
                             ("--render-frames", args.render_frames, 0), ("--render-clips", args.render_clips, 0),
                             ("--synthetic", args.synthetic, 1), ("--sid-k", args.sid_k, 1)):
        if value < low:
            raise InputError(f"{flag} must be at least {low}, got {value}")
    if args.data is not None and args.human is not None:
        raise InputError("give either DATA or --human VIDEOS, not both")
    if args.real is not None:
        return _run_real(args)
    say = None if args.quiet else stderr_progress
    portrait = None
    if args.portrait is not None:
        from openinfp.head.image_io import load_portrait

        portrait = load_portrait(args.portrait)
    limit = args.limit or None
    with tempfile.TemporaryDirectory(prefix="openinfp-eval-") as tmp:
        if args.human is not None:
            videos = inputs.find_videos(args.human)[:limit]
            convs = []
            for v in videos:
                if say:
                    say(f"eval: tracking {v}")
                convs.append(inputs.load_human_video(v, progress=not args.quiet))
            if portrait is not None:
                for c in convs:
                    c.portrait = portrait
        elif args.data is not None:
            convs = inputs.load_conversations(args.data, args.split, args.agent_side, limit, portrait)
        else:
            from openinfp.eval.synthetic import heldout_conversations

            if say:
                say(f"eval: synthesizing {args.synthetic} held-out conversations ({args.max_seconds or 20:g} s each)")
            folder = heldout_conversations(tmp, args.synthetic, seconds=args.max_seconds or 20.0, seed=args.seed)
            if portrait is None:
                from skimage import data as skdata

                portrait = skdata.astronaut()
            convs = inputs.load_shards(folder, "val", args.agent_side, None, portrait)
        if args.max_seconds:
            convs = [c.cropped(args.max_seconds) for c in convs]
        options = EvalOptions(space=args.space, systems=tuple(args.systems), seed=args.seed, checkpoint=args.checkpoint,
                              no_banks_checkpoint=args.no_banks_checkpoint, preset=args.config,
                              overrides=tuple(args.overrides),
                              render_frames=args.render_frames, render_clips=args.render_clips,
                              suite=SuiteOptions(sid_k=args.sid_k, sid_seed=args.sid_seed),
                              human=args.human is not None)
        report = run_eval(convs, options, progress=say)
    sys.stdout.write(report.markdown())
    if args.output is not None:
        write_json(report, args.output)
        _say_wrote(args)
    return 1 if any(r.status == "failed" for r in report.results) else 0

"""``openinfp live``: argument parser (light) and runner (lazy imports)."""

from __future__ import annotations

import argparse
import sys

from openinfp.cli_options import add_config, add_quiet
from openinfp.core.errors import InputError


def add_live_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("portrait", help="the portrait photo to bring to life")
    p.add_argument("--agent-audio", default=None, metavar="FILE",
                   help="the portrait's own voice, played from the first microphone sample on "
                        "(default: none, the portrait only listens)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7861, help="port (0: any free one; default: 7861)")
    p.add_argument("--size", type=int, default=256, help="frame size in pixels, square (default: 256)")
    add_config(p)
    add_quiet(p)


def run_live(args: argparse.Namespace) -> int:
    from openinfp.live.server import LiveServerSettings, run_server

    if not (16 <= args.size <= 1024 and args.size % 2 == 0):
        raise InputError(f"--size must be an even number of pixels in 16..1024, got {args.size}")
    if not 0 <= args.port <= 65535:
        raise InputError(f"--port must be in 0..65535, got {args.port}")
    portrait = _load_portrait(args.portrait)
    agent = None
    if args.agent_audio:
        from openinfp.audio.io import load_audio_resampled
        from openinfp.core.audio import SAMPLE_RATE

        wave = load_audio_resampled(args.agent_audio, SAMPLE_RATE, max_duration_s=7200.0).wave
        agent = wave.mean(axis=1) if wave.ndim == 2 else wave
    if not args.quiet:
        print("openinfp live: loading the models and the portrait ...", file=sys.stderr)

    def ready(url: str) -> None:
        print(f"openinfp live: {url}", flush=True)
        if not args.quiet:
            print("openinfp live: open it in a browser, press Start, talk; Ctrl-C to stop", file=sys.stderr)

    settings = LiveServerSettings(host=args.host, port=args.port, size=args.size)
    try:
        run_server(settings, portrait, agent, ready, preset=args.config, overrides=tuple(args.overrides))
    except KeyboardInterrupt:
        return 0
    return 0


def _load_portrait(path: str):
    """``[H, W, 3]`` uint8 RGB, or a one-line error naming the file."""
    from openinfp.head.image_io import load_portrait

    try:
        return load_portrait(path)
    except InputError as exc:
        raise InputError(f"portrait {path}: {exc}") from None


# ------------------------------------------------------------------ openinfp bench --live
def add_live_bench_arguments(p: argparse.ArgumentParser) -> None:
    """The ``--live`` options of ``openinfp bench`` (its ``--size``, ``-q`` and ``-o`` apply too)."""
    p.add_argument("--live", action="store_true",
                   help="instead of the stage table: push a conversation in 20 ms chunks at real-time pace "
                        "through a live session and print one line (first frame, latency p50/p95, real-time "
                        "factor)")
    p.add_argument("--live-audio", nargs="+", default=None, metavar="FILE",
                   help="with --live: the conversation (a stereo file, left = the portrait; or two mono "
                        "files, the portrait's then the partner's); default: a synthesized two-voice one")
    p.add_argument("--live-seconds", type=float, default=60.0, metavar="S",
                   help="with --live: seconds of audio to push (the conversation repeats if shorter; "
                        "default: 60)")
    p.add_argument("--live-portrait", default=None, metavar="IMAGE",
                   help="with --live: the portrait (default: the benchmark's built-in photo)")


def run_live_bench_cli(args: argparse.Namespace) -> int:
    """``openinfp bench --live``: print the summary line; JSON to ``-o`` when given."""
    import json

    import numpy as np

    from openinfp.live.bench import run_live_bench

    if not 1.0 <= args.live_seconds <= 36000:
        raise InputError(f"--live-seconds must be in 1..36000, got {args.live_seconds:g}")
    agent, partner = _bench_tracks(args.live_audio)
    if args.live_portrait:
        portrait = _load_portrait(args.live_portrait)
    else:
        from openinfp.eval.bench.inputs import bench_portrait

        portrait = bench_portrait()
    if not args.quiet:
        print(f"openinfp: live benchmark, {args.live_seconds:g} s at real-time pace, {args.size}x{args.size}",
              file=sys.stderr)
    report = run_live_bench(np.asarray(agent, np.float32), np.asarray(partner, np.float32), portrait,
                            size=args.size, seconds=args.live_seconds)
    print(report.line())
    output = getattr(args, "output", None)
    if output:
        from pathlib import Path

        Path(output).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    return 0


def _bench_tracks(files):
    """(agent, partner) float32 tracks at 16 kHz from ``--live-audio`` (or a synthesized talk)."""
    from openinfp.audio.io import load_audio_resampled
    from openinfp.core.audio import SAMPLE_RATE

    if not files:
        from openinfp.eval.bench.inputs import bench_conversation

        conversation = bench_conversation(30.0)
        return conversation.agent, conversation.partner
    if len(files) > 2:
        raise InputError(f"--live-audio takes one stereo file or two mono files, got {len(files)}")
    waves = [load_audio_resampled(f, SAMPLE_RATE, max_duration_s=7200.0).wave for f in files]
    if len(waves) == 1:
        if waves[0].ndim != 2 or waves[0].shape[1] < 2:
            raise InputError(f"--live-audio {files[0]}: a single file must be stereo (left = the portrait); "
                             "or give the portrait's and the partner's files")
        return waves[0][:, 0], waves[0][:, 1]
    agent, partner = (w.mean(axis=1) if w.ndim == 2 else w for w in waves)
    n = min(agent.shape[0], partner.shape[0])
    return agent[:n], partner[:n]

"""``openinfp verify VIDEO``: report provenance tags and the invisible watermark.

Exit status: 0 when the video is identified as openinfp output (tags or watermark),
1 when no provenance is found, 2 on bad input (unreadable file, ...).
"""

from __future__ import annotations

import argparse

from openinfp.cli_options import add_quiet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp verify`` (imports nothing heavy)."""
    parser.add_argument("videos", nargs="+", metavar="VIDEO", help="video file(s) to check")
    parser.add_argument("--json", action="store_true", help="print one JSON object per video instead of text")
    parser.add_argument("--max-frames", type=int, default=300,
                        help="analyse at most this many frames from the start of each video (default: 300)")
    parser.add_argument("--threshold", type=float, default=4.0,
                        help="watermark decision threshold on the score; unmarked videos score like a "
                             "standard normal, so 4.0 means a 3e-5 false-positive chance (default: 4.0)")
    add_quiet(parser)
    parser.epilog = ("Exit status: 0 if every video is identified as openinfp output (tags or watermark), "
                     "1 if any is not, 2 on unreadable input.")


def run(args: argparse.Namespace) -> int:
    """Verify each video; print the reports; return the exit status described above."""
    import json
    import math

    from openinfp.core.errors import InputError
    from openinfp.provenance.verify import verify_video

    if args.max_frames < 1:
        raise InputError(f"--max-frames must be at least 1, got {args.max_frames}")
    if not math.isfinite(args.threshold):
        raise InputError(f"--threshold must be a finite number, got {args.threshold}")
    all_marked = True
    for video in args.videos:
        report = verify_video(video, threshold=args.threshold, max_frames=args.max_frames)
        print(json.dumps(report.to_dict()) if args.json else report.format())
        all_marked &= report.marked
    return 0 if all_marked else 1

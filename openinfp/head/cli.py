"""CLI commands of the head stage: ``track``, ``export``, ``reenact``, ``check-video`` and ``check-photos``.

``add_*`` functions import nothing heavy (the CLI builds every parser at start-up).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openinfp.cli_options import add_field_option, add_quiet
from openinfp.head.renderer_config import PortraitRendererConfig

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".jfif"}


def _add_face_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--face-index", type=int, default=0, help="which face when several (0 = largest)")
    p.add_argument("--min-face-px", type=int, default=48,
                   help="smallest face to track, in px (2.5 x pupil distance)")


def _head_config(args: argparse.Namespace):
    from openinfp.core.errors import InputError
    from openinfp.head.config import HeadConfig

    if args.face_index < 0:
        raise InputError(f"--face-index must be >= 0, got {args.face_index}")
    return HeadConfig(face_index=args.face_index, min_face_px=args.min_face_px,
                      smoothing=getattr(args, "smoothing", 1.0))


# ----- track ----------------------------------------------------------------------------
def add_track_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="a portrait image or a video file")
    p.add_argument("-o", "--output", required=True, metavar="OUT.npz",
                   help="output motion file (.npz, head motion space)")
    _add_face_args(p)
    p.add_argument("--smoothing", type=float, default=1.0,
                   help="video temporal smoothing strength (0 = off; One Euro filter, does not lag the lips)")
    p.add_argument("--fps", type=float, default=25.0, help="frame rate stored for a single image")
    add_quiet(p)


def run_track(args: argparse.Namespace) -> int:
    from openinfp.core.errors import InputError
    from openinfp.core.io import require_file
    from openinfp.core.motion import MotionSequence
    from openinfp.head.motion_space import head_euler, head_motion_space
    from openinfp.head.tracker import HeadTracker

    path = require_file(args.input, "input")
    if not str(args.output).endswith(".npz"):
        raise InputError(f"output {args.output} must end in .npz")
    with HeadTracker(_head_config(args)) as tracker:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            face = tracker.track_image(path)
            seq = MotionSequence(face.motion[None].clone(), head_motion_space(), args.fps)
        else:
            seq = tracker.track_video(path, progress=not args.quiet)
    seq.save(args.output)
    ypr = head_euler(seq.motion).rad2deg()
    found = seq.annotations.get("face_found")
    extra = f", face found in {found.mean():.0%} of frames" if found is not None else ""
    print(f"wrote {args.output}: {seq.num_frames} frame(s) at {seq.fps:g} fps{extra}; "
          f"mean yaw/pitch/roll {ypr[:, 0].mean():.1f}/{ypr[:, 1].mean():.1f}/{ypr[:, 2].mean():.1f} deg")
    return 0


# ----- export ---------------------------------------------------------------------------
def add_export_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("motion", help="a head motion file (.npz) written by `openinfp track` or generation")
    p.add_argument("--format", default="arkit-csv", choices=("arkit-csv",),
                   help="output format: arkit-csv = Live Link Face-style CSV (timecode, 52 ARKit weights, "
                        "head yaw/pitch/roll in radians)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.csv", help="output file (.csv)")
    add_quiet(p)


def run_export(args: argparse.Namespace) -> int:
    from openinfp.core.motion import MotionSequence
    from openinfp.head.export import export_arkit_csv
    from openinfp.pipeline.cli import say_motion_layouts

    say_motion_layouts(args, args.motion)
    seq = MotionSequence.load(args.motion)
    export_arkit_csv(seq, args.output)
    print(f"wrote {args.output}: {seq.num_frames} frames at {seq.fps:g} fps")
    return 0


# ----- reenact --------------------------------------------------------------------------
def add_reenact_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("portrait", help="the portrait to animate (any common image format)")
    p.add_argument("driving_video", help="a video of a face whose head motion and expressions to transfer")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4",
                   help="output video (.mp4), with the driving video's audio")
    p.add_argument("--size", type=int, default=512, help="output side in px for --framing head (even)")
    add_field_option(p, "--framing", PortraitRendererConfig, "framing", default="head")
    p.add_argument("--face-index", type=int, default=0, help="which face of the portrait (0 = largest)")
    p.add_argument("--driving-face-index", type=int, default=0, help="which face of the driving video (0 = largest)")
    p.add_argument("--min-face-px", type=int, default=48, help="smallest face to track, in px")
    p.add_argument("--smoothing", type=float, default=1.0, help="driving-video smoothing strength (0 = off)")
    p.add_argument("--no-audio", action="store_true", help="do not copy the driving video's audio")
    p.add_argument("--crf", type=int, default=20, help="H.264 quality (lower = better, larger)")
    add_quiet(p)


def run_reenact(args: argparse.Namespace) -> int:
    from openinfp.core.errors import InputError
    from openinfp.head.config import HeadConfig
    from openinfp.head.reenact import reenact

    if not str(args.output).lower().endswith(".mp4"):
        raise InputError(f"output {args.output} must end in .mp4")
    if args.face_index < 0 or args.driving_face_index < 0:
        raise InputError("face indices must be >= 0")
    out = reenact(args.portrait, args.driving_video, args.output,
                  renderer_options={"size": args.size, "framing": args.framing, "face_index": args.face_index},
                  head_config=HeadConfig(face_index=args.driving_face_index, min_face_px=args.min_face_px,
                                         smoothing=args.smoothing),
                  audio=not args.no_audio, crf=args.crf, progress=not args.quiet)
    print(f"wrote {Path(out)}")
    return 0


# ----- check-video ----------------------------------------------------------------------
def add_check_video_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", help="a video of one person talking (the largest face is used)")
    p.add_argument("--max-frames", type=int, default=900, help="frames read from the start (default: 900)")
    p.add_argument("--side-by-side", default=None,
                   help="also write an .mp4 of each real frame next to its self-reenacted frame")
    p.add_argument("--json", default=None, help="also write the figures as JSON to this file")
    _add_face_args(p)
    p.add_argument("--smoothing", type=float, default=1.0, help="temporal smoothing strength (0 = off)")
    add_quiet(p)


def run_check_video(args: argparse.Namespace) -> int:
    import json

    from openinfp.core.errors import InputError
    from openinfp.core.io import atomic_output
    from openinfp.head.video_check import check_talking_video

    if args.json is not None and not str(args.json).endswith(".json"):
        raise InputError(f"--json {args.json} must end in .json")
    report = check_talking_video(args.video, _head_config(args), max_frames=args.max_frames,
                                 side_by_side=args.side_by_side, progress=not args.quiet)
    print(report.summary())
    if args.json is not None:
        with atomic_output(args.json) as tmp:
            tmp.write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        print(f"wrote {args.json}")
    if args.side_by_side is not None:
        print(f"wrote {args.side_by_side}")
    return 0


# ----- check-photos ---------------------------------------------------------------------
def add_check_photos_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("photos", nargs="+", help="photos, or folders of photos, to check")
    p.add_argument("--no-smear", action="store_true", help="skip the smear check at 18 extreme poses (faster)")
    p.add_argument("--json", default=None, help="also write the figures as JSON to this file")
    add_quiet(p)


def run_check_photos(args: argparse.Namespace) -> int:
    import json
    import sys

    from tqdm.auto import tqdm

    from openinfp.core.errors import InputError
    from openinfp.core.io import atomic_output
    from openinfp.head.photo_check import check_photo, format_reports, photo_paths
    from openinfp.head.tracker import HeadTracker

    if args.json is not None and not str(args.json).endswith(".json"):
        raise InputError(f"--json {args.json} must end in .json")
    paths = photo_paths(args.photos)
    with HeadTracker() as tracker:
        reports = [check_photo(path, tracker, smear=not args.no_smear)
                   for path in tqdm(paths, desc="photos", unit="photo", disable=args.quiet, file=sys.stderr)]
    print(format_reports(reports))
    if args.json is not None:
        with atomic_output(args.json) as tmp:
            tmp.write_text(json.dumps([r.to_dict() for r in reports], indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0 if all(r.passed for r in reports) else 1

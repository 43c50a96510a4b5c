"""Measure the watermark: invisibility (PSNR), detection after re-encoding, false positives.

Run ``python -m openinfp.provenance.evaluate --help``. The defaults are small (a
minute on a 2-core CPU); ``docs/PROVENANCE.md`` reports a larger run and its exact
command.

Positives (written by :class:`~openinfp.core.video.VideoWriter`, watermark on):
    ``portrait`` (512x512: a real photo with a moving head region, fixed camera, like
    the portrait renderer), ``side_by_side`` (1024x512: two of them), ``body_scene``
    (768x512: flat backdrop, floor, two moving stick figures; every other one
    near-black; a synthetic stand-in far flatter and cheaper to encode than the real
    renderers' output, so a stress case at low bitrates),
    ``moving_camera`` (512x512: a real photo filmed by a panning, zooming, shaking
    camera with sensor noise; a stress case, not what the renderers make),
    ``body_render`` (the real ``skeleton`` and ``anny`` renderers' two-person scenes,
    512 px high, moving bodies).

Negatives (watermark off): ``photo_camera`` (512x512) and ``photo_camera_wide``
    (1024x512) real photos filmed by the virtual camera, ``photo_portrait`` (the
    positives' own content, unmarked), ``body_scene`` unmarked, and ``noise`` videos
    (white, static white, smooth random fields, real textures, flat grey; cycled).

Every clip is scored as written (H.264 CRF 20) and after each re-encoding in
:data:`~openinfp.provenance.clips.TRANSFORMS`. Each scored video is also scored
against ``--wrong-keys`` other keys: a video not marked with a key is a sample of that
key's null distribution, which checks the detector's calibration on far more samples.

Real camera videos (``--real-videos PATH ...``, kind ``real_video``): each file is a
negative as given (its own encoding, no mark) and after each re-encoding of it, and a
positive: its first ``--real-frames`` frames written by ``VideoWriter`` with the mark
(CRF 20, the source's frame rate), then re-encoded. Videos with a side under
:data:`MIN_REAL_SIDE` px are skipped with a printed reason; a file that cannot be
decoded is a one-line error. ``--clips 0`` scores the real videos alone.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np

from openinfp.core.errors import InputError, OpenInfpError
from openinfp.core.watermark import DEFAULT_KEY, GRID, THRESHOLD, cell_gains, embed_watermark
from openinfp.provenance import clips as C
from openinfp.provenance.verify import DEFAULT_MAX_FRAMES

POSITIVE_KINDS = ("portrait", "side_by_side", "body_scene", "moving_camera", "body_render")
NEGATIVE_KINDS = ("photo_camera", "photo_camera_wide", "photo_portrait", "body_scene", "noise")
REAL_KIND = "real_video"
"""Kind of the trials of ``--real-videos`` (marked and unmarked)."""

ORIGINAL = "original (CRF 20)"
"""First version of every written clip: as ``VideoWriter`` wrote it."""

AS_GIVEN = "original (as given)"
"""First version of an unmarked real video: the file itself, in its own encoding."""

MIN_REAL_SIDE = GRID
"""Smallest frame side (px) of a real video that is scored: below one pixel per cell of
the ``GRID x GRID`` pattern the mark aliases away; such videos are skipped."""

DEFAULT_REAL_FRAMES = DEFAULT_MAX_FRAMES
"""Frames read from each real video: what ``openinfp verify`` analyses by default."""


@dataclass
class Trial:
    """One scored video."""

    kind: str
    marked: bool
    source: str
    size: str
    transform: str
    score: float
    detected: bool
    psnr: Optional[float] = None


@dataclass
class Summary:
    """Aggregates of a run (see :func:`summarize`)."""

    trials: int
    positives: int
    negatives: int
    detection_rate: float
    false_positive_rate: float
    detection_by_transform: dict = field(default_factory=dict)
    detection_by_kind: dict = field(default_factory=dict)
    min_positive_score: dict = field(default_factory=dict)
    negative_scores: dict = field(default_factory=dict)
    wrong_key_null: dict = field(default_factory=dict)
    thresholds: list = field(default_factory=list)
    psnr_db: dict = field(default_factory=dict)
    seconds: float = 0.0
    real_videos: dict = field(default_factory=dict)


def _clip(kind: str, index: int, frames: int, rng: np.random.Generator) -> tuple[str, Iterator[np.ndarray]]:
    """``(source description, frames)`` of clip ``index`` of ``kind``."""
    photos = C.PHOTOS
    photo = photos[index % len(photos)]
    if kind in ("portrait", "photo_portrait"):
        return photo, C.portrait_clip(C.load_photo(photo), 512, 512, frames, rng)
    if kind == "side_by_side":
        other = photos[(index + 5) % len(photos)]
        left = C.portrait_clip(C.load_photo(photo), 512, 512, frames, rng)
        right = C.portrait_clip(C.load_photo(other), 512, 512, frames, rng)
        return f"{photo}+{other}", C.side_by_side(left, right)
    if kind == "body_scene":
        dark = index % 2 == 1
        return ("figures (dark)" if dark else "figures"), C.figures_clip(512, 768, frames, rng, dark=dark)
    if kind == "body_render":
        return ("skeleton" if index % 2 == 0 else "anny"), C.body_render_clip(index, 512, frames, rng)
    if kind in ("moving_camera", "photo_camera"):
        return photo, C.camera_clip(C.load_photo(photo), 512, 512, frames, rng)
    if kind == "photo_camera_wide":
        return photo, C.camera_clip(C.load_photo(photo), 512, 1024, frames, rng)
    if kind == "noise":
        noise = C.NOISE_KINDS[index % len(C.NOISE_KINDS)]
        return f"noise:{noise}", C.noise_clip(noise, 512, 512, frames, rng)
    raise ValueError(f"unknown clip kind {kind!r}")


def _psnr_tap(frames: Iterator[np.ndarray], sink: list[float]) -> Iterator[np.ndarray]:
    """Pass frames through; record the PSNR (dB) of each watermarked frame vs the clean one."""
    for frame in frames:
        marked = embed_watermark(frame)
        mse = float(np.mean((marked.astype(np.float64) - frame) ** 2))
        sink.append(10 * np.log10(255.0**2 / mse) if mse > 0 else float("inf"))
        yield frame


def _wrong_keys(video: int, count: int) -> np.ndarray:
    """``[count, GRID*GRID]`` gains of keys that marked nothing, fresh for each video so
    that every null score is an independent N(0, 1) draw (given the video's evidence,
    scores against independent keys are independent)."""
    return np.stack([cell_gains(f"null-key-{video}-{j}", GRID).ravel() for j in range(count)])


def select_real_videos(paths: Sequence[Path | str], min_side: int = MIN_REAL_SIDE
                       ) -> tuple[list[C.RealVideo], list[str]]:
    """Probe the videos named by ``paths`` (files, or folders searched for videos).

    Returns:
        ``(usable videos, reasons for each skipped one)``: videos with a side under
        ``min_side`` px are skipped, not refused.

    Raises:
        InputError: a path is missing, a folder has no video, or a file cannot be
            decoded (checked for every file before any work starts).
    """
    videos, skipped = [], []
    for path in C.find_videos(paths):
        video = C.open_real_video(path)
        if min(video.width, video.height) < min_side:
            skipped.append(f"skipped {path}: {video.width}x{video.height} frames are smaller than the watermark "
                           f"supports (the {GRID}x{GRID}-cell pattern needs at least {min_side} px a side)")
        else:
            videos.append(video)
    return videos, skipped


def _score_versions(kind: str, marked: bool, source: str, original: Path, first: str, transforms: Sequence[str],
                    max_frames: Optional[int], psnr: Optional[float], trials: list[Trial],
                    null_scores: list[np.ndarray], wrong_keys: int, scratch: Path) -> None:
    """Score ``original`` (named ``first``) and each re-encoding of it (made in
    ``scratch``, then deleted); append a :class:`Trial` for each and, with
    ``wrong_keys``, its null scores. ``max_frames``: re-encode and read only the first
    frames (None: re-encode all, read what ``openinfp verify`` reads)."""
    from openinfp.provenance.verify import read_video_evidence

    versions = {first: original}
    for name in transforms:
        versions[name] = C.transcode(original, scratch / f"{original.stem}_{name}.mp4", max_frames=max_frames,
                                     **C.TRANSFORMS[name])
    for name, path in versions.items():
        detector, _, width, height = read_video_evidence(path, max_frames=max_frames or DEFAULT_MAX_FRAMES)
        result = detector.result()
        trials.append(Trial(kind, marked, source, f"{width}x{height}", name, result.score, result.present, psnr))
        if wrong_keys:
            v = detector.evidence().ravel()
            null_scores.append(_wrong_keys(len(trials), wrong_keys) @ v / max(float(np.linalg.norm(v)), 1e-300))
        if path != original:
            path.unlink()


def run(clips: int = 1, frames: int = 25, seed: int = 0, wrong_keys: int = 100, workdir: Optional[Path] = None,
        transforms: Sequence[str] = tuple(C.TRANSFORMS), progress: bool = True,
        real_videos: Sequence[C.RealVideo] = (), real_frames: int = DEFAULT_REAL_FRAMES,
        ) -> tuple[list[Trial], np.ndarray, float]:
    """Make, re-encode and score the clips, then the real videos.

    Args:
        clips: synthetic clips per kind (0: real videos only).
        frames: frames per synthetic clip.
        real_videos: camera videos (:func:`select_real_videos`), each scored unmarked
            as given and marked through ``VideoWriter``, both after every re-encoding.
        real_frames: frames read from each real video (streamed: memory does not
            grow with it).

    Returns:
        ``(trials, wrong-key scores [n_videos * wrong_keys], seconds)``.
    """
    from tqdm import tqdm

    from openinfp.core.video import VideoWriter, read_frames

    trials: list[Trial] = []
    null_scores: list[np.ndarray] = []
    jobs = [(k, True, i) for k in POSITIVE_KINDS for i in range(clips)]
    jobs += [(k, False, i) for k in NEGATIVE_KINDS for i in range(clips)]
    jobs += [(REAL_KIND, marked, i) for i in range(len(real_videos)) for marked in (False, True)]
    names = [v.path.name for v in real_videos]
    names = [n if names.count(n) == 1 else str(v.path) for n, v in zip(names, real_videos)]  # unique labels
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        for kind, marked, index in tqdm(jobs, desc="watermark clips", disable=not progress, file=sys.stderr):
            psnrs: list[float] = []
            original = Path(tmp) / f"{kind}_{int(marked)}_{index}.mp4"
            first, limit = ORIGINAL, None
            if kind == REAL_KIND:
                video = real_videos[index]
                source, limit = names[index], real_frames
                if marked:  # the camera's frames, marked and written as our renders are
                    clip = _psnr_tap(map(C.even_crop, itertools.islice(read_frames(video.path), real_frames)), psnrs)
                    with VideoWriter(original, fps=video.fps, watermark=True) as writer:
                        writer.write_all(clip)
                else:  # the camera's file itself: its own encoding, no mark
                    original, first = video.path, AS_GIVEN
            else:
                rng = np.random.default_rng([seed, POSITIVE_KINDS.index(kind) if marked else
                                             10 + NEGATIVE_KINDS.index(kind), index])
                source, clip = _clip(kind, index, frames, rng)
                if marked:
                    clip = _psnr_tap(clip, psnrs)
                with VideoWriter(original, fps=25, watermark=marked) as writer:
                    writer.write_all(clip)
            psnr = float(np.mean(psnrs)) if psnrs else None
            _score_versions(kind, marked, source, original, first, transforms, limit, psnr, trials, null_scores,
                            wrong_keys, Path(tmp))
            if first != AS_GIVEN:  # never delete the user's own video
                original.unlink()
    nulls = np.concatenate(null_scores) if null_scores else np.zeros(0)
    return trials, nulls, time.perf_counter() - start


def _encoding(transform: str) -> str:
    """Row name of a real video's version: both firsts (marked CRF 20, unmarked as given)
    are the ``original``."""
    return "original" if transform in (ORIGINAL, AS_GIVEN) else transform


def real_video_summary(trials: list[Trial]) -> dict:
    """Per re-encoding of the ``real_video`` trials: marked detected, unmarked false
    positives, and the score range of each (empty without real videos)."""
    real = [t for t in trials if t.kind == REAL_KIND]
    out = {}
    for name in dict.fromkeys(_encoding(t.transform) for t in real):
        row = {}
        for marked, label in ((True, "detected"), (False, "false_positives")):
            sel = [t.score for t in real if t.marked == marked and _encoding(t.transform) == name]
            hits = sum(t.detected for t in real if t.marked == marked and _encoding(t.transform) == name)
            row[label] = f"{hits}/{len(sel)}"
            row["marked_scores" if marked else "unmarked_scores"] = (
                [round(min(sel), 2), round(max(sel), 2)] if sel else [])
        out[name] = row
    return out


def summarize(trials: list[Trial], nulls: np.ndarray, seconds: float, threshold: float = THRESHOLD) -> Summary:
    """Detection and false-positive rates, score ranges, PSNR and the null check."""
    from scipy import stats

    pos = [t for t in trials if t.marked]
    neg = [t for t in trials if not t.marked]

    def rate(items: list[Trial]) -> str:
        return f"{sum(t.detected for t in items)}/{len(items)}"

    by_transform = {name: rate([t for t in pos if t.transform == name])
                    for name in dict.fromkeys(t.transform for t in pos)}
    by_kind = {kind: rate([t for t in pos if t.kind == kind]) for kind in dict.fromkeys(t.kind for t in pos)}
    min_score = {f"{kind} / {name}": round(min(t.score for t in pos if t.kind == kind and t.transform == name), 2)
                 for kind in dict.fromkeys(t.kind for t in pos) for name in by_transform}
    neg_scores = np.array([t.score for t in neg])
    psnr = np.array([t.psnr for t in pos if t.psnr is not None and t.transform.startswith("original")])
    null = {}
    if nulls.size:
        null = {"samples": int(nulls.size), "mean": round(float(nulls.mean()), 3), "std": round(float(nulls.std()), 3),
                "max": round(float(nulls.max()), 2), "above_threshold": int((nulls >= threshold).sum()),
                "ks_pvalue_vs_standard_normal": float(stats.kstest(nulls, "norm").pvalue)}
    from scipy.special import ndtr

    table = [{"threshold": th, "expected_false_positive_rate": float(ndtr(-th)),
              "detected": f"{sum(t.score >= th for t in pos)}/{len(pos)}",
              "false_positives": f"{sum(t.score >= th for t in neg)}/{len(neg)}",
              "null_above": f"{int((nulls >= th).sum())}/{nulls.size}"} for th in (3.0, 3.5, 4.0, 4.5, 5.0)]
    return Summary(
        trials=len(trials), positives=len(pos), negatives=len(neg), thresholds=table,
        detection_rate=sum(t.detected for t in pos) / max(len(pos), 1),
        false_positive_rate=sum(t.detected for t in neg) / max(len(neg), 1),
        detection_by_transform=by_transform, detection_by_kind=by_kind, min_positive_score=min_score,
        negative_scores={"count": len(neg), "mean": round(float(neg_scores.mean()), 3) if len(neg) else None,
                         "std": round(float(neg_scores.std()), 3) if len(neg) else None,
                         "max": round(float(neg_scores.max()), 2) if len(neg) else None,
                         "false_positives": rate(neg),
                         "by_kind": {k: rate([t for t in neg if t.kind == k])
                                     for k in dict.fromkeys(t.kind for t in neg)}},
        wrong_key_null=null,
        psnr_db={"mean": round(float(psnr.mean()), 2), "min": round(float(psnr.min()), 2)} if psnr.size else {},
        seconds=round(seconds, 1), real_videos=real_video_summary(trials),
    )


def markdown(summary: Summary, trials: list[Trial]) -> str:
    """Tables for docs/PROVENANCE.md."""
    pos = [t for t in trials if t.marked]
    kinds = list(dict.fromkeys(t.kind for t in pos))
    names = list(dict.fromkeys(t.transform for t in pos))
    lines = ["| re-encoding | " + " | ".join(kinds) + " | all |", "|---" * (len(kinds) + 2) + "|"]
    for name in names:
        cells = []
        for kind in kinds:
            sel = [t for t in pos if t.kind == kind and t.transform == name]
            cells.append(f"{sum(t.detected for t in sel)}/{len(sel)} (min {min(t.score for t in sel):.1f})")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {summary.detection_by_transform[name]} |")
    neg = summary.negative_scores
    lines += ["", f"Detection rate: {summary.detection_rate:.2%} of {summary.positives} marked videos; "
              f"false positives: {neg['false_positives']} unmarked videos (score mean {neg['mean']}, "
              f"std {neg['std']}, max {neg['max']}); by kind: {neg['by_kind']}.",
              f"Wrong-key null scores: {summary.wrong_key_null}.", f"PSNR (dB): {summary.psnr_db}.", "",
              "| threshold | expected false-positive rate | detected | false positives | null scores above |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['threshold']} | {r['expected_false_positive_rate']:.1e} | {r['detected']} | "
              f"{r['false_positives']} | {r['null_above']} |" for r in summary.thresholds]
    if summary.real_videos:
        lines += ["", real_video_markdown(summary, trials)]
    lines += ["",
              f"Time: {summary.seconds} s."]
    return "\n".join(lines)


def real_video_markdown(summary: Summary, trials: list[Trial]) -> str:
    """The ``real_video`` table: per re-encoding, each video's score marked / unmarked,
    then detections and false positives over the videos."""
    real = [t for t in trials if t.kind == REAL_KIND]
    sources = list(dict.fromkeys(t.source for t in real))
    sizes = {t.source: t.size for t in real if not t.marked and t.transform == AS_GIVEN}
    lines = ["Real videos (score marked / unmarked; `original`: the marked copy at CRF 20, "
             "the unmarked file as given):",
             "", "| re-encoding | " + " | ".join(f"{s} ({sizes.get(s, '?')})" for s in sources)
             + " | detected | false positives |", "|---" * (len(sources) + 3) + "|"]
    for name, row in summary.real_videos.items():
        cells = []
        for source in sources:
            score = {t.marked: t.score for t in real if t.source == source and _encoding(t.transform) == name}
            cells.append(" / ".join(f"{score[m]:.1f}" if m in score else "-" for m in (True, False)))
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {row['detected']} | {row['false_positives']} |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openinfp.provenance.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=int, default=1,
                        help="clips per kind (default: 1; 0 with --real-videos: score the real videos alone)")
    parser.add_argument("--frames", type=int, default=25, help="frames per clip at 25 fps (default: 25)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the clips (default: 0)")
    parser.add_argument("--wrong-keys", type=int, default=100,
                        help="other keys each video is also scored against, for the null check (default: 100)")
    parser.add_argument("--transforms", nargs="*", default=list(C.TRANSFORMS), choices=list(C.TRANSFORMS),
                        metavar="NAME", help=f"re-encodings to apply (default: all of {', '.join(C.TRANSFORMS)})")
    parser.add_argument("--real-videos", nargs="+", type=Path, default=[], metavar="PATH",
                        help="real camera videos (files, or folders searched for videos) to score too: each unmarked "
                             "as given and marked by VideoWriter, after every re-encoding (kind real_video)")
    parser.add_argument("--real-frames", type=int, default=DEFAULT_REAL_FRAMES,
                        help=f"first frames read from each real video (default: {DEFAULT_REAL_FRAMES}, "
                             "what openinfp verify reads)")
    parser.add_argument("--json", type=Path, default=None, help="also write every trial and the summary here")
    parser.add_argument("--workdir", type=Path, default=None, help="folder for temporary videos (default: system temp)")
    args = parser.parse_args(argv)
    if args.clips < (0 if args.real_videos else 1) or args.frames < 1 or args.wrong_keys < 0 or args.real_frames < 1:
        parser.error("--clips (0 allowed only with --real-videos), --frames and --real-frames must be at least 1, "
                     "--wrong-keys at least 0")
    try:
        real, skipped = select_real_videos(args.real_videos)
        for reason in skipped:
            print(reason, file=sys.stderr)
        if args.real_videos and not real and args.clips == 0:
            raise InputError("none of the --real-videos can be scored (all skipped above); nothing to evaluate")
        trials, nulls, seconds = run(args.clips, args.frames, args.seed, args.wrong_keys, args.workdir,
                                     args.transforms, real_videos=real, real_frames=args.real_frames)
    except OpenInfpError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    summary = summarize(trials, nulls, seconds)
    print(markdown(summary, trials))
    if args.json is not None:
        from openinfp.core.io import atomic_output

        with atomic_output(args.json) as tmp:
            tmp.write_text(json.dumps({"key": DEFAULT_KEY, "threshold": THRESHOLD, "args": {
                k: (str(v) if isinstance(v, Path) else [str(x) for x in v] if k == "real_videos" else v)
                for k, v in vars(args).items()},
                "summary": asdict(summary), "trials": [asdict(t) for t in trials]}, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

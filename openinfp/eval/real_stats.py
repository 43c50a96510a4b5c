"""How real people move while they talk: statistics of tracked real talking videos.

Used to calibrate the synthetic behaviour rules and to judge generated motion against
people, not against the rules. Every clip is tracked with our own tracker
(:func:`openinfp.eval.real_tracking.track_clip`) and brought to 25 fps; the same
measures are applied to generated motion through :func:`motion_statistics`, so the
two columns of a comparison are computed identically.

Measures (all at the motion frame rate, 25 fps by default):

* ``jaw_open_speaking``: ``jawOpen`` over frames where the clip's own audio has speech
  (:func:`openinfp.core.metrics.audio.speech_activity`): mean and 95th percentile.
* ``jaw_rise`` / ``jaw_fall``: per-frame increase / decrease of ``jawOpen`` (opening
  and closing speed per frame): max and 95th percentile of the positive steps
  (resp. the magnitudes of the negative steps).
* ``head_speed_deg_s``: head angular speed (norm of the yaw/pitch/roll velocity,
  :func:`openinfp.core.metrics.features.angular_speed`), 50th/95th percentile and max;
  ``head_step_deg``: largest single-frame change of the head angles, degrees.
* ``nods_per_min``: :func:`openinfp.core.metrics.behaviour.detect_nods` on head pitch,
  per minute of clip.
* ``blinks_per_min``: :func:`openinfp.core.metrics.behaviour.detect_blinks` on the mean
  ``eyeBlinkLeft``/``Right`` weight, per minute.
* ``smile_share``: share of frames with mean ``mouthSmileLeft``/``Right`` above
  :data:`SMILE_THRESHOLD`; ``smile_mean`` its mean.

Only frames with a tracked face enter; a per-frame step needs both frames tracked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from openinfp.core.io import PathLike

SMILE_THRESHOLD = 0.3
"""Mean smile weight above which a frame counts as smiling."""

LISTENING_CLIPS: tuple[str, ...] = ("l2l_teaser_listener",)
"""Clips of ``talking_video/`` whose person listens (their audio track is the partner)."""


@dataclass
class ClipSignals:
    """The per-frame signals the statistics read, ``[T]`` each, at ``fps``.

    ``speaking`` is the person's own speech activity; ``valid`` marks frames with a face.
    Angles in radians (pitch > 0: nose down).
    """

    name: str
    fps: float
    yaw: np.ndarray
    pitch: np.ndarray
    roll: np.ndarray
    jaw: np.ndarray
    blink: np.ndarray
    smile: np.ndarray
    speaking: np.ndarray
    valid: np.ndarray

    @property
    def minutes(self) -> float:
        return float(self.valid.sum()) / self.fps / 60.0


def _pct(x: np.ndarray, q: float) -> Optional[float]:
    return float(np.percentile(x, q)) if x.size else None


def _max(x: np.ndarray) -> Optional[float]:
    return float(x.max()) if x.size else None


def _steps(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-frame differences ``x[t+1] - x[t]`` where both frames are valid."""
    both = valid[1:] & valid[:-1]
    return np.diff(x)[both]


def clip_statistics(sig: ClipSignals) -> dict:
    """Every measure of the module docstring for one clip (``None`` where undefined)."""
    from openinfp.core.metrics.behaviour import detect_blinks, detect_nods
    from openinfp.core.metrics.features import angular_speed

    v = sig.valid
    ypr = np.column_stack([sig.yaw, sig.pitch, sig.roll])
    speed = np.degrees(angular_speed(ypr, sig.fps))[v]
    step = np.degrees(np.linalg.norm(np.diff(ypr, axis=0), axis=1))[v[1:] & v[:-1]]
    dj = _steps(sig.jaw, v)
    rise, fall = dj[dj > 0], -dj[dj < 0]
    speaking = sig.jaw[v & sig.speaking]
    minutes = sig.minutes
    nods = len(detect_nods(sig.pitch, sig.fps))
    blinks = len(detect_blinks(sig.blink, sig.fps))
    return {
        "frames": int(v.sum()), "seconds": round(float(v.sum()) / sig.fps, 2),
        "speaking_share": float((v & sig.speaking).sum() / max(v.sum(), 1)),
        "jaw_open_speaking": {"mean": float(speaking.mean()) if speaking.size else None,
                              "p95": _pct(speaking, 95)},
        "jaw_rise": {"max": _max(rise), "p95": _pct(rise, 95)},
        "jaw_fall": {"max": _max(fall), "p95": _pct(fall, 95)},
        "head_speed_deg_s": {"p50": _pct(speed, 50), "p95": _pct(speed, 95), "max": _max(speed)},
        "head_step_deg": {"max": _max(step), "p99": _pct(step, 99)},
        "nods": nods, "nods_per_min": nods / minutes if minutes > 0 else None,
        "blinks": blinks, "blinks_per_min": blinks / minutes if minutes > 0 else None,
        "smile_share": float((sig.smile[v] > SMILE_THRESHOLD).mean()) if v.any() else None,
        "smile_mean": float(sig.smile[v].mean()) if v.any() else None,
    }


def pooled_statistics(signals: Sequence[ClipSignals]) -> dict:
    """The measures over all clips together (frames pooled; rates = events / total minutes);
    plus the spread of the per-clip values (min, median, max)."""
    if not signals:
        return {}
    fps = signals[0].fps
    cat = {k: np.concatenate([getattr(s, k) for s in signals]) for k in
           ("yaw", "pitch", "roll", "jaw", "blink", "smile", "speaking")}
    # pooling must not create steps or speeds across clip borders: each clip's first and
    # last frames are left out (central differences there would straddle two clips)
    valid = np.concatenate([np.concatenate([[False], s.valid[1:-1], [False]]) for s in signals])
    pooled = clip_statistics(ClipSignals("pooled", fps, valid=valid, **cat))
    per_clip = [clip_statistics(s) for s in signals]
    minutes = sum(s.minutes for s in signals)
    pooled["nods"] = sum(c["nods"] for c in per_clip)  # counted per clip (no events across borders)
    pooled["blinks"] = sum(c["blinks"] for c in per_clip)
    pooled["nods_per_min"] = pooled["nods"] / minutes
    pooled["blinks_per_min"] = pooled["blinks"] / minutes
    spread = {}
    for key, sub in (("jaw_open_speaking", "p95"), ("jaw_rise", "max"), ("head_speed_deg_s", "p95"),
                     ("head_step_deg", "max")):
        vals = [c[key][sub] for c in per_clip if c[key][sub] is not None]
        spread[f"{key}.{sub}"] = [min(vals), float(np.median(vals)), max(vals)] if vals else None
    for key in ("nods_per_min", "blinks_per_min", "smile_share"):
        vals = [c[key] for c in per_clip if c[key] is not None]
        spread[key] = [min(vals), float(np.median(vals)), max(vals)] if vals else None
    pooled["per_clip_min_median_max"] = spread
    return pooled


def signals_from_tracked(clip) -> ClipSignals:
    """:class:`ClipSignals` of a :class:`~openinfp.eval.real_tracking.TrackedClip`
    (speech activity from the clip's own audio)."""
    from openinfp.core.metrics.audio import speech_activity

    n = clip.num_frames
    speaking = (speech_activity(clip.wave, fps=clip.fps, num_frames=n) if clip.wave.size
                else np.zeros(n, bool))
    return ClipSignals(clip.name, clip.fps, clip.column("yaw"), clip.column("pitch"), clip.column("roll"),
                       clip.column("jawOpen"), clip.column("blink"), clip.column("smile"),
                       np.asarray(speaking, bool), np.asarray(clip.face_found, bool))


def signals_from_motion(seq, speaking: np.ndarray, name: str = "generated") -> ClipSignals:
    """:class:`ClipSignals` of a generated ``head``/``smplx`` :class:`MotionSequence`."""
    from openinfp.core.arkit import arkit_index
    from openinfp.core.metrics.features import expression, head_angles

    ypr = head_angles(seq)
    face = expression(seq)
    blink = face[:, [arkit_index("eyeBlinkLeft"), arkit_index("eyeBlinkRight")]].mean(1)
    smile = face[:, [arkit_index("mouthSmileLeft"), arkit_index("mouthSmileRight")]].mean(1)
    n = seq.num_frames
    return ClipSignals(name, seq.fps, ypr[:, 0], ypr[:, 1], ypr[:, 2], face[:, arkit_index("jawOpen")], blink,
                       smile, np.asarray(speaking, bool)[:n], np.ones(n, bool))


def motion_statistics(seq, speaking: np.ndarray) -> dict:
    """The same measures for generated motion (``speaking``: the agent's activity ``[T]``)."""
    return clip_statistics(signals_from_motion(seq, speaking))


def talking_video_statistics(folder: PathLike, cache: Optional[PathLike] = None, fps: float = 25.0,
                             progress=None) -> dict:
    """Track every ``*.mp4`` directly in ``folder`` and compute the statistics.

    Returns a JSON-ready dict: ``speakers`` (pooled over the talking clips),
    ``listeners`` (pooled over :data:`LISTENING_CLIPS`, if present), ``clips`` (each
    clip's own measures) and ``definitions``.
    """
    from openinfp.eval.real_tracking import track_clip

    videos = sorted(p for p in Path(folder).glob("*.mp4"))
    talking, listening, clips = [], [], {}
    for video in videos:
        if progress:
            progress(f"real stats: tracking {video.name}")
        sig = signals_from_tracked(track_clip(video, fps=fps, cache=cache))
        (listening if video.stem in LISTENING_CLIPS else talking).append(sig)
        clips[video.stem] = clip_statistics(sig)
    return {
        "source": str(folder), "fps": fps, "tracker": "openinfp.head.tracker.HeadTracker (One Euro smoothing)",
        "speakers": pooled_statistics(talking), "listeners": pooled_statistics(listening), "clips": clips,
        "definitions": (__doc__ or "").strip(),
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m openinfp.eval.real_stats FOLDER OUT.json [--cache DIR]``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="statistics of tracked real talking videos")
    parser.add_argument("folder")
    parser.add_argument("out")
    parser.add_argument("--cache", default=None, help="folder for tracking caches")
    args = parser.parse_args(argv)
    stats = talking_video_statistics(args.folder, args.cache,
                                     progress=lambda m: print(m, file=sys.stderr, flush=True))
    Path(args.out).write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Track real talking videos once, into per-frame features at the motion frame rate.

The real-data statistics (:mod:`openinfp.eval.real_stats`) and the real-data
evaluation (:mod:`openinfp.eval.real_eval`) both need, for every talking video:

* the tracked head motion (our own :class:`~openinfp.head.tracker.HeadTracker`,
  smoothed as ``openinfp track`` smooths it),
* the raw inner-lip gap of every frame (:func:`openinfp.head.video_check.lip_gap`,
  inter-ocular distances; the tracker-independent mouth measure),
* the clip's own audio (16 kHz mono, the speaker's voice).

Tracking costs about as long as the clip on two cores, so the result can be cached in a
folder (``.npz`` files of plain arrays, read with ``allow_pickle=False``). Features are
brought from the video's frame rate to ``fps`` (25 by default) by linear interpolation
in time: nearest-frame selection would repeat or skip frames of a 30 fps video and
create false zero or double per-frame steps.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike

CACHE_VERSION = 1
"""Bumped when what is cached changes (old cache files are then ignored)."""

FEATURES: tuple[str, ...] = ("yaw", "pitch", "roll", "jawOpen", "blink", "smile", "lip_gap")
"""Columns of :attr:`TrackedClip.features`: head angles (radians, pitch > 0 nose down),
``jawOpen``, blink (mean of ``eyeBlinkLeft``/``Right``), smile (mean of
``mouthSmileLeft``/``Right``), raw inner-lip gap (IOD; NaN where no face)."""


@dataclass
class TrackedClip:
    """One tracked real video at ``fps``.

    Attributes:
        name: the file stem.
        fps: frame rate of :attr:`features` (the motion frame rate, not the video's).
        video_fps: the video's own frame rate.
        features: ``[T, len(FEATURES)]`` float64, see :data:`FEATURES`.
        face_found: ``[T]`` bool, a face was tracked at the nearest video frame.
        wave: ``[N]`` float32 mono 16 kHz audio of the clip (empty if it has none).
    """

    name: str
    fps: float
    video_fps: float
    features: np.ndarray
    face_found: np.ndarray
    wave: np.ndarray

    def column(self, name: str) -> np.ndarray:
        """One feature column ``[T]`` by name."""
        return self.features[:, FEATURES.index(name)]

    @property
    def num_frames(self) -> int:
        return int(self.features.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps


def resample_features(values: np.ndarray, src_fps: float, fps: float) -> np.ndarray:
    """``[T, K]`` sampled at ``src_fps`` -> ``[round(T * fps / src_fps), K]`` at ``fps``,
    linear in time (NaNs are filled from neighbours first)."""
    n_src = values.shape[0]
    n = max(1, int(round(n_src * fps / src_fps)))
    t_src = np.arange(n_src) / src_fps
    t = np.arange(n) / fps
    out = np.empty((n, values.shape[1]))
    for k in range(values.shape[1]):
        col = values[:, k]
        ok = np.isfinite(col)
        out[:, k] = np.interp(t, t_src[ok], col[ok]) if ok.any() else np.nan
    return out


def _track(video: Path, max_frames: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Native-rate ``[T, K]`` features, ``[T]`` face found, video fps."""
    from openinfp.core.arkit import arkit_index
    from openinfp.core.video import probe_video, read_frames
    from openinfp.head.motion_space import head_euler, head_motion_space
    from openinfp.head.tracker import HeadTracker
    from openinfp.head.video_check import lip_gap

    info = probe_video(video, count_frames=False)
    video_fps = float(info["fps"] or 25.0)

    def frames():
        for i, frame in enumerate(read_frames(video)):
            if i >= max_frames:
                return
            yield frame

    with HeadTracker() as tracker:
        faces = list(tracker.track_frames(frames(), str(video)))
        motion = tracker.motion_from_faces(faces, video_fps, str(video))
    space = head_motion_space()
    arkit = space.get(motion.motion, "arkit").numpy().astype(np.float64)
    ypr = head_euler(motion.motion).numpy().astype(np.float64)
    found = np.array([f is not None for f in faces])
    gaps = np.array([lip_gap(f.landmarks) if f is not None else np.nan for f in faces])
    blink = arkit[:, [arkit_index("eyeBlinkLeft"), arkit_index("eyeBlinkRight")]].mean(1)
    smile = arkit[:, [arkit_index("mouthSmileLeft"), arkit_index("mouthSmileRight")]].mean(1)
    feats = np.column_stack([ypr, arkit[:, arkit_index("jawOpen")], blink, smile, gaps])
    return feats, found, video_fps


def _cache_file(cache: Path, video: Path, max_frames: int) -> Path:
    stat = video.stat()
    key = f"{CACHE_VERSION}|{video.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{max_frames}"
    return cache / f"{video.stem}.{hashlib.sha1(key.encode()).hexdigest()[:12]}.npz"


def clip_audio(video: Path) -> np.ndarray:
    """The mono 16 kHz audio track of ``video`` (empty when it has none)."""
    from openinfp.audio.conversation import to_mono16k
    from openinfp.audio.io import load_audio_resampled
    from openinfp.core.audio import SAMPLE_RATE

    try:
        clip = load_audio_resampled(video, SAMPLE_RATE)
    except InputError:
        return np.zeros(0, np.float32)
    wave, _ = to_mono16k(clip)
    return np.asarray(wave, np.float32)


def track_clip(video: PathLike, fps: float = 25.0, cache: Optional[PathLike] = None,
               max_frames: int = 3000) -> TrackedClip:
    """Track ``video`` (or read it from ``cache``) and bring its features to ``fps``.

    Args:
        video: a video with one talking face (the largest face is used).
        fps: the frame rate of the returned features.
        cache: a folder for ``.npz`` caches keyed by path, size and mtime (``None``: no cache).
        max_frames: video frames read from the start.

    Raises:
        InputError: unreadable video or no face in any frame.
    """
    path = Path(video)
    if not path.is_file():
        raise InputError(f"video {path} does not exist")
    cached = _cache_file(Path(cache), path, max_frames) if cache is not None else None
    if cached is not None and cached.is_file():
        with np.load(cached, allow_pickle=False) as z:
            feats, found, video_fps = z["features"], z["face_found"], float(z["video_fps"])
    else:
        feats, found, video_fps = _track(path, max_frames)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp.npz")
            np.savez(tmp, features=feats, face_found=found, video_fps=np.float64(video_fps))
            tmp.replace(cached)
    out = resample_features(feats, video_fps, fps)
    t = np.arange(out.shape[0]) / fps
    nearest = np.clip(np.round(t * video_fps).astype(np.int64), 0, found.size - 1)
    return TrackedClip(path.stem, fps, video_fps, out, found[nearest], clip_audio(path))

"""Check the tracker and renderer on a real talking video (no ground truth needed).

The closed loop (:mod:`openinfp.head.closed_loop`) knows the true motion because it
renders it. A real video has no such truth, so this check compares the tracked motion
with what the raw landmarks of the same frames show, and re-draws the video:

* **lips**: the tracked ``jawOpen`` should rise and fall with the raw inner-lip gap,
  with no lag from the temporal smoothing;
* **lids**: the tracked blink weights should rise when the raw lid gap closes;
* **jitter**: frame-to-frame wobble of the pose, raw per-frame fit vs smoothed;
* **self-reenactment**: the video's first face frame is taken as the portrait and
  animated with the tracked motion (relative transfer, as ``openinfp reenact`` does).
  Where the renderer puts the landmarks is compared with where the real frame has
  them, in inter-ocular distances (IOD), next to a still baseline (the first frame's
  landmarks held still); the rendered frames are re-tracked and their ``jawOpen``
  compared with the real video's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
import torch

from openinfp.core.arkit import arkit_index
from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, require_file
from openinfp.core.rotations import matrix_to_euler_ypr
from openinfp.head.config import HeadConfig
from openinfp.head.landmarks import (
    LEFT_EYE_LOWER,
    LEFT_EYE_UPPER,
    LIP_INNER_CENTER_LOWER,
    LIP_INNER_CENTER_UPPER,
    LIPS_INNER,
    LIPS_OUTER,
    RIGHT_EYE_LOWER,
    RIGHT_EYE_UPPER,
    interocular_distance,
)
from openinfp.head.motion_space import head_euler, head_motion_space

MAX_LAG = 3
"""Lags (frames) searched when checking that the smoothed jaw does not trail the lips."""

_MOUTH = sorted(set(LIPS_OUTER) | set(LIPS_INNER))
_JAW = arkit_index("jawOpen")
_BLINKS = (arkit_index("eyeBlinkLeft"), arkit_index("eyeBlinkRight"))


@dataclass
class VideoCheckReport:
    """What :func:`check_talking_video` measured (IOD = inter-ocular distance).

    Attributes:
        frames: frames read; fps: the video's frame rate.
        face_found: share of frames with a tracked face.
        interocular_px: median pupil distance of the face, px.
        jaw_lip_corr: Pearson r of tracked (smoothed) ``jawOpen`` vs raw inner-lip gap.
        jaw_lag_frames: lag maximising that correlation in [-MAX_LAG, MAX_LAG]
            (positive: the tracked jaw trails the lips).
        lip_gap_range: (min, max) raw inner-lip gap over the video, IOD.
        blink_lid_corr: Pearson r of tracked blink (mean of both eyes) vs the raw lid gap
            closing (its negative); ``nan`` when the lids hardly move.
        jitter_raw_deg, jitter_smoothed_deg: median |second difference| of yaw, pitch and
            roll (max over the three), deg/frame^2, per-frame fit vs smoothed motion.
        reenact_landmark_error: median over frames of the mean landmark distance between
            the self-reenacted targets and the real frame, IOD.
        still_landmark_error: the same for the first frame's landmarks held still.
        reenact_mouth_error, still_mouth_error: the same on the 38 lip landmarks.
        rerender_jaw_corr: r of re-tracked ``jawOpen`` on the rendered frames vs the
            real video's tracked ``jawOpen``.
        rerender_lost: rendered frames where no face was re-tracked.
    """

    video: str
    frames: int
    fps: float
    face_found: float
    interocular_px: float
    jaw_lip_corr: float
    jaw_lag_frames: int
    lip_gap_range: tuple[float, float]
    blink_lid_corr: float
    jitter_raw_deg: float
    jitter_smoothed_deg: float
    reenact_landmark_error: float
    still_landmark_error: float
    reenact_mouth_error: float
    still_mouth_error: float
    rerender_jaw_corr: float
    rerender_lost: int

    def summary(self) -> str:
        lo, hi = self.lip_gap_range
        return (
            f"{self.video}: {self.frames} frames at {self.fps:.2f} fps, face found in {self.face_found:.0%}, "
            f"pupil distance {self.interocular_px:.0f} px\n"
            f"  lips: jawOpen vs inner-lip gap r {self.jaw_lip_corr:.3f} at lag {self.jaw_lag_frames:+d} frames "
            f"(gap {lo:.2f}-{hi:.2f} IOD)\n"
            f"  lids: blink vs lid closing r {self.blink_lid_corr:.3f}\n"
            f"  pose jitter: {self.jitter_raw_deg:.2f} deg/frame^2 raw, {self.jitter_smoothed_deg:.2f} smoothed\n"
            f"  self-reenactment landmark error: {self.reenact_landmark_error:.3f} IOD "
            f"(still first frame {self.still_landmark_error:.3f}); mouth {self.reenact_mouth_error:.3f} "
            f"(still {self.still_mouth_error:.3f})\n"
            f"  re-tracked render: jawOpen r {self.rerender_jaw_corr:.3f} vs the video, lost {self.rerender_lost}"
        )

    def to_dict(self) -> dict:
        """Plain values for JSON; a correlation that could not be measured is ``None``."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in asdict(self).items()}


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    if a.size < 3 or a.std() < 1e-9 or b.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def best_lag(follower: np.ndarray, leader: np.ndarray, max_lag: int = MAX_LAG) -> int:
    """The lag ``L`` in ``[-max_lag, max_lag]`` maximising corr(follower[t], leader[t - L])
    (positive: ``follower`` trails ``leader``). Both ``[T]``."""
    scores = {}
    n = follower.size
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            a, b = follower[lag:], leader[:n - lag]
        else:
            a, b = follower[:n + lag], leader[-lag:]
        scores[lag] = _corr(a, b)
    valid = {k: v for k, v in scores.items() if np.isfinite(v)}
    return max(valid, key=lambda k: (valid[k], -abs(k))) if valid else 0


def lip_gap(landmarks: np.ndarray) -> float:
    """Inner-lip gap at the mouth's centre of ``[478, >=2]`` landmarks, in IOD."""
    gap = np.linalg.norm(landmarks[LIP_INNER_CENTER_UPPER, :2] - landmarks[LIP_INNER_CENTER_LOWER, :2])
    return float(gap / interocular_distance(landmarks))


def lid_gap(landmarks: np.ndarray) -> float:
    """Mean upper-to-lower lid distance of both eyes of ``[478, >=2]`` landmarks, in IOD
    (the upper and lower lid lists both run from the outer to the inner corner)."""
    gaps = [np.linalg.norm(landmarks[list(up), :2] - landmarks[list(low), :2], axis=1).mean()
            for up, low in ((RIGHT_EYE_UPPER, RIGHT_EYE_LOWER), (LEFT_EYE_UPPER, LEFT_EYE_LOWER))]
    return float(np.mean(gaps) / interocular_distance(landmarks))


def _jitter(ypr_deg: np.ndarray) -> float:
    """Median over frames of max |second difference| over yaw/pitch/roll; ``[T, 3]`` deg."""
    if ypr_deg.shape[0] < 3:
        return float("nan")
    return float(np.median(np.abs(np.diff(ypr_deg, n=2, axis=0)).max(1)))


def check_talking_video(video: PathLike, head_config: Optional[HeadConfig] = None, max_frames: int = 900,
                        side_by_side: Optional[PathLike] = None, progress: bool = True) -> VideoCheckReport:
    """Track ``video``, compare the motion with its raw landmarks, self-reenact it.

    Args:
        video: a video with one talking face (the largest face is used).
        head_config: tracker options (smoothing, face index, minimum face size).
        max_frames: frames read from the start (30 s at 30 fps by default).
        side_by_side: optional ``.mp4`` path: real frame | self-reenacted frame.
        progress: show progress bars.

    Raises:
        InputError: unreadable video, or fewer than 3 frames with a face.
    """
    from tqdm import tqdm

    from openinfp.core.video import VideoWriter, probe_video, read_frames
    from openinfp.head.reenact import relative_transfer
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig
    from openinfp.head.tracker import HeadTracker

    path = require_file(video, "video")
    if max_frames < 3:
        raise InputError(f"max_frames (--max-frames) must be at least 3, got {max_frames}")
    if side_by_side is not None and not str(side_by_side).lower().endswith(".mp4"):
        raise InputError(f"side-by-side output {side_by_side} must end in .mp4")
    info = probe_video(path, count_frames=False)  # sizes progress bars only
    fps = float(info["fps"] or 25.0)
    config = head_config or HeadConfig()
    total = min(max_frames, info["frames"]) if info["frames"] else max_frames

    current: list[np.ndarray] = []

    def first_frames():
        for i, frame in enumerate(read_frames(path)):
            if i >= max_frames:
                return
            current[:] = [frame]  # track_frames yields a frame's face before pulling the next
            yield frame

    # Pass 1: raw per-frame faces (478 x 3 floats each) and the first frame with a face.
    faces = []
    portrait: Optional[np.ndarray] = None
    frames = tqdm(first_frames(), total=total, desc=f"tracking {path.name}", unit="frame",
                  disable=not progress, leave=False)
    with HeadTracker(config) as tracker:
        for face in tracker.track_frames(frames, str(path)):
            if face is not None and portrait is None:
                portrait = current[0].copy()
            faces.append(face)
        found = np.array([f is not None for f in faces])
        if found.sum() < 3:
            which = f"face {config.face_index} (0 = largest)" if config.face_index else "a face"
            raise InputError(f"{path}: {which} was found in only {int(found.sum())} of {len(faces)} frames; "
                             f"the check needs at least 3 (faces at least {config.min_face_px} px wide)")
        motion = tracker.motion_from_faces(faces, fps, str(path))
    space = head_motion_space()
    idx = np.flatnonzero(found)
    real = [faces[i] for i in idx]
    arkit = space.get(motion.motion, "arkit").numpy()
    jaw = arkit[idx, _JAW]
    blink = arkit[idx][:, list(_BLINKS)].mean(1)
    gaps = np.array([lip_gap(f.landmarks) for f in real])
    lids = np.array([lid_gap(f.landmarks) for f in real])

    raw_ypr = np.degrees(np.stack([matrix_to_euler_ypr(torch.as_tensor(f.rotation, dtype=torch.float32)).numpy()
                                   for f in real]))
    smooth_ypr = head_euler(motion.motion[idx]).rad2deg().numpy()

    # Self-reenactment: the first face frame is the portrait, drawn at the video's size.
    renderer = PortraitRenderer(PortraitRendererConfig(framing="full", expression="absolute",
                                                       face_index=config.face_index))
    renderer.setup_tracked(portrait, real[0])
    drive = relative_transfer(motion, real[0].weights, reference=int(idx[0]))
    err, still, mouth, mouth_still, rerender_jaw, real_jaw = [], [], [], [], [], []
    lost = 0
    writer = None
    if side_by_side is not None:
        writer = VideoWriter(side_by_side, fps=fps, metadata={"openinfp_source": "check-video"})
    first = real[0].landmarks[:, :2]
    by_frame = dict(zip(idx.tolist(), real))
    try:
        with HeadTracker(HeadConfig(face_index=config.face_index, min_face_px=config.min_face_px)) as retracker:
            # Second read of the video, so the real frames are never all held in memory.
            for k, real_frame in enumerate(tqdm(first_frames(), total=total, desc="self-reenactment",
                                                unit="frame", disable=not progress, leave=False)):
                face = by_frame.get(k)
                if face is None:
                    continue
                target = renderer.target_landmarks(drive.motion[k])
                truth = face.landmarks[:, :2]
                iod = interocular_distance(truth)
                d = np.linalg.norm(target - truth, axis=1) / iod
                d0 = np.linalg.norm(first - truth, axis=1) / iod
                err.append(d.mean())
                still.append(d0.mean())
                mouth.append(d[_MOUTH].mean())
                mouth_still.append(d0[_MOUTH].mean())
                frame = renderer.render_frame(drive.motion[k])
                if writer is not None:
                    writer.write(np.concatenate([real_frame[:frame.shape[0], :frame.shape[1]], frame], axis=1))
                try:
                    again = retracker.track_image(frame)
                except InputError:
                    lost += 1
                    continue
                rerender_jaw.append(again.weights[_JAW])
                real_jaw.append(face.weights[_JAW])
        if writer is not None:
            writer.close()
            writer = None
    finally:
        if writer is not None:
            writer.abort()
    return VideoCheckReport(
        video=path.name, frames=len(faces), fps=fps, face_found=float(found.mean()),
        interocular_px=float(np.median([f.interocular_px for f in real])),
        jaw_lip_corr=_corr(jaw, gaps), jaw_lag_frames=best_lag(jaw, gaps),
        lip_gap_range=(float(gaps.min()), float(gaps.max())), blink_lid_corr=_corr(blink, -lids),
        jitter_raw_deg=_jitter(raw_ypr), jitter_smoothed_deg=_jitter(smooth_ypr),
        reenact_landmark_error=float(np.median(err)), still_landmark_error=float(np.median(still)),
        reenact_mouth_error=float(np.median(mouth)), still_mouth_error=float(np.median(mouth_still)),
        rerender_jaw_corr=_corr(np.array(rerender_jaw), np.array(real_jaw)), rerender_lost=lost,
    )

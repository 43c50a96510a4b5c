"""Timing between audio and motion: lip-sync proxy and beat consistency.

* Lip-sync proxy: the peak Pearson correlation, over lags of at most +-5 frames,
  between the agent's mouth opening and its speech envelope (an offline stand-in for
  SyncNet's LSE-C/D, which need weights we cannot ship).
* Beat consistency (BC): BEAT (Liu et al., ECCV 2022) / EMAGE (Liu et al., CVPR 2024),
  after the beat-alignment score of AIST++ (Li et al., ICCV 2021): for every audio
  onset, a Gaussian of its distance to the nearest motion beat (a local minimum of
  joint speed), averaged over onsets.
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch

from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.errors import InputError
from openinfp.core.metrics.audio import onset_times, speech_envelope
from openinfp.core.metrics.features import ArrayLike, as_array, joint_rot6d, mouth_opening
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import rot6d_to_matrix

UPPER_BODY_JOINTS: tuple[str, ...] = (
    "spine1", "spine2", "spine3", "neck", "left_collar", "right_collar", "head",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)
"""Joints whose speed minima count as motion beats (EMAGE's upper body); in the ``head``
space only ``head`` exists."""


def lagged_peak_correlation(x: ArrayLike, y: ArrayLike, max_lag: int = 5) -> tuple[float, int]:
    """Highest Pearson correlation of ``x[t]`` with ``y[t - lag]`` for ``|lag| <= max_lag``.

    A positive lag means ``x`` follows ``y`` (the mouth opens after the sound). Each lag
    uses the overlapping frames only. A constant overlap counts as correlation 0.

    Returns:
        ``(peak correlation, lag in frames)``.
    """
    from openinfp.core.metrics.paired import pearson

    a, b = as_array(x, "signal").ravel(), as_array(y, "signal").ravel()
    if a.size != b.size:
        raise InputError(f"lagged correlation: signals differ in length ({a.size} vs {b.size})")
    if a.size - max_lag < 3:
        raise InputError(f"lagged correlation: {a.size} frames are too few for lags up to {max_lag}")
    best, best_lag = -np.inf, 0
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            r = pearson(a[lag:], b[:a.size - lag])
        else:
            r = pearson(a[:lag], b[-lag:])
        if r > best + 1e-12:
            best, best_lag = r, lag
    return float(best), int(best_lag)


def lip_sync_proxy(seq: MotionSequence, agent_wave: ArrayLike, sample_rate: int = SAMPLE_RATE,
                   max_lag: int = 5) -> tuple[float, int]:
    """Peak correlation (and its lag) between mouth opening and the agent's speech envelope."""
    env = speech_envelope(agent_wave, sample_rate, seq.fps, seq.num_frames)
    return lagged_peak_correlation(mouth_opening(seq), env, max_lag=max_lag)


def beat_consistency(audio_beats: ArrayLike, motion_beats: ArrayLike, sigma: float = 0.3) -> float:
    """``1/|B_a| * sum_{a in B_a} exp(-min_{m in B_m} (a - m)^2 / (2 sigma^2))``.

    Args:
        audio_beats: onset times in seconds.
        motion_beats: motion beat times in seconds.
        sigma: tolerance in seconds (EMAGE's evaluation uses 0.3).

    Returns a value in [0, 1]; 0 when there are no motion beats.

    Raises:
        InputError: no audio beats (the score is undefined).
    """
    a = as_array(audio_beats, "audio beats").ravel()
    m = as_array(motion_beats, "motion beats").ravel()
    if a.size == 0:
        raise InputError("beat consistency is undefined without audio onsets")
    if m.size == 0:
        return 0.0
    nearest = np.abs(a[:, None] - m[None, :]).min(axis=1)
    return float(np.exp(-(nearest ** 2) / (2.0 * sigma ** 2)).mean())


def speed_minima(speed: ArrayLike, fps: float, order: int = 7, min_rise: float = 0.3) -> np.ndarray:
    """Motion beats: times (s) of local speed minima.

    A frame is a beat when its speed is the strict minimum of the ``order`` frames on
    each side (``scipy.signal.argrelextrema``, as in EMAGE) and the speed within those
    frames rises above it by at least ``min_rise`` times the clip's mean speed, so
    jitter during rest is not a beat. (EMAGE instead drops minima slower than 0.3x the
    training set's mean speed; for heads the beat is usually a full stop, e.g. the
    bottom of a nod, which that rule would discard.)
    """
    from scipy.ndimage import maximum_filter1d
    from scipy.signal import argrelextrema

    s = as_array(speed, "speed").ravel()
    if s.size < 2 * order + 1 or s.mean() <= 0:
        return np.zeros(0)
    idx = argrelextrema(s, np.less, order=order)[0]
    peak = maximum_filter1d(s, size=2 * order + 1, mode="nearest")
    idx = idx[peak[idx] - s[idx] >= min_rise * s.mean()]
    return idx / fps


def joint_rotation_speed(seq: MotionSequence, joint: str) -> Optional[np.ndarray]:
    """Angular speed (rad/s) of one named joint's local rotation, ``[T]``, or None if absent.

    Speed at frame t is the geodesic angle between frames t-1 and t+1 over 2/fps
    (one-sided at the ends).
    """
    r6d = joint_rot6d(seq.space, seq.motion, joint)
    if r6d is None:
        return None
    rot = rot6d_to_matrix(r6d).double()
    t = rot.shape[0]
    if t < 2:
        return np.zeros(t)
    nxt = torch.cat([rot[1:], rot[-1:]])
    prv = torch.cat([rot[:1], rot[:-1]])
    steps = torch.tensor([1.0] + [2.0] * (t - 2) + [1.0], dtype=torch.float64)
    rel = nxt @ prv.transpose(-1, -2)
    cos = ((rel.diagonal(dim1=-2, dim2=-1).sum(-1) - 1.0) / 2.0).clamp(-1.0, 1.0)
    return (torch.arccos(cos) / (steps / seq.fps)).numpy()


def motion_beat_consistency(seq: MotionSequence, agent_wave: ArrayLike, sample_rate: int = SAMPLE_RATE,
                            sigma: float = 0.3, order: int = 7,
                            joints: Sequence[str] = UPPER_BODY_JOINTS) -> float:
    """BC of a motion clip against its agent audio, averaged over the present ``joints``.

    Raises:
        InputError: the space holds none of ``joints``, or the audio has no onsets.
    """
    speeds = [s for s in (joint_rotation_speed(seq, j) for j in joints) if s is not None]
    if not speeds:
        raise InputError(f"beat consistency: motion space {seq.space.name!r} has none of the joints "
                         f"{', '.join(joints)}")
    onsets = onset_times(agent_wave, sample_rate)
    return float(np.mean([beat_consistency(onsets, speed_minima(s, seq.fps, order=order), sigma) for s in speeds]))

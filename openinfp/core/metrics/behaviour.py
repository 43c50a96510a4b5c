"""Conversation behaviour: does the agent talk when it speaks and listen when it does not?

* Role separation: ROC AUC of the agent's mouth activity as a detector of its own
  speech activity (1 = mouth activity alone tells speaking from listening frames;
  0.5 = no better than chance, e.g. a static face).
* Listening liveliness: during the partner's speech (partner active, agent silent),
  the head's motion energy and its nod rate.
* Nods are detected from head pitch velocity events (definition in :func:`detect_nods`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.metrics.features import YPR, ArrayLike, angular_speed, as_array, head_angles, mouth_opening
from openinfp.core.motion import MotionSequence


def roc_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve of ``scores`` for binary ``labels`` (Mann-Whitney U).

    ``AUC = (R_pos - n_pos (n_pos + 1) / 2) / (n_pos * n_neg)`` with ``R_pos`` the sum
    of the positives' ranks among all scores (ties get their average rank, so tied
    scores count one half).

    Raises:
        InputError: the labels hold only one class, or lengths differ.
    """
    from scipy.stats import rankdata

    s = as_array(scores, "scores").ravel()
    y = np.asarray(labels).astype(bool).ravel()
    if s.size != y.size:
        raise InputError(f"ROC AUC: {s.size} scores but {y.size} labels")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise InputError("ROC AUC needs both positive and negative frames (speaking and not speaking)")
    ranks = rankdata(s)  # average ranks for ties
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def moving_average(x: ArrayLike, window: int) -> np.ndarray:
    """Centered moving average over ``window`` frames (edges use the frames that exist)."""
    a = as_array(x, "signal").ravel()
    if window <= 1:
        return a.copy()
    kernel = np.ones(window)
    total = np.convolve(a, kernel, mode="same")
    count = np.convolve(np.ones_like(a), kernel, mode="same")
    return total / count


def mouth_activity(seq: MotionSequence, window_s: float = 0.32) -> np.ndarray:
    """Mouth activity per frame, ``[T]``: mouth opening (jawOpen) averaged over a centered
    window of ``window_s`` seconds, so brief closures inside words (m, b, p) do not
    count as silence."""
    return moving_average(mouth_opening(seq), max(1, int(round(window_s * seq.fps))))


def role_separation_auc(seq: MotionSequence, agent_active: ArrayLike, window_s: float = 0.32) -> float:
    """ROC AUC of :func:`mouth_activity` against the agent's speech activity ``[T]`` (bool)."""
    active = np.asarray(agent_active).astype(bool).ravel()
    if active.size != seq.num_frames:
        raise InputError(f"role separation: {active.size} activity frames for {seq.num_frames} motion frames")
    return roc_auc(mouth_activity(seq, window_s), active)


@dataclass(frozen=True)
class Nod:
    """One detected nod: its first and last frame (movement onset to rest) and its
    amplitude in radians."""

    start: int
    end: int
    amplitude: float


def detect_nods(pitch: ArrayLike, fps: float, velocity_threshold: float = 0.25, min_amplitude: float = 0.035,
                max_gap_s: float = 0.4, max_duration_s: float = 1.2, rest_s: float = 0.25,
                smooth_frames: int = 3) -> list[Nod]:
    """Nods from head pitch (radians, positive = nose down), by velocity events.

    1. Smooth the pitch with a centered moving average of ``smooth_frames`` frames and
       differentiate it (``numpy.gradient``, rad/s).
    2. A *down event* is a maximal run of frames with velocity above
       ``+velocity_threshold``; an *up event* a run below ``-velocity_threshold``.
    3. A nod is a down event followed by the next up event starting at most
       ``max_gap_s`` after the down event ends. Its extent runs from the lowest pitch in
       the ``rest_s`` seconds before the down event (the movement onset) to the lowest
       pitch in the ``rest_s`` seconds after the up event; it lasts at most
       ``max_duration_s``, and its amplitude (highest pitch inside the extent minus the
       mean pitch at its two ends) is at least ``min_amplitude`` (0.035 rad = 2
       degrees). Each event belongs to at most one nod.

    Defaults: 0.25 rad/s (about 14 deg/s) separates nods from slow sway and tracking
    jitter at 25 fps.
    """
    p = moving_average(pitch, smooth_frames)
    if p.size < 3:
        return []
    v = np.gradient(p) * fps
    downs, ups = _runs(v > velocity_threshold), _runs(v < -velocity_threshold)
    nods: list[Nod] = []
    max_gap, max_dur = max_gap_s * fps, max_duration_s * fps
    j = 0
    for d_start, d_end in downs:
        while j < len(ups) and ups[j][0] <= d_end:
            j += 1
        if j >= len(ups):
            break
        u_start, u_end = ups[j]
        if u_start - d_end > max_gap:
            continue
        rest = max(1, int(round(rest_s * fps)))
        lo = max(0, d_start - rest)
        start = lo + int(np.argmin(p[lo:d_start + 1]))
        hi = min(p.size, u_end + rest + 1)
        end = u_end + int(np.argmin(p[u_end:hi]))
        if end - start > max_dur:
            continue
        amplitude = float(p[start:end + 1].max() - 0.5 * (p[start] + p[end]))
        if amplitude >= min_amplitude:
            nods.append(Nod(int(start), int(end), amplitude))
            j += 1
    return nods


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Inclusive ``(start, end)`` frame index pairs of the True runs in ``mask``."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    change = np.flatnonzero(np.diff(padded))
    return [(int(s), int(e) - 1) for s, e in zip(change[::2], change[1::2])]


@dataclass(frozen=True)
class Liveliness:
    """Listening behaviour during the partner's speech.

    Attributes:
        head_energy: mean squared head angular speed over listening frames (rad^2/s^2).
        nod_rate: nods per minute of listening (nods counted by their start frame).
        nods: number of nods that started in listening frames.
        listening_s: seconds of listening (partner active, agent silent).
    """

    head_energy: float
    nod_rate: float
    nods: int
    listening_s: float


def listening_frames(partner_active: ArrayLike, agent_active: Optional[ArrayLike] = None) -> np.ndarray:
    """Frames where the partner speaks and the agent does not, ``[T]`` bool."""
    partner = np.asarray(partner_active).astype(bool).ravel()
    if agent_active is None:
        return partner
    agent = np.asarray(agent_active).astype(bool).ravel()
    if agent.size != partner.size:
        raise InputError(f"activity lengths differ: partner {partner.size}, agent {agent.size}")
    return partner & ~agent


def listening_liveliness(seq: MotionSequence, partner_active: ArrayLike,
                         agent_active: Optional[ArrayLike] = None, **nod_options: float) -> Liveliness:
    """Head-motion energy and nod rate of ``seq`` during the partner's speech.

    Raises:
        InputError: activity length differs from the motion, or no listening frames.
    """
    listen = listening_frames(partner_active, agent_active)
    if listen.size != seq.num_frames:
        raise InputError(f"listening liveliness: {listen.size} activity frames for {seq.num_frames} motion frames")
    if not listen.any():
        raise InputError("listening liveliness: the partner never speaks while the agent is silent")
    angles = head_angles(seq)
    speed = angular_speed(angles, seq.fps)
    nods = detect_nods(angles[:, YPR.index("pitch")], seq.fps, **nod_options)
    count = sum(1 for n in nods if listen[n.start])
    seconds = float(listen.sum()) / seq.fps
    return Liveliness(float((speed[listen] ** 2).mean()), count / (seconds / 60.0), count, seconds)


@dataclass(frozen=True)
class Blink:
    """One detected blink: first and last frame above the threshold, and its peak weight."""

    start: int
    end: int
    peak: float


def detect_blinks(blink: ArrayLike, fps: float, rise: float = 0.25, min_peak: float = 0.35,
                  max_duration_s: float = 0.6) -> list[Blink]:
    """Blinks from a per-frame blink weight (e.g. the mean of ARKit ``eyeBlinkLeft`` and
    ``eyeBlinkRight``), by thresholding above the person's own open-eye level.

    1. The open-eye level is the median of ``blink`` over the clip (people keep their
       eyes open most of the time; trackers give each face its own resting weight).
    2. A blink is a maximal run of frames above ``median + rise`` whose peak is at least
       ``min_peak`` and which lasts at most ``max_duration_s`` (longer runs are eyes
       closed or looking down, not blinks).

    Defaults: at 25 fps a blink (100-400 ms) spans 2-10 frames.
    """
    b = as_array(blink, "blink").ravel()
    if b.size < 3:
        return []
    threshold = float(np.median(b)) + rise
    max_len = max_duration_s * fps
    out = []
    for start, end in _runs(b > threshold):
        peak = float(b[start:end + 1].max())
        if end - start + 1 <= max_len and peak >= min_peak:
            out.append(Blink(start, end, peak))
    return out

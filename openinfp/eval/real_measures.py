"""The measures of the real-data evaluation (:mod:`openinfp.eval.real_eval`).

Plain functions of per-frame signals at the motion frame rate, so the same definition
scores generated motion, tracked real people and FLAME fits alike:

* :func:`conversation_metrics`: listen/speak head-speed ratio, nods per listening
  minute, jaw AUC, largest head step of one agent;
* :func:`video_metrics`: lip-sync r (best lag within +-:data:`LIP_MAX_LAG` frames),
  largest jaw rise, largest head step, jaw AUC of one talking video.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

LIP_MAX_LAG = 2
"""Lags (frames) searched for the lip-sync correlation."""


def head_speed_deg_s(angles: np.ndarray, fps: float) -> np.ndarray:
    """Head angular speed ``[T]`` in deg/s from ``[T, 3]`` yaw/pitch/roll radians."""
    from openinfp.core.metrics.features import angular_speed

    return np.degrees(angular_speed(angles, fps))


def max_step_deg(angles: np.ndarray) -> float:
    """Largest single-frame change of ``[T, 3]`` head angles (radians), in degrees."""
    if angles.shape[0] < 2:
        return 0.0
    return float(np.degrees(np.linalg.norm(np.diff(angles, axis=0), axis=1)).max())


def max_rise(x: np.ndarray) -> float:
    """Largest per-frame increase of ``[T]`` (0 when it never rises)."""
    return float(max(0.0, np.diff(x).max())) if x.size > 1 else 0.0


def speed_ratio(speed: np.ndarray, listening: np.ndarray, speaking: np.ndarray) -> Optional[float]:
    """Mean ``speed`` over listening frames / mean over speaking frames (``None`` if either is empty)."""
    if not listening.any() or not speaking.any():
        return None
    denom = float(speed[speaking].mean())
    return float(speed[listening].mean()) / denom if denom > 0 else None


def nods_per_minute(pitch: np.ndarray, fps: float, frames: np.ndarray) -> tuple[int, Optional[float]]:
    """Nods (:func:`detect_nods`) that start in ``frames`` (``[T]`` bool), and per minute of them."""
    from openinfp.core.metrics.behaviour import detect_nods

    count = sum(1 for n in detect_nods(pitch, fps) if frames[n.start])
    minutes = float(frames.sum()) / fps / 60.0
    return count, (count / minutes if minutes > 0 else None)


def _auc(scores: np.ndarray, labels: np.ndarray) -> Optional[float]:
    from openinfp.core.metrics.behaviour import roc_auc

    labels = labels.astype(bool)
    if labels.all() or not labels.any():
        return None
    return roc_auc(scores, labels)


def conversation_metrics(angles: np.ndarray, jaw: Optional[np.ndarray], fps: float, agent_active: np.ndarray,
                         partner_active: np.ndarray) -> dict:
    """Listening measures of one agent (module docstring). ``angles`` ``[T, 3]`` radians,
    ``jaw`` ``[T]`` or ``None``, activities ``[T]`` bool."""
    from openinfp.core.metrics.features import YPR

    t = min(angles.shape[0], agent_active.size, partner_active.size)
    angles, agent, partner = angles[:t], agent_active[:t].astype(bool), partner_active[:t].astype(bool)
    listening, speaking = partner & ~agent, agent & ~partner
    speed = head_speed_deg_s(angles, fps)
    nods, rate = nods_per_minute(angles[:, YPR.index("pitch")], fps, listening)
    return {
        "seconds": t / fps, "listening_s": float(listening.sum()) / fps, "speaking_s": float(speaking.sum()) / fps,
        "listen_head_speed_deg_s": float(speed[listening].mean()) if listening.any() else None,
        "speak_head_speed_deg_s": float(speed[speaking].mean()) if speaking.any() else None,
        "listen_speak_speed_ratio": speed_ratio(speed, listening, speaking),
        "nods_listening": nods, "nods_per_listen_min": rate,
        "jaw_auc": _auc(jaw[:t], agent) if jaw is not None else None,
        "head_step_max_deg": max_step_deg(angles),
    }


def video_metrics(jaw: np.ndarray, angles: Optional[np.ndarray], lip_gap: np.ndarray,
                  speaking: np.ndarray) -> dict:
    """Lip-sync and continuity measures of one talking video (module docstring).

    ``jaw`` ``[T]`` (generated or tracked ``jawOpen``, or any mouth signal), ``angles``
    ``[T, 3]`` radians or ``None``, ``lip_gap`` ``[T]`` the video's inner-lip gap,
    ``speaking`` ``[T]`` bool.
    """
    from openinfp.core.metrics.timing import lagged_peak_correlation

    t = min(jaw.size, lip_gap.size, speaking.size)
    r, lag = lagged_peak_correlation(jaw[:t], lip_gap[:t], max_lag=LIP_MAX_LAG)
    return {
        "lip_r": r, "lip_lag": lag, "jaw_rise_max": max_rise(jaw[:t]),
        "head_step_max_deg": max_step_deg(angles[:t]) if angles is not None else None,
        "jaw_auc": _auc(jaw[:t], speaking[:t]),
    }

"""Audio measurements the metrics need, at the motion frame rate.

Kept inside the metrics (instead of reusing the conditioners) so that a metric's
definition never changes when a model's features change.

Frame ``i`` of a clip at ``fps`` covers the samples ``[i * sr / fps, (i + 1) * sr / fps)``.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.errors import InputError
from openinfp.core.metrics.features import ArrayLike, as_array


def _wave(wave: ArrayLike) -> np.ndarray:
    w = as_array(wave, "waveform")
    if w.ndim != 1:
        raise InputError(f"waveform must be mono [N], got shape {w.shape}")
    return w


def speech_envelope(wave: ArrayLike, sample_rate: int = SAMPLE_RATE, fps: float = 25.0,
                    num_frames: Optional[int] = None) -> np.ndarray:
    """RMS amplitude per motion frame, ``[T]`` (``T = num_frames`` or enough to cover the audio).

    Frames past the end of the audio are 0.
    """
    w = _wave(wave)
    edges = np.arange(0, (num_frames if num_frames is not None else int(np.ceil(w.size * fps / sample_rate))) + 1)
    bounds = np.round(edges * sample_rate / fps).astype(np.int64)
    power = np.concatenate([[0.0], np.cumsum(w * w)])
    lo, hi = np.clip(bounds[:-1], 0, w.size), np.clip(bounds[1:], 0, w.size)
    count = np.maximum(bounds[1:] - bounds[:-1], 1)
    return np.sqrt((power[hi] - power[lo]) / count)


def speech_activity(wave: ArrayLike, sample_rate: int = SAMPLE_RATE, fps: float = 25.0,
                    num_frames: Optional[int] = None, relative_db: float = -30.0,
                    floor_db: float = -55.0, min_gap_s: float = 0.2, min_run_s: float = 0.08) -> np.ndarray:
    """Energy-based speech activity per motion frame, ``[T]`` bool.

    A frame is active when its RMS level (dBFS) is above both ``floor_db`` and
    ``relative_db`` below the clip's 95th-percentile level; gaps shorter than
    ``min_gap_s`` between active runs are filled (pauses inside a phrase), then runs
    shorter than ``min_run_s`` are dropped (clicks). Use it only when the data does
    not carry activity labels (``ConversationAudio.agent_activity`` etc.).
    """
    env = speech_envelope(wave, sample_rate, fps, num_frames)
    level = 20.0 * np.log10(env + 1e-10)
    threshold = max(np.percentile(level, 95) + relative_db, floor_db)
    active = level > threshold
    active = _fill_gaps(active, int(round(min_gap_s * fps)), value=True)
    return _fill_gaps(active, int(round(min_run_s * fps)), value=False)


def _fill_gaps(mask: np.ndarray, max_len: int, value: bool) -> np.ndarray:
    """Set interior runs of ``not value`` no longer than ``max_len`` frames to ``value``."""
    out = mask.copy()
    if max_len <= 0:
        return out
    t, i = out.size, 0
    while i < t:
        if out[i] != value:
            j = i
            while j < t and out[j] != value:
                j += 1
            interior = i > 0 and j < t
            if interior and j - i <= max_len:
                out[i:j] = value
            i = j
        else:
            i += 1
    return out


def onset_times(wave: ArrayLike, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Audio onset times in seconds (librosa spectral-flux onset detector, default settings)."""
    import librosa  # lazy: slow import

    w = _wave(wave).astype(np.float32)
    if not np.any(w):
        return np.zeros(0)
    return np.asarray(librosa.onset.onset_detect(y=w, sr=sample_rate, units="time"), dtype=np.float64)

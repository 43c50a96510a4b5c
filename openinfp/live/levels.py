"""Running per-track levels of a live session (bounded memory for any length).

Offline, some audio features are measured against a whole track: the loud level that
levels are read against, and the median pitch that ``rel_f0`` is read against. A live
window holds under a second, so these are running values over the session instead.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from openinfp.conditioners.audio_features import GRID_HOP, reference_db_of
from openinfp.core.audio import SAMPLE_RATE

HOP = GRID_HOP
"""Samples per 10 ms energy cell (the audio features' analysis grid)."""


class _Histogram:
    """Counts of values in fixed bins (``len(edges) + 1`` of them, open at both ends), so a
    running quantile over any length costs the same memory."""

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = edges
        self.counts = np.zeros(edges.shape[0] + 1, np.int64)

    def add(self, values: np.ndarray) -> None:
        np.add.at(self.counts, np.searchsorted(self.edges, values), 1)

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def quantile_bin(self, q: float) -> int:
        """Index of the bin where the cumulative count first reaches ``q`` of the total."""
        return int(np.searchsorted(np.cumsum(self.counts), q * self.total))


class RunningLoudLevel:
    """Running 95th percentile of a track's 10 ms energies, in dBFS (bounded memory).

    Energies go into a 0.25 dB histogram, so the level of an hour costs the same as
    that of a second. ``None`` until ``min_seconds`` of audio have arrived (the
    conditioner then measures the segment itself, as offline).
    """

    def __init__(self, min_seconds: float = 1.0) -> None:
        self._hist = _Histogram(np.arange(-140.0, 20.0, 0.25))
        self._rest = np.zeros(0, np.float32)
        self._min_cells = int(min_seconds * SAMPLE_RATE / HOP)

    def update(self, wave: np.ndarray) -> None:
        joined = np.concatenate([self._rest, wave])
        cells = joined.shape[0] // HOP
        self._rest = joined[cells * HOP:]
        if cells:
            energy = np.mean(joined[:cells * HOP].reshape(cells, HOP).astype(np.float64) ** 2, axis=1)
            self._hist.add(10 * np.log10(energy + 1e-12))

    def level_db(self) -> Optional[float]:
        if self._hist.total < self._min_cells:
            return None
        edges = self._hist.edges
        return reference_db_of(float(edges[min(self._hist.quantile_bin(0.95), edges.shape[0] - 1)]))


class RunningPitch:
    """Running median of a track's pitch over its settled frames, in log2(f0 / 200 Hz).

    Offline, the ``rel_f0`` feature is pitch against the median f0 of the whole track; a
    live window holds under a second, whose own median would turn every rise into
    "level". Frames' ``log_f0`` go into a 1/48-octave histogram (bounded memory); ``None``
    until ``min_frames`` voiced frames have been seen. The median is read at the centre
    of its bin.
    """

    def __init__(self, min_frames: int = 5) -> None:
        self._hist = _Histogram(np.arange(-4.0, 3.0, 1.0 / 48.0))
        self._min = min_frames

    def update(self, log_f0: np.ndarray) -> None:
        voiced = log_f0[log_f0 != 0.0]  # 0 marks an unvoiced frame
        if voiced.size:
            self._hist.add(voiced)

    def median(self) -> Optional[float]:
        if self._hist.total < self._min:
            return None
        edges = self._hist.edges
        k = self._hist.quantile_bin(0.5)
        return float(edges[min(max(k - 1, 0), edges.shape[0] - 1)] + 0.5 / 48.0)

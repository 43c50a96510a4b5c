"""Causal temporal smoothing that follows fast motion without lag (One Euro filter).

The One Euro filter (Casiez et al., CHI 2012) is a low-pass filter whose cut-off rises
with the signal's speed: still frames are smoothed strongly (no jitter) while a
mouth opening or a blink passes almost unfiltered (no lag).
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * np.asarray(cutoff))
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Vectorised One Euro filter over ``[D]`` vectors sampled at ``fps``.

    Args:
        fps: sampling rate.
        min_cutoff: cut-off (Hz) when the signal is still, scalar or ``[D]``.
        beta: how fast the cut-off rises with speed (per unit/s), scalar or ``[D]``.
        d_cutoff: cut-off (Hz) of the speed estimate, scalar or ``[D]``. A low one
            smooths the speed but reacts late to the start of a motion (lag).
    """

    def __init__(self, fps: float, min_cutoff: np.ndarray | float = 1.0, beta: np.ndarray | float = 0.0,
                 d_cutoff: np.ndarray | float = 1.0) -> None:
        self.dt = 1.0 / fps
        self.min_cutoff = np.asarray(min_cutoff, np.float64)
        self.beta = np.asarray(beta, np.float64)
        self.d_cutoff = np.asarray(d_cutoff, np.float64)
        self._x: Optional[np.ndarray] = None
        self._dx: Optional[np.ndarray] = None

    def reset(self) -> None:
        self._x = self._dx = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter one sample ``[D]``; returns the smoothed ``[D]``."""
        x = np.asarray(x, np.float64)
        if self._x is None:
            self._x, self._dx = x.copy(), np.zeros_like(x)
            return x.copy()
        dx = (x - self._x) / self.dt
        a_d = _alpha(self.d_cutoff, self.dt)
        self._dx = a_d * dx + (1 - a_d) * self._dx
        cutoff = self.min_cutoff + self.beta * np.abs(self._dx)
        a = _alpha(cutoff, self.dt)
        self._x = a * x + (1 - a) * self._x
        return self._x.copy()

"""Helpers on a diarization's ``[T, K]`` bool speaker grid: column order and speaker runs."""

from __future__ import annotations

import numpy as np


def first_speaker_first(grid: np.ndarray) -> np.ndarray:
    """``[T, K]`` grid with its speaker columns ordered by the frame each first speaks."""
    first = [int(np.argmax(grid[:, k])) for k in range(grid.shape[1])]
    return grid[:, np.argsort(first, kind="stable")]


def speaker_runs(grid: np.ndarray, fps: float, merge_gap_s: float) -> list[tuple[float, float, int]]:
    """``[(start_s, end_s, speaker)]`` runs of each column of the ``[T, K]`` grid sorted by
    start; same-speaker runs closer than ``merge_gap_s`` merge."""
    out = []
    for k in range(grid.shape[1]):
        m = np.concatenate([[False], grid[:, k], [False]]).astype(np.int8)
        d = np.diff(m)
        runs: list[list[int]] = []
        for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]):
            if runs and (a - runs[-1][1]) / fps < merge_gap_s:
                runs[-1][1] = int(b)
            else:
                runs.append([int(a), int(b)])
        out += [(a / fps, b / fps, k) for a, b in runs]
    return sorted(out, key=lambda s: (s[0], s[2]))

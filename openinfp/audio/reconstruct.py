"""Reconstruction: window-local speaker activity -> one global speaker grid.

Per global speaker, the activity of its local speakers is summed over the windows covering
each segmentation frame; each frame keeps the ``count`` most active speakers, ``count``
being the number of simultaneous speakers the windows agree on (rounded mean), so
overlapped speech marks two. Step 4 of :mod:`openinfp.audio.diarize`.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from openinfp.audio.overlap import fill_by_proximity, overlap_count
from openinfp.audio.segmentation import FRAME_SIZE_S, FRAME_STEP_S, Segmentation
from openinfp.core.audio import SAMPLE_RATE


def reconstruct(seg: Segmentation, units: np.ndarray, assign: np.ndarray, n_grid: int, grid_fps: float,
                overlap_threshold: Optional[float] = None, fill: bool = False) -> np.ndarray:
    """Window-local activity -> ``[n_grid, K]`` bool global activity on a ``grid_fps`` grid.

    Args:
        seg: the segmentation (``activity [C, 589, 3]`` local speakers per window).
        units: ``[M, 4]`` rows ``(window, local speaker, first frame, end frame)``.
        assign: ``[M]`` global speaker of each unit.
        n_grid: length of the output grid.
        grid_fps: its frame rate.
        overlap_threshold: two voices where the windows' soft pair probability exceeds it
            (``None``: the argmax count only).
        fill: a frame holding more voices than the units give it takes the speaker of the
            nearest other turn (:func:`~openinfp.audio.overlap.fill_by_proximity`).
    """
    k_total = int(assign.max()) + 1 if assign.size else 1
    n_frames = int(np.ceil(seg.num_samples / SAMPLE_RATE / FRAME_STEP_S)) + 1
    n_local = seg.activity.shape[1]
    score = np.zeros((n_frames + n_local, k_total), np.float32)
    count = np.zeros(n_frames + n_local, np.float32)
    cover = np.zeros(n_frames + n_local, np.float32)
    offsets = np.rint(seg.starts / SAMPLE_RATE / FRAME_STEP_S).astype(np.int64)
    for c, f0 in enumerate(offsets):
        count[f0:f0 + n_local] += seg.activity[c].sum(axis=1)
        cover[f0:f0 + n_local] += 1
    for (c, k, u0, u1), g in zip(units, assign):
        score[offsets[c] + u0:offsets[c] + u1, g] += seg.activity[c, u0:u1, k]
    speakers = np.floor(count / np.maximum(cover, 1) + 0.5).astype(np.int64)
    if overlap_threshold is not None and seg.overlap is not None:
        speakers = np.maximum(speakers, overlap_count(seg.overlap, offsets, speakers.shape[0], overlap_threshold))
    # Keep the `speakers` most active global speakers in each frame (only those heard there).
    order = np.argsort(-score, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(k_total)[None, :].repeat(score.shape[0], 0), axis=1)
    frames = (rank < speakers[:, None]) & (score > 0)
    # Onto the 10 ms grid: each grid frame takes the segmentation frame nearest its centre.
    centre = (np.arange(n_grid) + 0.5) / grid_fps
    idx = np.clip(np.rint((centre - FRAME_SIZE_S / 2) / FRAME_STEP_S).astype(np.int64), 0, frames.shape[0] - 1)
    return fill_by_proximity(frames[idx], speakers[idx]) if fill else frames[idx]

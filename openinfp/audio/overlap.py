"""Overlapped speech in a diarization: how many voices a frame holds, and who the second one is.

Segmentation-3.0's powerset argmax marks the second voice in only about half of the frames
where two people talk (far-field meetings); its soft output knows more: where the three
"pair" classes together are likely enough, a frame holds two voices even when the argmax
says one (:func:`overlap_count`). When a frame is to hold more voices than the clustering
gives it (a second voice the argmax did not mark, or two local speakers of a window that
ended up with one global speaker), the missing voice is the speaker of the nearest other
turn in time (:func:`fill_by_proximity`): in conversation, who overlaps a talker is mostly
whoever spoke just before or just after.
"""

from __future__ import annotations

import numpy as np


def overlap_count(overlap: np.ndarray, offsets: np.ndarray, num_frames: int, threshold: float) -> np.ndarray:
    """``[num_frames]`` int: 2 where the windows' mean overlap probability exceeds ``threshold``, else 0.

    Args:
        overlap: ``[C, F]`` probability of two speakers at once in each frame of each window.
        offsets: ``[C]`` first frame of each window on the shared frame axis.
        num_frames: length of the shared frame axis (every window must fit inside it).
        threshold: mean probability above which a frame holds two voices.
    """
    total = np.zeros(num_frames, np.float64)
    cover = np.zeros(num_frames, np.float64)
    width = overlap.shape[1]
    for row, f0 in zip(overlap, offsets):
        total[f0:f0 + width] += row
        cover[f0:f0 + width] += 1.0
    mean = total / np.maximum(cover, 1.0)
    return np.where(mean > threshold, 2, 0).astype(np.int64)


def fill_by_proximity(grid: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Give frames that hold fewer speakers than ``need`` the speakers of the nearest other turns.

    Args:
        grid: ``[T, K]`` bool speaker activity.
        need: ``[T]`` int, how many speakers each frame holds.

    Returns:
        ``[T, K]`` bool copy of ``grid``; a frame with at least one speaker and fewer than
        ``need`` gets, in order, the speakers active nearest to it in time (frames with no
        speaker are left alone: that is silence or speech no window could attribute).
    """
    out = grid.copy()
    k = grid.shape[1]
    have = grid.sum(axis=1)
    short = np.nonzero((need > have) & (have >= 1))[0]
    if k < 2 or short.size == 0:
        return out
    far = np.iinfo(np.int64).max
    dist = np.full((short.size, k), far, np.int64)
    for s in range(k):
        active = np.nonzero(grid[:, s])[0]
        if active.size == 0:
            continue
        pos = np.searchsorted(active, short)
        left = active[np.clip(pos - 1, 0, active.size - 1)]
        right = active[np.clip(pos, 0, active.size - 1)]
        dist[:, s] = np.minimum(np.abs(short - left), np.abs(short - right))
    dist[grid[short]] = far  # already talking there
    order = np.argsort(dist, axis=1, kind="stable")
    missing = np.minimum(need[short] - have[short], k - have[short])
    for r in range(k):
        pick = (r < missing) & (dist[np.arange(short.size), order[:, r]] < far)
        out[short[pick], order[pick, r]] = True
    return out

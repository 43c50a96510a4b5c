"""Frame layouts: two participants side by side, streamed frame by frame.

Renderers yield frames one at a time; these helpers combine two such streams without
holding the video in memory.
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np


def even_frame(frame: np.ndarray) -> np.ndarray:
    """Crop one row/column if needed so H and W are even (yuv420p needs it). ``[H, W, 3]``."""
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]


def resize_to_height(frame: np.ndarray, height: int) -> np.ndarray:
    """Scale ``[H, W, 3]`` uint8 to ``[height, W', 3]`` keeping the aspect ratio (W' even)."""
    h, w = frame.shape[:2]
    if h == height:
        return frame
    import cv2  # lazy: only needed when the two renderers disagree on size

    new_w = max(2, int(round(w * height / h)) // 2 * 2)
    interp = cv2.INTER_AREA if height < h else cv2.INTER_LINEAR
    return cv2.resize(np.ascontiguousarray(frame), (new_w, height), interpolation=interp)


def hstack_frames(left: np.ndarray, right: np.ndarray, gap: int = 0,
                  gap_colour: tuple[int, int, int] = (0, 0, 0)) -> np.ndarray:
    """One frame with ``left`` and ``right`` side by side (right scaled to left's height).

    Args:
        left, right: ``[H, W, 3]`` uint8 RGB.
        gap: pixels of separator between them (rounded up to even).
        gap_colour: RGB of the separator.

    Returns:
        ``[H, W_left + gap + W_right, 3]`` uint8 with even H and W.
    """
    left = even_frame(np.asarray(left, dtype=np.uint8))
    right = even_frame(resize_to_height(np.asarray(right, dtype=np.uint8), left.shape[0]))
    parts = [left]
    gap += gap % 2
    if gap:
        parts.append(np.empty((left.shape[0], gap, 3), np.uint8))
        parts[-1][:] = gap_colour
    parts.append(right)
    return np.concatenate(parts, axis=1)


def side_by_side(left: Iterable[np.ndarray], right: Iterable[np.ndarray], gap: int = 0) -> Iterator[np.ndarray]:
    """Stream two frame sequences as one side-by-side sequence.

    Stops when either stream ends (both participants are rendered from motion of the
    same length, so they end together).
    """
    for a, b in zip(left, right):
        yield hstack_frames(a, b, gap=gap)

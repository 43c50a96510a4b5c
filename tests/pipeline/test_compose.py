"""Side-by-side composition of two frame streams."""

from __future__ import annotations

import numpy as np

from openinfp.pipeline.compose import even_frame, hstack_frames, side_by_side


def test_hstack_scales_right_to_left_height_and_keeps_even_size():
    left = np.full((100, 80, 3), 10, np.uint8)
    right = np.full((50, 31, 3), 200, np.uint8)
    out = hstack_frames(left, right, gap=3)
    assert out.shape[0] == 100 and out.shape[0] % 2 == 0 and out.shape[1] % 2 == 0
    assert out.shape[1] == 80 + 4 + 62
    assert (out[:, :80] == 10).all() and (out[:, 80:84] == 0).all() and (out[:, 84:] == 200).all()


def test_even_frame_crops_odd_sizes():
    assert even_frame(np.zeros((11, 7, 3), np.uint8)).shape == (10, 6, 3)


def test_side_by_side_streams_lazily():
    pulled = []

    def stream(value):
        for i in range(1000):
            pulled.append((value, i))
            yield np.full((4, 4, 3), value, np.uint8)

    out = side_by_side(stream(1), stream(2))
    first = next(out)
    assert first.shape == (4, 8, 3) and (first[:, :4] == 1).all() and (first[:, 4:] == 2).all()
    assert len(pulled) == 2  # nothing rendered ahead: bounded memory for long videos

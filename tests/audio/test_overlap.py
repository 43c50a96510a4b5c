"""Overlap count from the soft segmentation output, and the nearest-turn fill of missing voices."""

from __future__ import annotations

import numpy as np

from openinfp.audio.overlap import fill_by_proximity, overlap_count


def test_missing_second_voice_is_the_speaker_of_the_nearest_other_turn():
    # Speakers 0, 1, 2 talk alone in turn; frames 12-13 are to hold two voices but only
    # speaker 1 is marked: speaker 2 (starts at 15) is nearer than speaker 0 (ends at 4).
    grid = np.zeros((20, 3), bool)
    grid[0:5, 0] = True
    grid[5:15, 1] = True
    grid[15:20, 2] = True
    need = grid.sum(axis=1)
    need[12:14] = 2
    need[3] = 3  # asks for all three: the two others, nearest first
    out = fill_by_proximity(grid, need)
    assert out[12:14].tolist() == [[False, True, True]] * 2
    assert out[3].tolist() == [True, True, True]
    # Nothing else changes, and a frame with nobody marked is left alone (no turn to follow).
    changed = (out != grid).any(axis=1)
    assert set(np.nonzero(changed)[0].tolist()) == {3, 12, 13}
    silent = np.zeros((4, 2), bool)
    assert not fill_by_proximity(silent, np.full(4, 2)).any()


def test_one_speaker_grid_cannot_gain_a_second_voice():
    grid = np.ones((5, 1), bool)
    assert np.array_equal(fill_by_proximity(grid, np.full(5, 2)), grid)


def test_overlap_count_averages_the_windows_covering_a_frame():
    # Two windows of 4 frames overlapping on frames 2-3 of a 6-frame axis.
    overlap = np.array([[0.0, 0.9, 0.5, 0.5], [0.1, 0.2, 0.0, 0.9]], np.float32)
    count = overlap_count(overlap, np.array([0, 2]), 6, threshold=0.4)
    # means: 0, 0.9, (0.5+0.1)/2, (0.5+0.2)/2, 0, 0.9
    assert count.tolist() == [0, 2, 0, 0, 0, 2]

"""Relaxed closed lips drawn over a squeezed wide-open mouth (``closed_lips.py``)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openinfp.head.closed_lips import redraw_closed_lips, redraw_strength
from openinfp.head.landmarks import LIPS_INNER_LOWER, LIPS_INNER_UPPER, LIPS_OUTER

SKIN = (200, 150, 120)
TONGUE = (230, 120, 150)


def squeezed_mouth() -> tuple[np.ndarray, np.ndarray]:
    """A skin-coloured canvas ``[200, 200, 3]`` whose closed lip line (y = 100) still has a
    pink blob of tongue below it, as a squeezed scream leaves, and its landmarks ``[478, 2]``."""
    img = np.full((200, 200, 3), SKIN, np.uint8)
    cv2.ellipse(img, (100, 118), (22, 16), 0, 0, 360, TONGUE, -1)
    lm = np.full((478, 2), 100.0)
    xs = np.linspace(70, 130, len(LIPS_INNER_UPPER))
    lm[list(LIPS_INNER_UPPER)] = np.stack([xs, np.full_like(xs, 100.0)], 1)
    lm[list(LIPS_INNER_LOWER)] = lm[list(LIPS_INNER_UPPER)][::-1]
    t = np.linspace(0, 2 * np.pi, len(LIPS_OUTER), endpoint=False)
    lm[list(LIPS_OUTER)] = np.stack([100 - 32 * np.cos(t), 100 - 8 * np.sin(t)], 1)
    return img, lm


def test_redraw_erases_what_the_squeeze_left_and_paints_lips():
    img, lm = squeezed_mouth()
    lip = np.array([170, 80, 80], np.float32)
    out = redraw_closed_lips(img, lm, lip, px_per_iod=100.0, strength=1.0)
    tongue_left = np.all(np.abs(out.astype(int) - TONGUE) < 25, axis=2)
    assert tongue_left.sum() == 0
    # The lips: upper lip in shadow, lower lip lit, both lip-coloured (redder than skin).
    upper, lower = out[95, 100].astype(float), out[108, 100].astype(float)
    assert upper[0] - upper[2] > 40 and lower[0] - lower[2] > 40
    assert upper.sum() < lower.sum()
    # Far from the mouth nothing changes.
    assert np.array_equal(out[:60], img[:60]) and np.array_equal(out[170:], img[170:])


def test_a_beard_below_the_mouth_stays():
    img, lm = squeezed_mouth()
    img[126:160, 80:120] = (60, 50, 45)  # dark, no redder than the skin: a goatee
    out = redraw_closed_lips(img, lm, np.array([170, 80, 80], np.float32), px_per_iod=100.0, strength=1.0)
    assert np.abs(out[132:160, 85:115].astype(int) - img[132:160, 85:115]).max() <= 2


def test_no_redraw_at_zero_strength_and_strength_ramps_with_the_photo_gap():
    img, lm = squeezed_mouth()
    assert np.array_equal(redraw_closed_lips(img, lm, np.array([170, 80, 80.0]), 100.0, 0.0), img)
    gaps = np.linspace(0.0, 1.0, 21)
    s = [redraw_strength(g) for g in gaps]
    assert s[0] == 0.0 and redraw_strength(0.25) == 0.0 and redraw_strength(0.7) == 1.0
    assert np.all(np.diff(s) >= 0)
    assert redraw_strength(0.375) == pytest.approx(0.5)


def test_grey_brown_lips_on_coloured_skin_deepen_along_the_skins_hue():
    from openinfp.head.closed_lips import lip_like

    skin = np.array([200, 130, 80], np.float32)  # orange-brown skin
    ashy = np.array([152, 120, 110], np.float32)  # a grey-brown sampled lip: read as grey
    lip = lip_like(ashy, skin)
    assert np.ptp(lip) > np.ptp(ashy) + 10  # more saturated than sampled ...
    assert lip.mean() < skin.mean()  # ... and darker than the skin
    red = np.array([190, 60, 70], np.float32)  # lipstick: already saturated, kept
    np.testing.assert_allclose(lip_like(red, skin), red)
    grey = lip_like(np.array([90, 90, 90], np.float32), np.array([150, 150, 150], np.float32))
    assert np.ptp(grey) < 1e-3  # a grey photo stays grey
    sepia_skin = np.array([180, 150, 120], np.float32)
    sepia = lip_like(np.array([130, 110, 90], np.float32), sepia_skin)
    # sepia keeps its single tint: the channels keep the skin's order and proportions
    d, s = sepia - sepia.mean(), sepia_skin - sepia_skin.mean()
    assert np.allclose(d / np.linalg.norm(d), s / np.linalg.norm(s), atol=0.05)

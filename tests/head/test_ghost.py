"""The still background's plate continues the background behind the person, and the ghost
measure tells a flat band where the head was from the background continued."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from openinfp.head.background import composite_still, prepare_still_background
from openinfp.head.ghost import ghost

SIZE = 256


def _scene() -> tuple[np.ndarray, np.ndarray]:
    """A background of horizontal bands (a sill, a rail) with a skin-coloured disc as the
    person: canvas ``[S, S, 3]`` uint8 and person mask ``[S, S]`` float32."""
    rows = np.arange(SIZE)
    band = np.where((rows // 24) % 2 == 0, 200, 90).astype(np.uint8)
    canvas = np.repeat(np.repeat(band[:, None], SIZE, 1)[..., None], 3, 2).copy()
    mask = np.zeros((SIZE, SIZE), np.float32)
    cv2.circle(mask, (120, 128), 60, 1.0, -1, cv2.LINE_AA)
    canvas[mask > 0.5] = (190, 140, 120)
    return canvas, mask


def _moved(canvas: np.ndarray, mask: np.ndarray, dx: int) -> tuple[np.ndarray, np.ndarray]:
    """The person layer shifted ``dx`` px left: warped RGBA and its alpha."""
    alpha = np.round(mask * 255).astype(np.uint8)
    m = np.float32([[1, 0, dx], [0, 1, 0]])
    layered = cv2.warpAffine(np.dstack([canvas, alpha]), m, (SIZE, SIZE), borderMode=cv2.BORDER_REPLICATE)
    return layered, layered[..., 3].astype(np.float32) / 255


def test_plate_continues_the_bands_behind_the_person():
    canvas, mask = _scene()
    bg = prepare_still_background(canvas, mask)
    # Inside the disc, 10 px from its right edge: the band of that row, not a blend.
    for y in (70, 100, 128, 160, 185):
        expected = 200 if (y // 24) % 2 == 0 else 90
        assert abs(int(bg.plate[y, 170, 0]) - expected) <= 12, (y, bg.plate[y, 170])


def test_zero_motion_is_the_photo_exactly():
    canvas, mask = _scene()
    bg = prepare_still_background(canvas, mask)
    assert np.array_equal(composite_still(np.dstack([canvas, bg.alpha]), canvas, bg), canvas)


def test_ghost_scores_a_flat_band_and_not_the_background_continued():
    canvas, mask = _scene()
    bg = prepare_still_background(canvas, mask)
    warped, alpha = _moved(canvas, bg.mask, -20)
    frame = composite_still(warped, canvas, bg)
    clean = ghost(frame, canvas, bg.mask, alpha)
    # The same frame with the uncovered area painted flat grey (a smooth inpainting).
    flat = frame.copy()
    uncovered = (bg.mask > 0.02) & (alpha < 0.05)
    flat[uncovered] = 150
    ghosted = ghost(flat, canvas, bg.mask, alpha)
    # Measured: continued 0.0 / 2.7 (edge / colour: the bands' own sharp edges against a
    # blurred estimate), flat grey 30 / 29.
    assert clean.score <= 4.0, clean
    assert ghosted.edge >= 10.0 and ghosted.colour >= 10.0, ghosted
    assert ghost(canvas, canvas, bg.mask, bg.mask).score == 0.0  # nothing uncovered


def test_ghost_rejects_mismatched_shapes():
    canvas, mask = _scene()
    with pytest.raises(ValueError, match="shapes differ"):
        ghost(canvas, canvas[:-1], mask, mask)

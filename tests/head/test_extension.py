"""The fill past the canvas edge (``openinfp.head.extension``): the photo inside, a short
mirror at the edge, then the mirror's blurred colours with its grain: no copy of a
feature at the edge, no stripes."""

from __future__ import annotations

import cv2
import numpy as np

from openinfp.head.extension import FADE, KEEP, extend_canvas


def _photo(size: int = 256) -> np.ndarray:
    """Grainy mid-grey with a bright disc cut by the left edge (an earring, a glasses arm at a
    tight crop's edge; a feature wider than :data:`BLUR` keeps its colour past the edge)."""
    rng = np.random.default_rng(0)
    img = np.clip(120 + rng.normal(0, 12, (size, size, 3)), 0, 255).astype(np.uint8)
    cv2.circle(img, (size // 25, size // 2), size // 25, (240, 240, 240), -1)
    return img


def test_inside_is_the_photo_and_the_edge_is_continuous():
    img = _photo()
    ext, pad = extend_canvas(img)
    assert ext.shape == (img.shape[0] + 2 * pad, img.shape[1] + 2 * pad, 3)
    np.testing.assert_array_equal(ext[pad:-pad, pad:-pad], img)
    # The first pixel past the edge is (nearly) the mirror: no seam at the edge.
    mirrored = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    assert np.abs(ext[:, pad - 1].astype(int) - mirrored[:, pad - 1].astype(int)).mean() < 3


def test_a_feature_at_the_edge_is_not_copied_past_it():
    img = _photo()
    size = img.shape[0]
    ext, pad = extend_canvas(img)
    mirrored = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    # Where the plain mirror draws the disc a second time, past the fade:
    depth = int(np.ceil((KEEP + FADE) * size)) + 2
    rows = slice(pad + size // 2 - 5, pad + size // 2 + 5)
    cols = slice(pad - depth - 8, pad - depth)
    assert mirrored[rows, cols].mean() > 230  # the mirror copies the disc
    assert ext[rows, cols].mean() < 190  # the fill does not: blurred into the grey around it


def test_the_fill_keeps_the_photos_grain_in_both_directions():
    img = _photo()
    size = img.shape[0]
    ext, pad = extend_canvas(img)
    g = cv2.cvtColor(ext, cv2.COLOR_RGB2GRAY).astype(np.float32)
    depth = int(np.ceil((KEEP + FADE) * size)) + 2
    area = g[pad + 10:pad + size // 3, 4:pad - depth]  # past the fade, away from the disc
    gx = np.abs(cv2.Sobel(area, cv2.CV_32F, 1, 0)).mean()
    gy = np.abs(cv2.Sobel(area, cv2.CV_32F, 0, 1)).mean()
    assert min(gx, gy) / max(gx, gy) > 0.8  # as rough across as along: no stripes
    own = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
    assert gx > 0.5 * np.abs(cv2.Sobel(own, cv2.CV_32F, 1, 0)).mean()  # grain, not a flat smear


def test_alpha_is_appended_and_mirrored():
    img = _photo(64)
    alpha = np.zeros((64, 64), np.uint8)
    alpha[:, :10] = 255
    ext, pad = extend_canvas(img, alpha)
    assert ext.shape == (64 + 2 * pad, 64 + 2 * pad, 4)
    np.testing.assert_array_equal(ext[..., 3], cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_REFLECT_101))
    np.testing.assert_array_equal(ext[..., :3], extend_canvas(img)[0])

"""Does a frame show where the head was? A measure of the ghost outline.

When the head moves away from where it was in the photo, the still background must be
drawn in the area it uncovers (``background.py``). If that fill does not continue the
background around it (a flat or paler band where the background has a sill, a ceiling
edge, a texture), the old outline of the head shows as an edge in the middle of the
background: a ghost of the head where it had been (seen on turned real photos: a pale
arc beside a cheek, a grey strip beside the hair).

Measured without looking at how the fill was made, two ways (gray levels, 0 or below: the
ghost cannot be told from the background):

- *edge*: on the old outline where the head has gone, the frame's gradient across the
  outline (along its normal: an edge parallel to the old outline) minus the photo's own
  gradient across the same direction a little farther out, in its background (90th
  percentile over the outline: a ghost may show along part of it only);
- *colour*: over the uncovered area beside the still background, how far the frame is
  from the local colour of that background (a normalised blur of the visible
  background), minus the same for the photo's own background beside it (its texture).

A flat paler band (a fill that is too smooth) scores on *colour*; bands and lines of the
background that stop at the old outline score on *edge*.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SEAM_PX = 0.006
"""Width of the old outline scored (share of the canvas side, 3 px at 512)."""
BAND_PX = 0.03
"""How far out the background is compared (share of the canvas side, 15 px at 512)."""


def _disc(r: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))


@dataclass(frozen=True)
class Ghost:
    """Ghost scores of one frame (module docstring; gray levels)."""

    edge: float
    colour: float

    @property
    def score(self) -> float:
        """The larger of the two."""
        return max(self.edge, self.colour)


def ghost(frame: np.ndarray, canvas: np.ndarray, mask: np.ndarray, alpha: np.ndarray) -> Ghost:
    """Both ghost scores of one frame.

    Args:
        frame: ``[H, W, 3]`` uint8 rendered frame.
        canvas: ``[H, W, 3]`` uint8 the photo as framed (the zero-motion frame).
        mask: ``[H, W]`` float32 person alpha on the canvas (``StillBackground.mask``).
        alpha: ``[H, W]`` float32 where the person lands in this frame (``person_alpha``).

    Returns:
        :class:`Ghost`; a score is 0.0 where too little is uncovered to measure it.
    """
    if frame.shape != canvas.shape or mask.shape != alpha.shape or mask.shape != frame.shape[:2]:
        raise ValueError(f"shapes differ: frame {frame.shape}, canvas {canvas.shape}, mask {mask.shape}, "
                         f"alpha {alpha.shape}")
    return Ghost(_edge(frame, canvas, mask, alpha), _colour(frame, canvas, mask, alpha))


def _gradients(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3) / 8.0, cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3) / 8.0


def _edge(frame: np.ndarray, canvas: np.ndarray, mask: np.ndarray, alpha: np.ndarray) -> float:
    side = max(mask.shape)
    r = max(1, round(SEAM_PX * side))
    soft = cv2.GaussianBlur(mask.astype(np.float32), (0, 0), r)
    nx = cv2.Sobel(soft, cv2.CV_32F, 1, 0, ksize=3)
    ny = cv2.Sobel(soft, cv2.CV_32F, 0, 1, ksize=3)
    norm = np.hypot(nx, ny)
    now = cv2.dilate((alpha > 0.05).astype(np.uint8), _disc(2 * r)).astype(bool)
    seam = (soft > 0.05) & (soft < 0.95) & ~now & (norm > 1e-4)
    if seam.sum() < 10 * r:
        return 0.0
    ys, xs = np.nonzero(seam)
    n = np.stack([nx[seam], ny[seam]], 1) / norm[seam][:, None]  # [K, 2] (x, y), into the person

    def across(image: np.ndarray, shift: float) -> np.ndarray:
        gx, gy = _gradients(image)
        px = np.clip(np.round(xs - shift * n[:, 0]), 0, mask.shape[1] - 1).astype(int)
        py = np.clip(np.round(ys - shift * n[:, 1]), 0, mask.shape[0] - 1).astype(int)
        return np.abs(gx[py, px] * n[:, 0] + gy[py, px] * n[:, 1])

    d = across(frame, 0.0) - across(canvas, max(2.0, BAND_PX * side))
    return float(np.percentile(d, 90))


def _colour(frame: np.ndarray, canvas: np.ndarray, mask: np.ndarray, alpha: np.ndarray) -> float:
    side = max(mask.shape)
    sigma = max(1.0, SEAM_PX * side * 2.5)
    band_px = max(2, round(BAND_PX * side))
    background = ((mask < 0.02) & (alpha < 0.02)).astype(np.float32)
    support = cv2.GaussianBlur(background, (0, 0), sigma)

    def local_diff(image: np.ndarray, where: np.ndarray) -> float:
        img = image.astype(np.float32)
        est = cv2.GaussianBlur(img * background[..., None], (0, 0), sigma) / np.maximum(support, 1e-3)[..., None]
        return float(np.abs(img - est).mean(axis=2)[where].mean())

    near_bg = cv2.dilate(background.astype(np.uint8), _disc(band_px)).astype(bool) & (support > 0.05)
    uncovered = (mask > 0.5) & (alpha < 0.05) & near_bg
    if uncovered.sum() < band_px * band_px:
        return 0.0
    beside = cv2.dilate(uncovered.astype(np.uint8), _disc(band_px)).astype(bool) & (background > 0)
    own = local_diff(canvas, beside) if beside.any() else 0.0
    return local_diff(frame, uncovered) - own

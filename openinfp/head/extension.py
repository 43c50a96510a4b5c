"""What the warp shows past the canvas edge: the photo mirrored for a few pixels, fading
into a blurred copy of that mirror farther out.

A head at the edge of a tight photo (an ear or cheek cut by the edge) turned away from
that edge samples the canvas beyond it. Edge replication draws stripes; a plain mirror
draws a second ear, a second eye-glass arm: whatever lies at the edge, reflected. Close
to the edge the mirror keeps the photo continuous (hair, background), and deeper in only
the colours of the mirrored strip should remain: blurred, nothing reads as a copy of the
feature at the edge.
"""

from __future__ import annotations

import cv2
import numpy as np

PAD = 0.2
"""Depth of the prepared extension, as a share of the canvas side (past it the warp reads
the extension's own edge repeated, which is blurred flat by then)."""
KEEP = 0.002
"""Depth (share of the canvas side) over which the mirror is kept as it is (6 px at 512)."""
FADE = 0.02
"""Depth (share of the canvas side) over which the mirror fades into its blurred copy."""
BLUR = 0.05
"""Gaussian sigma of the blurred copy, as a share of the canvas side (26 px at 512: an ear
or a glasses arm at the edge blurs into the colours around it)."""

GRAIN = 0.004
"""Sigma (share of the canvas side, 2 px at 512) below which the mirror's detail is kept on
the blurred copy."""


def extend_canvas(image: np.ndarray, alpha: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """``image`` ``[H, W, C]`` uint8 with an extension of ``pad`` px on every side:
    ``[H + 2 pad, W + 2 pad, C]``, and ``pad``. Inside, the image as it is; outside, its
    mirror (as ``cv2.BORDER_REFLECT_101``) for :data:`KEEP`, fading over :data:`FADE` into
    the mirror blurred by :data:`BLUR` (module docstring). With ``alpha`` ``[H, W]`` uint8
    (the person mask), it is appended as a last channel, mirrored past the edge as the
    renderer's ``person_alpha`` reads it: ``[H + 2 pad, W + 2 pad, C + 1]``."""
    h, w = image.shape[:2]
    side = max(h, w)
    pad = max(2, int(round(PAD * side)))
    mirrored = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)
    sigma = max(1.0, BLUR * side)
    mirrored_f = mirrored.astype(np.float32)
    blurred = cv2.GaussianBlur(mirrored_f, (0, 0), sigma, borderType=cv2.BORDER_REFLECT_101)
    # The mirror's fine grain (skin pores, hair strands, noise) on the blurred colours:
    # no shape is copied, and the fill is as rough across as along, like the photo.
    grain = mirrored_f - cv2.GaussianBlur(mirrored_f, (0, 0), max(0.5, GRAIN * side), borderType=cv2.BORDER_REFLECT_101)
    blurred = blurred + grain
    # Depth of each pixel past the canvas edge (0 inside), per axis, the larger one.
    ys = np.abs(np.arange(-pad, h + pad) - np.clip(np.arange(-pad, h + pad), 0, h - 1)).astype(np.float32)
    xs = np.abs(np.arange(-pad, w + pad) - np.clip(np.arange(-pad, w + pad), 0, w - 1)).astype(np.float32)
    depth = np.maximum(ys[:, None], xs[None, :])
    t = np.clip((depth - KEEP * side) / max(1.0, FADE * side), 0.0, 1.0)
    t = t * t * (3.0 - 2.0 * t)  # smoothstep: no visible seam where the fade starts or ends
    if image.ndim == 3:
        t = t[..., None]
    out = np.clip(mirrored_f * (1.0 - t) + blurred * t + 0.5, 0, 255).astype(np.uint8)
    if alpha is not None:
        out = np.dstack([out, cv2.copyMakeBorder(alpha, pad, pad, pad, pad, cv2.BORDER_REFLECT_101)])
    return out, pad

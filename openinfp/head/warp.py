"""Fast dense image warp driven by sparse control-point displacements.

Built once per source image (:class:`ControlWarp`): a Delaunay triangulation of the
control points on the source and, for every node of a coarse grid (every ``step``
pixels), the barycentric weights of the triangle it falls in. Per frame the control
displacements become a coarse *forward* displacement field (one sparse mat-vec), which
is inverted on the coarse grid by fixed-point iteration (cheap: a few thousand nodes),
upsampled bilinearly, and applied with a single ``cv2.remap``. Nothing is rasterised in
Python, so a 512x512 frame takes a few milliseconds.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import sparse
from scipy.spatial import Delaunay


class ControlWarp:
    """Backward-mapping warp of a fixed ``(height, width)`` canvas.

    Args:
        points: ``[N, 2]`` control point positions on the source canvas (x, y pixels).
            Their convex hull should cover the canvas (add canvas corners).
        height, width: canvas size in pixels.
        step: coarse grid spacing in pixels (smaller = sharper, slower).
        iterations: fixed-point iterations of the inversion.
    """

    def __init__(self, points: np.ndarray, height: int, width: int, step: int = 4, iterations: int = 4) -> None:
        self.height, self.width, self.step, self.iterations = height, width, step, iterations
        self.points = np.asarray(points, np.float64)
        self.grid_w = -(-width // step)
        self.grid_h = -(-height // step)
        # Grid node k sits where cv2.resize (INTER_LINEAR, x step) samples it exactly.
        off = (step - 1) / 2.0
        gx = np.arange(self.grid_w) * step + off
        gy = np.arange(self.grid_h) * step + off
        self.grid = np.stack(np.meshgrid(gx, gy), -1).astype(np.float32)  # [gh, gw, 2]
        self.weights = self._barycentric_matrix(self.grid.reshape(-1, 2))
        self._pixel_grid = np.stack(np.meshgrid(np.arange(width, dtype=np.float32),
                                                np.arange(height, dtype=np.float32)), -1)
        self._offset = off

    def _barycentric_matrix(self, query: np.ndarray) -> sparse.csr_matrix:
        tri = Delaunay(self.points)
        simplex = tri.find_simplex(query)
        if np.any(simplex < 0):
            raise ValueError("control points do not cover the canvas; add its corners")
        trans = tri.transform[simplex]  # [Q, 3, 2]: affine map to barycentric coords
        bary2 = np.einsum("qij,qj->qi", trans[:, :2], query - trans[:, 2])
        bary = np.concatenate([bary2, 1.0 - bary2.sum(1, keepdims=True)], axis=1)
        rows = np.repeat(np.arange(len(query)), 3)
        cols = tri.simplices[simplex].reshape(-1)
        return sparse.csr_matrix((bary.reshape(-1), (rows, cols)), shape=(len(query), len(self.points)))

    def backward_map(self, displacements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-resolution ``cv2.remap`` maps for control ``displacements`` ``[N, 2]``.

        A source pixel at a control point ``p`` moves to ``p + displacement``; the maps
        give, for every output pixel, where to sample the source.
        """
        gh, gw = self.grid_h, self.grid_w
        fwd = (self.weights @ np.asarray(displacements, np.float64)).astype(np.float32).reshape(gh, gw, 2)
        # Invert q + F(q) = p on the grid: q <- p - F(q), sampling F bilinearly.
        q = self.grid - fwd
        for _ in range(self.iterations):
            gxq = (q[..., 0] - self._offset) / self.step
            gyq = (q[..., 1] - self._offset) / self.step
            f_at_q = cv2.remap(fwd, gxq, gyq, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            q = self.grid - f_at_q
        back = q - self.grid  # backward offset at grid nodes
        full = cv2.resize(back, (gw * self.step, gh * self.step), interpolation=cv2.INTER_LINEAR)
        full = full[: self.height, : self.width] + self._pixel_grid
        return full[..., 0], full[..., 1]

    def apply(self, image: np.ndarray, displacements: np.ndarray) -> np.ndarray:
        """Warp ``image`` ``[H, W, C]`` so control points move by ``displacements`` ``[N, 2]``."""
        map_x, map_y = self.backward_map(displacements)
        return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

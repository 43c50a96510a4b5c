"""Low-poly spheres and tubes, instanced in batches (for the skeleton renderer and
the synthetic SMPL-X model). Every template is closed or open but always wound
counter-clockwise seen from outside."""

from __future__ import annotations

import math
from functools import lru_cache

import torch
import torch.nn.functional as F


@lru_cache(maxsize=4)
def icosphere(level: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit sphere by subdividing an icosahedron ``level`` times: ``(vertices [V, 3], faces [F, 3])``."""
    t = (1.0 + math.sqrt(5.0)) / 2.0
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t), (0, 1, -t),
             (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
             (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5), (2, 4, 11),
             (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    v = [tuple(float(c) for c in p) for p in verts]
    for _ in range(level):
        cache: dict[tuple[int, int], int] = {}

        def mid(a: int, b: int) -> int:
            key = (min(a, b), max(a, b))
            if key not in cache:
                cache[key] = len(v)
                v.append(tuple((v[a][i] + v[b][i]) / 2.0 for i in range(3)))
            return cache[key]

        new = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new
    vt = F.normalize(torch.tensor(v, dtype=torch.float32), dim=-1)
    ft = torch.tensor(faces, dtype=torch.long)
    return vt, _orient_outward(vt, ft, torch.zeros(3))


@lru_cache(maxsize=4)
def tube(sides: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Open unit tube along +z: ring 0 at z=0, ring 1 at z=1, radius 1:
    ``(vertices [2*sides, 3], faces [2*sides, 3])``."""
    ang = torch.arange(sides, dtype=torch.float32) * (2 * math.pi / sides)
    ring = torch.stack([torch.cos(ang), torch.sin(ang)], dim=-1)
    verts = torch.cat([torch.cat([ring, torch.zeros(sides, 1)], 1), torch.cat([ring, torch.ones(sides, 1)], 1)])
    faces = []
    for k in range(sides):
        k1 = (k + 1) % sides
        faces += [(k, k1, sides + k1), (k, sides + k1, sides + k)]
    ft = torch.tensor(faces, dtype=torch.long)
    centers = verts[ft].mean(1)
    axis_points = torch.stack([torch.zeros(len(ft)), torch.zeros(len(ft)), centers[:, 2]], 1)
    return verts, _orient_outward(verts, ft, axis_points)


def _orient_outward(verts: torch.Tensor, faces: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
    """Flip faces whose normal points towards ``inside`` (a point or one per face)."""
    tri = verts[faces]
    normal = torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    outward = ((tri.mean(1) - inside) * normal).sum(-1) >= 0
    return torch.where(outward[:, None], faces, faces[:, [0, 2, 1]])


def orthonormal_frames(direction: torch.Tensor) -> torch.Tensor:
    """Right-handed frames ``[..., 3, 3]`` whose third column is ``direction`` ``[..., 3]`` (normalised)."""
    d = F.normalize(direction, dim=-1, eps=1e-9)
    ref = torch.zeros_like(d)
    use_x = d[..., 0].abs() < 0.9
    ref[..., 0] = use_x.to(d.dtype)
    ref[..., 1] = (~use_x).to(d.dtype)
    a = F.normalize(torch.linalg.cross(ref, d), dim=-1, eps=1e-9)
    b = torch.linalg.cross(d, a)
    return torch.stack([a, b, d], dim=-1)


def instance_tubes(start: torch.Tensor, end: torch.Tensor, radius: torch.Tensor,
                   sides: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Tubes from ``start`` to ``end`` (``[..., N, 3]``) with ``radius`` ``[N]``:
    ``(vertices [..., N * 2 * sides, 3], faces [N * 2 * sides, 3])``."""
    tv, tf = tube(sides)
    frame = orthonormal_frames(end - start)  # [..., N, 3, 3]
    length = torch.linalg.norm(end - start, dim=-1)  # [..., N]
    scale = torch.stack([radius.expand_as(length), radius.expand_as(length), length], dim=-1)  # [..., N, 3]
    local = tv * scale[..., None, :]  # [..., N, S, 3]
    verts = start[..., None, :] + (frame[..., None, :, :] @ local[..., None])[..., 0]
    n = start.shape[-2]
    faces = (tf[None] + (torch.arange(n) * tv.shape[0])[:, None, None]).reshape(-1, 3)
    return verts.reshape(*start.shape[:-2], -1, 3), faces


def instance_spheres(center: torch.Tensor, radius: torch.Tensor, level: int = 1,
                     rotation: torch.Tensor | None = None,
                     axes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Spheres (or ellipsoids with per-axis ``axes`` ``[N, 3]`` and ``rotation``
    ``[..., N, 3, 3]``) at ``center`` ``[..., N, 3]``: ``(vertices [..., N*V, 3], faces [N*F, 3])``."""
    sv, sf = icosphere(level)
    scale = radius[:, None].expand(-1, 3) if axes is None else axes
    local = sv * scale[:, None, :]  # [N, V, 3]
    if rotation is not None:
        local = (rotation[..., None, :, :] @ local[..., None])[..., 0]
    verts = center[..., None, :] + local
    n = center.shape[-2]
    faces = (sf[None] + (torch.arange(n) * sv.shape[0])[:, None, None]).reshape(-1, 3)
    return verts.reshape(*center.shape[:-2], -1, 3), faces

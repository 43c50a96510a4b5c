"""A software rasterizer in PyTorch: z-buffer, Gouraud (smooth) shading, no GPU.

The renderer draws triangle meshes seen by a pinhole :class:`Camera`:

1. vertices are projected to pixels; back faces, faces behind the camera and faces
   outside the image are dropped;
2. scanline conversion, vectorised over all faces at once: for every (face, pixel
   row) the span of pixel centres inside the face is solved from its three edge
   functions, and only those pixels are expanded;
3. a z-buffer keeps the nearest face per pixel (``scatter_reduce`` on ``1/depth``,
   which is linear in screen space, so the depth test is perspective-correct);
4. colours are shaded per vertex (ambient + two directional lights + a soft
   specular) and interpolated across each face with perspective-correct barycentrics.

Coordinates: world as in :mod:`openinfp.body.skeleton` (y up). Pixel ``(x, y)`` has
its centre at ``(x + 0.5, y + 0.5)``, x to the right, y down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

_NEAR = 0.05


@dataclass
class Mesh:
    """A batch of posed triangle meshes sharing one topology, in world coordinates.

    Attributes:
        vertices: ``[B, V, 3]`` float32 positions (metres), one mesh per frame
            (``[V, 3]`` is accepted for a single mesh).
        faces: ``[F, 3]`` int64 vertex indices, counter-clockwise seen from outside.
        colors: ``[V, 3]`` or ``[B, V, 3]`` float32 albedo in [0, 1].
        normals: optional ``[B, V, 3]`` unit vertex normals (computed from the
            geometry when ``None``).
    """

    vertices: torch.Tensor
    faces: torch.Tensor
    colors: torch.Tensor
    normals: Optional[torch.Tensor] = None

    def __post_init__(self) -> None:
        if self.vertices.ndim == 2:
            self.vertices = self.vertices[None]
        if self.normals is not None and self.normals.ndim == 2:
            self.normals = self.normals[None]

    @property
    def batch(self) -> int:
        return int(self.vertices.shape[0])

    def transformed(self, rotation: torch.Tensor, translation: torch.Tensor) -> "Mesh":
        """The meshes moved rigidly: ``v -> rotation @ v + translation``."""
        rot = rotation.to(self.vertices)
        normals = None if self.normals is None else self.normals @ rot.T
        return Mesh(self.vertices @ rot.T + translation.to(self.vertices), self.faces, self.colors, normals)

    def frame(self, index: int) -> "Mesh":
        """The mesh of one frame of the batch."""
        colors = self.colors if self.colors.ndim == 2 else self.colors[index]
        normals = None if self.normals is None else self.normals[index:index + 1]
        return Mesh(self.vertices[index:index + 1], self.faces, colors, normals)


def take(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[index]`` along dim 0 via ``index_select`` on a 2-D view (several times
    faster than advanced indexing on CPU): ``[N, ...]``, ``[M]`` -> ``[M, ...]``."""
    flat = values.reshape(values.shape[0], math.prod(values.shape[1:])) if values.ndim != 1 else values
    return flat.index_select(0, index).reshape(index.shape[0], *values.shape[1:])


def merge_meshes(meshes: Sequence[Mesh]) -> Mesh:
    """One mesh batch holding all of ``meshes`` side by side (same batch size; faces re-indexed)."""
    batch = max(m.batch for m in meshes)
    verts, faces, colors, normals = [], [], [], []
    offset = 0
    for m in meshes:
        verts.append(m.vertices.expand(batch, -1, -1))
        faces.append(m.faces + offset)
        colors.append(m.colors.expand(batch, -1, -1) if m.colors.ndim == 3 else m.colors[None].expand(batch, -1, -1))
        normals.append(m.normals.expand(batch, -1, -1) if m.normals is not None
                       else vertex_normals(m.vertices, m.faces).expand(batch, -1, -1))
        offset += m.vertices.shape[1]
    return Mesh(torch.cat(verts, 1), torch.cat(faces), torch.cat(colors, 1), torch.cat(normals, 1))


@dataclass(frozen=True)
class Camera:
    """A pinhole camera looking from ``eye`` at ``target``.

    Attributes:
        eye, target: world positions (metres).
        fov_y: vertical field of view in degrees.
        width, height: image size in pixels.
        up: world direction that appears up in the image.
    """

    eye: tuple[float, float, float]
    target: tuple[float, float, float]
    fov_y: float
    width: int
    height: int
    up: tuple[float, float, float] = (0.0, 1.0, 0.0)

    def basis(self) -> torch.Tensor:
        """``[3, 3]`` rows: the camera's right, up and forward (viewing) directions in the world."""
        eye = torch.tensor(self.eye, dtype=torch.float32)
        target = torch.tensor(self.target, dtype=torch.float32)
        forward = F.normalize(target - eye, dim=0)
        right = F.normalize(torch.linalg.cross(forward, torch.tensor(self.up, dtype=torch.float32)), dim=0)
        up = torch.linalg.cross(right, forward)
        return torch.stack([right, up, forward])

    @property
    def focal(self) -> float:
        """Focal length in pixels."""
        return (self.height / 2.0) / math.tan(math.radians(self.fov_y) / 2.0)

    def to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """World ``[..., 3]`` -> camera ``[..., 3]`` (x right, y up, z = depth ahead)."""
        basis = self.basis().to(points)
        return (points - torch.tensor(self.eye, dtype=torch.float32).to(points)) @ basis.T

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """World ``[..., 3]`` -> (pixel coordinates ``[..., 2]`` (x right, y down), depth ``[...]``)."""
        cam = self.to_camera(points)
        depth = cam[..., 2]
        z = depth.clamp_min(1e-6)
        x = self.width / 2.0 + self.focal * cam[..., 0] / z
        y = self.height / 2.0 - self.focal * cam[..., 1] / z
        return torch.stack([x, y], dim=-1), depth


def _sum3(x: torch.Tensor) -> torch.Tensor:
    """``x.sum(-1)`` for a last dimension of 3, written out (torch reduces tiny
    dimensions slowly on CPU)."""
    return x[..., 0] + x[..., 1] + x[..., 2]


def batch_faces(faces: torch.Tensor, batch: int, num_vertices: int) -> torch.Tensor:
    """Faces of ``batch`` meshes stacked into one vertex list: ``[F, 3]`` -> ``[B * F, 3]``."""
    return (faces[None] + (torch.arange(batch) * num_vertices)[:, None, None]).reshape(-1, 3)


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted unit vertex normals: ``[B, V, 3]`` (or ``[V, 3]``) -> same shape."""
    shape = vertices.shape
    verts = vertices.reshape(-1, shape[-2], 3)
    B, V = verts.shape[0], verts.shape[1]
    flat_faces = batch_faces(faces, B, V)
    flat = verts.reshape(B * V, 3)
    tri = take(flat, flat_faces.reshape(-1)).reshape(-1, 3, 3)
    face_n = torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = torch.zeros_like(flat)
    normals.index_add_(0, flat_faces.reshape(-1), face_n.repeat_interleave(3, dim=0))
    return F.normalize(normals, dim=-1, eps=1e-12).reshape(shape)


def shade_vertices(normals: torch.Tensor, albedo: torch.Tensor, camera: Camera) -> torch.Tensor:
    """Lit vertex colours in [0, 1] from unit normals ``[..., V, 3]`` and albedo
    (broadcastable): ambient + key and fill lights (fixed relative to the camera, so
    every view is lit alike) + a soft specular highlight."""
    basis = camera.basis().to(normals)  # rows: right, up, forward
    to_eye = -basis[2]
    key = F.normalize(-0.45 * basis[0] + 0.55 * basis[1] + to_eye, dim=0)
    fill = F.normalize(0.7 * basis[0] + 0.1 * basis[1] + to_eye, dim=0)
    half = F.normalize(key + to_eye, dim=0)
    dots = (normals @ torch.stack([key, fill, half], dim=1)).clamp_min(0.0)  # [..., V, 3]
    light = 0.28 + 0.62 * dots[..., 0] + 0.22 * dots[..., 1]
    h2 = dots[..., 2] * dots[..., 2]
    h8 = (h2 * h2) * (h2 * h2)
    spec = h8 * h8 * h8  # (n . half) ** 24, by squaring (pow is slow on CPU)
    return (albedo * light[..., None] + 0.12 * spec[..., None]).clamp(0.0, 1.0)


def background_image(width: int, height: int, top: Sequence[float] = (0.93, 0.94, 0.96),
                     bottom: Sequence[float] = (0.72, 0.74, 0.78)) -> torch.Tensor:
    """A vertical gradient ``[H, W, 3]`` float in [0, 1]."""
    t = torch.linspace(0.0, 1.0, height)[:, None, None]
    img = torch.tensor(top) * (1 - t) + torch.tensor(bottom) * t
    return img.expand(height, width, 3).clone()


@dataclass
class Fragments:
    """Result of :func:`rasterize` for a batch of ``B`` images, drawn pixels only.

    Attributes:
        pixels: ``[n]`` flat indices ``b * H * W + y * W + x`` of the drawn pixels.
        face: ``[n]`` nearest face at each drawn pixel, indexing the batch's stacked
            faces (:func:`batch_faces`): ``b * F + f``.
        bary: ``[n, 3]`` perspective-correct barycentric weights of its corners.
        batch, width, height: number and size of the images.
    """

    pixels: torch.Tensor
    face: torch.Tensor
    bary: torch.Tensor
    batch: int
    width: int
    height: int

    @property
    def mask(self) -> torch.Tensor:
        """Bool ``[B, H, W]``: where a face was drawn."""
        m = torch.zeros(self.batch * self.height * self.width, dtype=torch.bool)
        m[self.pixels] = True
        return m.reshape(self.batch, self.height, self.width)


def rasterize(vertices: torch.Tensor, faces: torch.Tensor, camera: Camera, cull_backfaces: bool = True) -> Fragments:
    """Z-buffered visibility of a batch of meshes (one image each).

    Args:
        vertices: ``[B, V, 3]`` (or ``[V, 3]``) world positions.
        faces: ``[F, 3]`` int64, counter-clockwise seen from outside.
        camera: the view; its ``width``/``height`` set the image size.
        cull_backfaces: drop faces turned away from the camera.

    Returns:
        :class:`Fragments` (nearest face and barycentrics per drawn pixel).
    """
    W, H = camera.width, camera.height
    verts = vertices.reshape(-1, vertices.shape[-2], 3).float()
    B, V = verts.shape[0], verts.shape[1]
    empty = Fragments(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), torch.zeros(0, 3), B, W, H)
    num_faces = faces.shape[0]
    xy, depth = camera.project(verts.reshape(B * V, 3))
    flat_faces = batch_faces(faces, B, V).reshape(-1)
    tri_xy = take(xy, flat_faces).reshape(-1, 3, 2)  # [B*F, 3, 2]
    tri_z = take(depth, flat_faces).reshape(-1, 3)  # [B*F, 3]
    x0, y0 = tri_xy[:, 0, 0], tri_xy[:, 0, 1]
    x1, y1 = tri_xy[:, 1, 0], tri_xy[:, 1, 1]
    x2, y2 = tri_xy[:, 2, 0], tri_xy[:, 2, 1]
    area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
    # In y-down pixel coordinates a face that is counter-clockwise seen from the
    # camera has negative area; cull those turned away and those behind the camera first.
    keep = (area < 0) if cull_backfaces else (area != 0)
    keep &= tri_z.amin(dim=1) > _NEAR
    fid = keep.nonzero()[:, 0]
    if fid.numel() == 0:
        return empty
    tri_xy = take(tri_xy, fid)
    # Pixels whose centres fall inside the bounding box, clipped to the image.
    lo = torch.ceil(tri_xy.amin(dim=1) - 0.5)  # [n, 2] (x, y)
    hi = torch.floor(tri_xy.amax(dim=1) - 0.5)
    lo[:, 0].clamp_(min=0)
    lo[:, 1].clamp_(min=0)
    hi[:, 0].clamp_(max=W - 1)
    hi[:, 1].clamp_(max=H - 1)
    inside = ((lo <= hi).all(dim=1)).nonzero()[:, 0]
    if inside.numel() == 0:
        return empty
    fid, tri_xy, lo, hi = take(fid, inside), take(tri_xy, inside), take(lo, inside), take(hi, inside)
    x0, y0 = tri_xy[:, 0, 0], tri_xy[:, 0, 1]
    x1, y1 = tri_xy[:, 1, 0], tri_xy[:, 1, 1]
    x2, y2 = tri_xy[:, 2, 0], tri_xy[:, 2, 1]
    inv_area = (1.0 / take(area, fid))[:, None]
    # Edge functions w_i(p) = a_i * px + b_i * py + c_i, normalised by the area so
    # that inside the face they are the barycentric weights (all >= 0).
    ea = torch.stack([y1 - y2, y2 - y0, y0 - y1], dim=1) * inv_area  # [n, 3]
    eb = torch.stack([x2 - x1, x0 - x2, x1 - x0], dim=1) * inv_area
    ec = torch.stack([x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0], dim=1) * inv_area
    # 1/depth is linear in screen space: one plane per face, invz = pa * x + pb * y + pc.
    inv_z = 1.0 / take(tri_z, fid)  # [n, 3]
    pa, pb, pc = (_sum3(e * inv_z) for e in (ea, eb, ec))
    # Where each edge crosses a row, x = s * y + t. Edges with a > 0 bound the span
    # from the left, a < 0 from the right; horizontal ones never cut a row inside the
    # face's own y-range. A fourth "edge" per side is the (clipped) bounding box.
    big = float(4 * (W + H))
    safe_a = torch.where(ea == 0, torch.ones_like(ea), ea)
    slope, offset = -eb / safe_a, -ec / safe_a
    left, right = ea > 0, ea < 0
    zero = torch.zeros_like(slope[:, :1])
    s_lo = torch.cat([torch.where(left, slope, 0.0), zero], dim=1)
    t_lo = torch.cat([torch.where(left, offset, -big), lo[:, :1]], dim=1)
    s_hi = torch.cat([torch.where(right, slope, 0.0), zero], dim=1)
    t_hi = torch.cat([torch.where(right, offset, big), hi[:, :1] + 0.5], dim=1)
    span = torch.cat([s_lo, t_lo, s_hi, t_hi], dim=1)  # [n, 16]

    # Scanlines: one entry per (face, pixel row) of its bounding box; its span of
    # pixel centres comes from the edges, so only covered pixels are expanded.
    ymin = lo[:, 1].long()
    bh = hi[:, 1].long() - ymin + 1
    n = fid.numel()
    row_face = torch.repeat_interleave(torch.arange(n), bh)
    row_y = take(ymin - (torch.cumsum(bh, 0) - bh), row_face) + torch.arange(row_face.numel())
    cy = row_y.float() + 0.5
    rs = take(span, row_face)  # [R, 16]
    lower = (rs[:, 0:4] * cy[:, None] + rs[:, 4:8]).amax(dim=1)
    upper = (rs[:, 8:12] * cy[:, None] + rs[:, 12:16]).amin(dim=1)
    x_first = torch.ceil(lower - 0.5)
    counts = (torch.floor(upper - 0.5) - x_first + 1).clamp_min(0).long()
    image_offset = torch.div(take(fid, row_face), num_faces, rounding_mode="floor") * (H * W)
    row_start = row_y * W + image_offset  # flat index of the row's first pixel
    # 1/depth along the row: invz = pa * x + row_c.
    row_a = take(pa, row_face)
    row_c = take(pb, row_face) * cy + take(pc, row_face)
    cand_row = torch.repeat_interleave(torch.arange(counts.numel()), counts)
    if cand_row.numel() == 0:
        return empty
    first = x_first.long() - (torch.cumsum(counts, 0) - counts)  # px = first[row] + candidate number
    px = take(first, cand_row) + torch.arange(cand_row.numel())
    invz = take(row_a, cand_row) * (px.float() + 0.5) + take(row_c, cand_row)
    pix = take(row_start, cand_row) + px
    zbuf = torch.zeros(B * H * W).scatter_reduce_(0, pix, invz, reduce="amax", include_self=True)
    win = (invz >= take(zbuf, pix)).nonzero()[:, 0]
    # Among equal depths (shared edges), keep one candidate per pixel.
    best = torch.full((B * H * W,), -1, dtype=torch.long).scatter_reduce_(0, take(pix, win), win, reduce="amax",
                                                                           include_self=True)
    pixels = (best >= 0).nonzero()[:, 0]
    cand = take(best, pixels)
    row = take(cand_row, cand)
    face = take(row_face, row)
    # Barycentrics of the winners only: screen-space weights, then perspective-correct.
    cx = (take(px, cand).float() + 0.5)[:, None]
    w = (take(ea, face) * cx + take(eb, face) * take(cy, row)[:, None] + take(ec, face)).clamp_min(0.0)
    w = w * take(inv_z, face)
    bary = w / _sum3(w)[:, None].clamp_min(1e-12)
    return Fragments(pixels, take(fid, face), bary, B, W, H)


def render_mesh(mesh: Mesh, camera: Camera, background: Optional[torch.Tensor] = None,
                cull_backfaces: bool = True) -> np.ndarray:
    """Draw a batch of meshes with smooth shading: ``[B, H, W, 3]`` uint8 RGB.

    Args:
        mesh: world-space meshes with per-vertex albedo.
        camera: the view.
        background: ``[H, W, 3]`` float image in [0, 1] (a gradient if ``None``).
        cull_backfaces: drop faces turned away from the camera.
    """
    frags = rasterize(mesh.vertices, mesh.faces, camera, cull_backfaces)
    return shade_fragments(mesh, frags, camera, background)


def shade_fragments(mesh: Mesh, frags: Fragments, camera: Camera,
                    background: Optional[torch.Tensor] = None) -> np.ndarray:
    """Colour the drawn pixels of ``frags`` with the lit vertex colours of ``mesh``:
    ``[B, H, W, 3]`` uint8 (only the drawn pixels are computed; the rest is copied
    from the background)."""
    B, H, W = frags.batch, frags.height, frags.width
    bg = background_image(W, H) if background is None else background.float()
    if tuple(bg.shape) != (H, W, 3):
        raise ValueError(f"background must be [{H}, {W}, 3] like the camera's image, got {tuple(bg.shape)}")
    bg8 = (bg.clamp(0, 1) * 255.0 + 0.5).to(torch.uint8).numpy()
    out = np.empty((B, H, W, 3), dtype=np.uint8)
    out[:] = bg8
    if frags.pixels.numel():
        normals = mesh.normals if mesh.normals is not None else vertex_normals(mesh.vertices, mesh.faces)
        colors = shade_vertices(normals, mesh.colors, camera).expand(B, -1, -1)  # [B, V, 3]
        V = colors.shape[1]
        corners = take(batch_faces(mesh.faces, B, V), frags.face).reshape(-1)
        corner_colors = take(colors.reshape(B * V, 3), corners).reshape(-1, 3, 3)  # [n, 3 corners, 3 rgb]
        b = frags.bary
        mixed = b[:, 0:1] * corner_colors[:, 0] + b[:, 1:2] * corner_colors[:, 1] + b[:, 2:3] * corner_colors[:, 2]
        rgb = (mixed * 255.0 + 0.5).clamp(0, 255).to(torch.uint8)
        out.reshape(-1, 3)[frags.pixels.numpy()] = rgb.numpy()
    return out

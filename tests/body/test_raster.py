"""The software rasterizer on scenes whose pictures can be worked out by hand."""

import math

import numpy as np
import torch

from openinfp.body.primitives import icosphere, instance_tubes
from openinfp.body.raster import Camera, Mesh, rasterize, render_mesh

BG = torch.zeros(64, 64, 3)


def _quad(z: float, half: float = 0.5, x: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """A square facing +z (the camera), counter-clockwise seen from the camera."""
    v = torch.tensor([[x - half, -half, z], [x + half, -half, z], [x + half, half, z], [x - half, half, z]])
    return v, torch.tensor([[0, 1, 2], [0, 2, 3]])


def test_sphere_silhouette_matches_its_projection():
    v, f = icosphere(4)
    r, dist = 0.5, 3.0
    cam = Camera(eye=(0.0, 0.0, dist), target=(0.0, 0.0, 0.0), fov_y=30.0, width=256, height=256)
    frags = rasterize(v * r, f, cam)
    mask = frags.mask[0].numpy()
    # The silhouette of a sphere seen from distance d is a disc of angular radius asin(r / d).
    radius_px = cam.focal * math.tan(math.asin(r / dist))
    assert abs(mask.sum() / (math.pi * radius_px ** 2) - 1.0) < 0.02
    ys, xs = np.nonzero(mask)
    assert abs(xs.mean() + 0.5 - 128) < 0.5 and abs(ys.mean() + 0.5 - 128) < 0.5


def test_zbuffer_keeps_the_nearest_surface_whatever_the_order():
    cam = Camera(eye=(0.0, 0.0, 3.0), target=(0.0, 0.0, 0.0), fov_y=40.0, width=64, height=64)
    near_v, near_f = _quad(0.5, half=0.2)
    far_v, far_f = _quad(-0.5, half=0.6)
    red, blue = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0])
    for order in (0, 1):
        parts = [(near_v, near_f, red), (far_v, far_f, blue)][:: 1 if order == 0 else -1]
        verts = torch.cat([p[0] for p in parts])
        faces = torch.cat([parts[0][1], parts[1][1] + 4])
        colors = torch.cat([p[2].expand(4, 3) for p in parts])
        img = render_mesh(Mesh(verts, faces, colors), cam, BG)[0].astype(int)
        assert img[32, 32, 0] > img[32, 32, 2] + 100  # the near red square in the middle
        assert img[32, 20, 2] > img[32, 20, 0] + 100  # the far blue one around it
        assert img[1, 1].sum() == 0  # background


def test_back_faces_are_culled():
    cam = Camera(eye=(0.0, 0.0, 3.0), target=(0.0, 0.0, 0.0), fov_y=40.0, width=32, height=32)
    v, f = _quad(0.0)
    assert rasterize(v, f, cam).pixels.numel() > 100
    assert rasterize(v, f[:, [0, 2, 1]], cam).pixels.numel() == 0
    assert rasterize(v, f[:, [0, 2, 1]], cam, cull_backfaces=False).pixels.numel() > 100


def test_colours_interpolate_smoothly_across_a_face():
    cam = Camera(eye=(0.0, 0.0, 2.0), target=(0.0, 0.0, 0.0), fov_y=60.0, width=96, height=96)
    v = torch.tensor([[-0.8, -0.6, 0.0], [0.8, -0.6, 0.0], [0.0, 0.8, 0.0]])
    f = torch.tensor([[0, 1, 2]])
    colors = torch.eye(3)
    frags = rasterize(v, f, cam)
    # Barycentrics sum to one, and at the projected corners they pick that corner.
    assert torch.allclose(frags.bary.sum(-1), torch.ones(frags.bary.shape[0]), atol=1e-5)
    xy, _ = cam.project(v)
    flat = {int(p): i for i, p in enumerate(frags.pixels)}
    for corner in range(3):
        toward_centre = xy[corner] + 0.1 * (xy.mean(0) - xy[corner])
        px, py = int(toward_centre[0]), int(toward_centre[1])
        b = frags.bary[flat[py * 96 + px]]
        assert int(b.argmax()) == corner and b[corner] > 0.8
    img = render_mesh(Mesh(v, f, colors), cam, torch.zeros(96, 96, 3))[0].astype(int)
    row = img[60, :, :]  # across the face: red fades as green grows from left to right
    lit = row[:, :2].sum(1) > 0
    reds, greens = row[lit, 0], row[lit, 1]
    assert reds[0] > reds[-1] and greens[-1] > greens[0]


def test_batches_render_like_single_frames_and_tubes_close_up():
    cam = Camera(eye=(0.0, 0.0, 3.0), target=(0.0, 0.0, 0.0), fov_y=40.0, width=64, height=48)
    start = torch.tensor([[[-0.6, -0.4, 0.0]], [[0.0, -0.6, 0.0]]])
    end = torch.tensor([[[0.6, 0.4, 0.1]], [[0.1, 0.6, -0.2]]])
    v, f = instance_tubes(start, end, torch.tensor([0.1]))
    colors = torch.full((v.shape[1], 3), 0.7)
    both = render_mesh(Mesh(v, f, colors), cam)
    assert both.shape == (2, 48, 64, 3)
    for i in range(2):
        single = render_mesh(Mesh(v[i], f, colors), cam)[0]
        assert np.array_equal(single, both[i])
    assert not np.array_equal(both[0], both[1])


def test_camera_projects_target_to_the_centre_and_up_to_the_top():
    cam = Camera(eye=(1.0, 2.0, 5.0), target=(0.5, 1.0, 0.0), fov_y=30.0, width=100, height=80)
    xy, depth = cam.project(torch.tensor([[0.5, 1.0, 0.0]]))
    assert torch.allclose(xy, torch.tensor([[50.0, 40.0]]), atol=1e-4)
    assert depth[0] > 0
    above, _ = cam.project(torch.tensor([[0.5, 1.5, 0.0]]))
    right, _ = cam.project(torch.tensor([[1.0, 1.0, 0.0]]))
    assert above[0, 1] < 40 and right[0, 0] > 50

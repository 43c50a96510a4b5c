import math

import torch

from openinfp.core import rotations as R


def test_axis_angle_round_trip_and_known_rotation():
    torch.manual_seed(0)
    aa = torch.randn(500, 3)
    aa = aa / aa.norm(dim=-1, keepdim=True) * torch.rand(500, 1) * (math.pi - 1e-3)
    back = R.matrix_to_axis_angle(R.axis_angle_to_matrix(aa))
    assert torch.allclose(back, aa, atol=1e-4)
    # 90 degrees about z maps x to y.
    m = R.axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2]))
    assert torch.allclose(m @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0]), atol=1e-6)


def test_rot6d_round_trip_and_orthonormal():
    torch.manual_seed(1)
    m = R.axis_angle_to_matrix(torch.randn(100, 3))
    assert torch.allclose(R.rot6d_to_matrix(R.matrix_to_rot6d(m)), m, atol=1e-5)
    noisy = R.matrix_to_rot6d(m) + 0.1 * torch.randn(100, 6)
    out = R.rot6d_to_matrix(noisy)
    eye = torch.eye(3).expand(100, 3, 3)
    assert torch.allclose(out.transpose(-1, -2) @ out, eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(out), torch.ones(100), atol=1e-5)


def test_euler_conventions():
    # positive pitch tilts the nose (+z) down (-y); positive yaw turns it to +x.
    nose = torch.tensor([0.0, 0.0, 1.0])
    down = R.euler_ypr_to_matrix(torch.tensor([0.0, 0.3, 0.0])) @ nose
    assert down[1] < 0
    right = R.euler_ypr_to_matrix(torch.tensor([0.3, 0.0, 0.0])) @ nose
    assert right[0] > 0
    ypr = (torch.rand(200, 3) - 0.5) * torch.tensor([3.0, 2.8, 3.0])
    assert torch.allclose(R.matrix_to_euler_ypr(R.euler_ypr_to_matrix(ypr)), ypr, atol=1e-4)

import numpy as np
import torch

from openinfp.core.arkit import arkit_index
from openinfp.core.rotations import euler_ypr_to_matrix
from openinfp.head.basis import head_basis
from openinfp.head.fitting import fit_pose_and_expression, similarity_align
from openinfp.head.smoothing import OneEuroFilter


def test_basis_layout():
    b = head_basis()
    assert b.neutral.shape == (478, 3) and b.basis.shape == (52, 478, 3)
    # Pupils 1 unit apart; jawOpen moves the lower lip down, a blink the upper lid down.
    assert abs(np.linalg.norm(b.neutral[468] - b.neutral[473]) - 1.0) < 1e-3
    assert b.basis[arkit_index("jawOpen"), 14, 1] < -0.3
    assert b.basis[arkit_index("eyeBlinkLeft"), 386, 1] < -0.1  # subject's left upper lid
    assert abs(b.basis[arkit_index("eyeBlinkLeft"), 159, 1]) < 1e-6  # not the right one


def test_similarity_align_is_exact():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(50, 3))
    rot = euler_ypr_to_matrix(torch.tensor([0.3, -0.2, 0.1], dtype=torch.float64)).numpy()
    dst = 2.5 * src @ rot.T + np.array([1.0, 2.0, 3.0])
    s, r, t = similarity_align(src, dst, np.ones(50))
    assert abs(s - 2.5) < 1e-9 and np.allclose(r, rot) and np.allclose(t, [1, 2, 3])


def test_fit_recovers_synthetic_pose_and_expression():
    b = head_basis()
    weights = np.zeros(52)
    weights[arkit_index("jawOpen")] = 0.6
    weights[arkit_index("eyeBlinkRight")] = 1.0
    weights[arkit_index("mouthSmileLeft")] = 0.5
    rot = euler_ypr_to_matrix(torch.tensor([0.25, -0.15, 0.1], dtype=torch.float64)).numpy()
    pts = 80.0 * b.shape(weights) @ rot.T + np.array([300.0, -200.0, 0.0])
    fit = fit_pose_and_expression(pts)
    angle = np.degrees(np.arccos(np.clip((np.trace(fit.rotation @ rot.T) - 1) / 2, -1, 1)))
    assert angle < 0.5 and abs(fit.scale - 80.0) < 0.5
    for name in ("jawOpen", "eyeBlinkRight", "mouthSmileLeft"):
        assert abs(fit.weights[arkit_index(name)] - weights[arkit_index(name)]) < 0.12, name
    others = np.delete(fit.weights, [arkit_index(n) for n in ("jawOpen", "eyeBlinkRight", "mouthSmileLeft")])
    assert others.max() < 0.15 and others.sum() < 1.0
    assert ((fit.weights >= 0) & (fit.weights <= 1)).all()


def test_one_euro_follows_fast_steps_and_removes_jitter():
    f = OneEuroFilter(25.0, min_cutoff=3.0, beta=8.0)
    out = [f(np.array([0.0]))[0] for _ in range(10)] + [f(np.array([1.0]))[0] for _ in range(3)]
    assert out[10] > 0.6 and out[11] > 0.9  # a mouth opening passes within a frame or two
    g = OneEuroFilter(25.0, min_cutoff=1.0, beta=1.5)
    noise = np.random.default_rng(0).normal(0, 0.01, 200)
    smooth = np.array([g(np.array([x]))[0] for x in noise])
    assert smooth[20:].std() < 0.5 * noise[20:].std()


def test_chin_skin_landmarks_are_the_chin_not_lips_or_eyes():
    from openinfp.head.fitting import chin_skin_landmarks
    from openinfp.head.landmarks import CHIN, IRIS, LEFT_EYE, LIPS_INNER, LIPS_OUTER, RIGHT_EYE

    chin = set(chin_skin_landmarks())
    assert CHIN in chin and 50 < len(chin) < 150
    assert not chin & (set(LIPS_INNER) | set(LIPS_OUTER) | set(IRIS) | set(LEFT_EYE) | set(RIGHT_EYE))


def test_jaw_is_read_from_the_lips_when_the_chin_lags():
    # MediaPipe moves the chin's skin points only about half as far as an open jaw does;
    # the lips decide, so the jaw still reads close to its value.
    from openinfp.head.fitting import chin_skin_landmarks

    b = head_basis()
    weights = np.zeros(52)
    weights[arkit_index("jawOpen")] = 0.6
    shape = b.shape(weights)
    chin = list(chin_skin_landmarks())
    shape[chin] = b.neutral[chin] + 0.5 * (shape[chin] - b.neutral[chin])
    fit = fit_pose_and_expression(90.0 * shape + np.array([250.0, -300.0, 0.0]))
    assert abs(fit.weights[arkit_index("jawOpen")] - 0.6) < 0.1, fit.weights[arkit_index("jawOpen")]

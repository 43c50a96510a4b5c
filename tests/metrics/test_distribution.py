"""FD, P-FD, SID, Var and L1 diversity against analytically known values."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg

from openinfp.core.errors import InputError
from openinfp.core.metrics.distribution import (
    Gaussian,
    KMeansCodebook,
    fd,
    frechet_distance,
    l1_diversity,
    paired_fd,
    pairwise_l1_diversity,
    shannon_index,
    sid,
    variance,
)


def _spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_fd_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    g = Gaussian(rng.normal(size=5), _spd(rng, 5))
    assert frechet_distance(g, g) == pytest.approx(0.0, abs=1e-9)


def test_fd_one_dimensional_closed_form():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2 with s the standard deviations.
    a, b = Gaussian(np.array([1.0]), np.array([[4.0]])), Gaussian(np.array([3.0]), np.array([[9.0]]))
    assert frechet_distance(a, b) == pytest.approx(4.0 + 1.0)


def test_fd_matches_textbook_formula_for_non_commuting_covariances():
    rng = np.random.default_rng(1)
    a, b = Gaussian(rng.normal(size=4), _spd(rng, 4)), Gaussian(rng.normal(size=4), _spd(rng, 4))
    diff = a.mean - b.mean
    textbook = diff @ diff + np.trace(a.cov + b.cov - 2 * scipy.linalg.sqrtm(a.cov @ b.cov).real)
    assert frechet_distance(a, b) == pytest.approx(textbook, rel=1e-7)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_fd_from_samples_shift_and_constant_features():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(500, 3))
    assert fd(x, x) == pytest.approx(0.0, abs=1e-9)
    shift = np.array([1.0, -2.0, 0.5])
    assert fd(x, x + shift) == pytest.approx(shift @ shift, rel=1e-9)
    const = np.zeros((50, 3))  # singular covariance: finite, equals the trace of the other
    value = fd(const, x)
    cov = np.cov(x, rowvar=False)
    assert np.isfinite(value) and value == pytest.approx(x.mean(0) @ x.mean(0) + np.trace(cov), rel=1e-6)
    with pytest.raises(InputError, match="feature sizes"):
        fd(x, x[:, :2])


def test_paired_fd_sees_broken_pairing_that_fd_misses():
    rng = np.random.default_rng(3)
    partner = rng.normal(size=(2000, 2))
    agent = partner + 0.1 * rng.normal(size=(2000, 2))  # the agent mirrors the partner
    shuffled = agent[rng.permutation(2000)]             # same frames, pairing destroyed
    assert paired_fd(agent, partner, agent) == pytest.approx(0.0, abs=1e-9)
    assert fd(agent, shuffled) == pytest.approx(0.0, abs=1e-9)
    # Cross-covariance ~I is lost: P-FD ~ 2 * tr(...) well above 0.
    assert paired_fd(agent, partner, shuffled) > 1.0


def test_shannon_index_known_values():
    assert shannon_index([0, 17, 0]) == 0.0  # one occupied cluster
    assert shannon_index([5, 5, 5, 5]) == pytest.approx(np.log(4))
    assert shannon_index([1, 1], base=2) == pytest.approx(1.0)
    with pytest.raises(InputError):
        shannon_index([0, 0])


def test_sid_one_cluster_is_zero_and_uniform_clusters_give_log_k():
    rng = np.random.default_rng(4)
    centres = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    ref = np.concatenate([c + 0.1 * rng.normal(size=(50, 2)) for c in centres])
    book = KMeansCodebook.fit(ref, k=4, seed=0)
    assert book.k == 4 and book.seed == 0
    assert sid(ref, codebook=book) == pytest.approx(np.log(4), rel=1e-9)
    assert sid(centres[0] + 0.1 * rng.normal(size=(30, 2)), codebook=book) == 0.0
    # Same k and seed -> same codebook -> same number.
    assert sid(ref[:120], reference=ref, k=4, seed=0) == pytest.approx(sid(ref[:120], codebook=book))


def test_sid_k_is_capped_by_distinct_frames():
    book = KMeansCodebook.fit(np.ones((10, 3)), k=40)
    assert book.k == 1 and sid(np.ones((5, 3)), codebook=book) == 0.0


def test_variance_per_clip_mean():
    a = np.array([[0.0, 0.0], [2.0, 4.0]])  # per-dim variances 1 and 4 -> 2.5
    b = np.full((3, 2), 7.0)                # static clip -> 0
    assert variance(a) == pytest.approx(2.5)
    assert variance([a, b]) == pytest.approx(1.25)
    assert variance(np.zeros((4, 3))) == 0.0


def test_l1_diversity_hand_computed():
    x = np.array([[0.0, 1.0], [2.0, 5.0]])
    # EMAGE form: each frame is |x - mean|_1 = 1 + 2 = 3 away from the mean.
    assert l1_diversity(x) == pytest.approx(3.0)
    # Pairwise form: one pair, |0-2| + |1-5| = 6.
    assert pairwise_l1_diversity(x) == pytest.approx(6.0)
    rng = np.random.default_rng(5)
    y = rng.normal(size=(40, 3))
    brute = np.mean([np.abs(y[i] - y[j]).sum() for i in range(40) for j in range(i + 1, 40)])
    assert pairwise_l1_diversity(y) == pytest.approx(brute, rel=1e-10)
    assert l1_diversity(np.ones((6, 4))) == 0.0


def test_kmeans_is_deterministic_per_seed_and_near_optimal():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(400, 5))
    a, b = KMeansCodebook.fit(x, k=8, seed=3), KMeansCodebook.fit(x, k=8, seed=3)
    np.testing.assert_array_equal(a.centers, b.centers)
    # Within-cluster cost close to scikit-learn's k-means on the same data.
    from sklearn.cluster import KMeans

    ours = ((x - a.centers[a.assign(x)]) ** 2).sum()
    ref = KMeans(8, random_state=0, n_init=10).fit(x).inertia_
    assert ours <= ref * 1.03

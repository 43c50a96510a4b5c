"""Distribution and diversity metrics of the dyadic-listening literature.

* FD, P-FD: Ng et al., "Learning to Listen" (CVPR 2022), also used by DIM (ECCV 2024)
  and INFP (2024). Frechet distance between Gaussians fitted to per-frame features.
* SID (Shannon index for diversity) and Var: same sources.
* L1 diversity: EMAGE (Liu et al., CVPR 2024); the pairwise form of Audio2Gestures
  (Li et al., ICCV 2021) is :func:`pairwise_l1_diversity`.

Inputs are per-frame feature matrices ``[N, D]`` (frames pooled over clips, as in
the papers); see :mod:`openinfp.core.metrics.features` for how they are read from a
:class:`MotionSequence`. Formulas are written out in ``docs/METRICS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.metrics.features import ArrayLike, as_array


def _matrix(x: ArrayLike, what: str, min_rows: int = 1) -> np.ndarray:
    arr = as_array(x, what)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{what}: expected a [N, D] feature matrix, got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise InputError(f"{what}: needs at least {min_rows} frames, got {arr.shape[0]}")
    return arr


@dataclass(frozen=True)
class Gaussian:
    """Mean ``[D]`` and covariance ``[D, D]`` of a feature distribution."""

    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def fit(cls, x: ArrayLike, what: str = "features") -> "Gaussian":
        """Sample mean and unbiased sample covariance (ddof=1) of ``[N, D]`` features."""
        arr = _matrix(x, what, min_rows=2)
        return cls(arr.mean(axis=0), np.atleast_2d(np.cov(arr, rowvar=False)))


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    """Symmetric square root of a symmetric positive semi-definite matrix."""
    w, v = np.linalg.eigh((matrix + matrix.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(a: Gaussian, b: Gaussian) -> float:
    """Frechet (2-Wasserstein squared) distance between two Gaussians.

    ``||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2)``. The trace term
    uses the symmetric form, which equals ``tr((S_a S_b)^1/2)`` and stays real for
    singular covariances (e.g. a constant feature), so no regulariser is needed.
    """
    if a.mean.shape != b.mean.shape:
        raise InputError(f"Frechet distance: feature sizes differ ({a.mean.shape[0]} vs {b.mean.shape[0]})")
    diff = a.mean - b.mean
    root_a = _sqrt_psd(a.cov)
    cross = _sqrt_psd(root_a @ b.cov @ root_a)
    value = diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2.0 * np.trace(cross)
    return float(max(value, 0.0))  # tiny negative values are round-off


def fd(real: ArrayLike, generated: ArrayLike) -> float:
    """FD between per-frame features ``[N, D]`` of real and generated motion."""
    return frechet_distance(Gaussian.fit(real, "real features"), Gaussian.fit(generated, "generated features"))


def paired_fd(real_agent: ArrayLike, real_partner: ArrayLike,
              generated_agent: ArrayLike, generated_partner: Optional[ArrayLike] = None) -> float:
    """P-FD: FD of per-frame ``[partner, agent]`` concatenations.

    The partner's features are those of the same frames (usually the real partner in
    both, so ``generated_partner`` defaults to ``real_partner``); pairing measures
    whether the agent's motion fits what the partner does at the same time.
    """
    ra, rp = _matrix(real_agent, "real agent"), _matrix(real_partner, "real partner")
    ga = _matrix(generated_agent, "generated agent")
    gp = rp if generated_partner is None else _matrix(generated_partner, "generated partner")
    if ra.shape[0] != rp.shape[0] or ga.shape[0] != gp.shape[0]:
        raise InputError("P-FD: agent and partner features must have the same number of frames")
    return fd(np.concatenate([rp, ra], axis=1), np.concatenate([gp, ga], axis=1))


def shannon_index(counts: ArrayLike, base: float = np.e) -> float:
    """Shannon index ``-sum p_i log p_i`` of a histogram (empty bins ignored).

    A histogram with one occupied bin gives 0; ``k`` equally filled bins give ``log k``.
    """
    c = as_array(counts, "histogram").ravel()
    if np.any(c < 0) or c.sum() <= 0:
        raise InputError("Shannon index needs a non-negative histogram with at least one count")
    p = c[c > 0] / c.sum()
    return float(-(p * np.log(p)).sum() / np.log(base))


@dataclass
class KMeansCodebook:
    """k-means cluster centres fitted on reference features, for SID.

    Attributes:
        centers: ``[k, D]``.
        seed: the random state used to fit them (reported with the metric).
    """

    centers: np.ndarray
    seed: int

    @property
    def k(self) -> int:
        return int(self.centers.shape[0])

    @classmethod
    def fit(cls, reference: ArrayLike, k: int, seed: int = 0, n_init: int = 10,
            max_iter: int = 300) -> "KMeansCodebook":
        """Fit ``k`` clusters on ``reference`` ``[N, D]``: k-means++ seeding, then Lloyd
        iterations; the best (lowest within-cluster sum of squares) of ``n_init`` runs,
        all drawn from ``numpy.random.default_rng(seed)``.

        ``k`` is lowered to the number of distinct reference frames when fewer exist.
        """
        ref = _matrix(reference, "SID reference features")
        if k < 1:
            raise InputError(f"SID: k must be at least 1, got {k}")
        distinct = np.unique(ref, axis=0)
        k_eff = min(k, distinct.shape[0])
        rng = np.random.default_rng(seed)
        best, best_cost = None, np.inf
        for _ in range(max(1, n_init)):
            centers, cost = _lloyd(ref, _kmeans_pp(distinct, k_eff, rng), max_iter)
            if cost < best_cost:
                best, best_cost = centers, cost
        return cls(best, seed)

    def assign(self, x: ArrayLike) -> np.ndarray:
        """Nearest-centre index per frame, ``[N]`` int."""
        arr = _matrix(x, "SID features")
        if arr.shape[1] != self.centers.shape[1]:
            raise InputError(f"SID: features have {arr.shape[1]} dims, the codebook {self.centers.shape[1]}")
        return _sq_dist(arr, self.centers).argmin(axis=1)

    def histogram(self, x: ArrayLike) -> np.ndarray:
        """Cluster occupancy counts ``[k]``."""
        return np.bincount(self.assign(x), minlength=self.k)


def _sq_dist(x: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Squared distances ``[N, k]`` (expanded form, clipped at 0 against round-off)."""
    d2 = (x ** 2).sum(1)[:, None] - 2.0 * x @ centers.T + (centers ** 2).sum(1)[None, :]
    return np.maximum(d2, 0.0)


def _kmeans_pp(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur and Vassilvitskii 2007) over distinct points."""
    centers = [points[rng.integers(points.shape[0])]]
    closest = _sq_dist(points, np.asarray(centers))[:, 0]
    for _ in range(1, k):
        total = closest.sum()
        if total <= 0:
            break
        idx = rng.choice(points.shape[0], p=closest / total)
        centers.append(points[idx])
        closest = np.minimum(closest, _sq_dist(points, points[idx:idx + 1])[:, 0])
    return np.asarray(centers)


def _lloyd(x: np.ndarray, centers: np.ndarray, max_iter: int) -> tuple[np.ndarray, float]:
    """Lloyd iterations from ``centers``; an emptied cluster keeps its previous centre."""
    centers = centers.copy()
    labels = None
    for _ in range(max_iter):
        new = _sq_dist(x, centers).argmin(1)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for j in range(centers.shape[0]):
            members = x[labels == j]
            if members.size:
                centers[j] = members.mean(0)
    d2 = _sq_dist(x, centers)
    return centers, float(d2.min(1).sum())


def sid(generated: ArrayLike, reference: Optional[ArrayLike] = None, k: int = 40, seed: int = 0,
        codebook: Optional[KMeansCodebook] = None, base: float = np.e) -> float:
    """Shannon index of the generated frames' k-means cluster histogram.

    Clusters are fitted on ``reference`` (the real motion; the generated frames when no
    reference is given) unless a fitted ``codebook`` is passed. Higher = more diverse.
    """
    if codebook is None:
        codebook = KMeansCodebook.fit(generated if reference is None else reference, k=k, seed=seed)
    return shannon_index(codebook.histogram(generated), base=base)


def variance(sequences: Sequence[ArrayLike] | ArrayLike) -> float:
    """Var: per-dimension variance over time (ddof=0), averaged over dimensions and clips.

    Accepts one ``[T, D]`` sequence or a list of them; computed per clip so that
    differences between clips do not count as motion.
    """
    seqs = [sequences] if not isinstance(sequences, (list, tuple)) else list(sequences)
    if not seqs:
        raise InputError("Var: no sequences given")
    return float(np.mean([_matrix(s, "Var features").var(axis=0).mean() for s in seqs]))


def l1_diversity(x: ArrayLike) -> float:
    """L1 diversity as evaluated by EMAGE: mean L1 distance of each frame to the mean frame.

    ``1/N * sum_i ||x_i - mean(x)||_1`` over frames ``[N, D]`` (pooled over clips).
    """
    arr = _matrix(x, "L1 diversity features")
    return float(np.abs(arr - arr.mean(axis=0)).sum(axis=1).mean())


def pairwise_l1_diversity(x: ArrayLike) -> float:
    """Mean L1 distance between all pairs of frames ``[N, D]`` (Audio2Gestures' form; exact).

    ``2 / (N (N-1)) * sum_{i<j} ||x_i - x_j||_1``, in O(N log N): per dimension, for sorted
    values ``v_0 <= ... <= v_{N-1}``, ``sum_{i<j} (v_j - v_i) = sum_j (2j - N + 1) v_j``.
    """
    arr = _matrix(x, "L1 diversity features", min_rows=2)
    n = arr.shape[0]
    v = np.sort(arr, axis=0)
    weights = 2.0 * np.arange(n) - n + 1.0
    pair_sum = (weights[:, None] * v).sum()
    return float(pair_sum / (n * (n - 1) / 2.0))

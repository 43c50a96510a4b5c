"""Metrics that compare generated motion with the ground truth of the same clip.

* L1 and L2 (mean squared error) on coefficients, as in L2L, DIM and INFP tables.
* rPCC (residual Pearson correlation coefficient; DIM, INFP): how far the generated
  listener's correlation with the speaker is from the real listener's correlation
  with the same speaker.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.metrics.features import ArrayLike, as_array


def _pair(pred: ArrayLike, target: ArrayLike, what: str) -> tuple[np.ndarray, np.ndarray]:
    p, t = as_array(pred, f"{what} prediction"), as_array(target, f"{what} target")
    if p.shape != t.shape:
        raise InputError(f"{what}: prediction {p.shape} and ground truth {t.shape} differ in shape")
    if p.size == 0:
        raise InputError(f"{what}: empty input")
    return p, t


def l1_error(pred: ArrayLike, target: ArrayLike) -> float:
    """Mean absolute error over all frames and coefficients."""
    p, t = _pair(pred, target, "L1")
    return float(np.abs(p - t).mean())


def l2_error(pred: ArrayLike, target: ArrayLike) -> float:
    """Mean squared error over all frames and coefficients (the papers' "L2"/"MSE")."""
    p, t = _pair(pred, target, "L2")
    return float(((p - t) ** 2).mean())


def pearson(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation of two equally long signals (flattened).

    A constant signal has no linear relation to anything: its correlation is defined
    as 0 here (instead of NaN), so a static face gets a number rather than a hole.
    """
    x, y = _pair(a, b, "Pearson correlation")
    x, y = x.ravel() - x.mean(), y.ravel() - y.mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    if denom <= 1e-12 * max(1.0, x.size):
        return 0.0
    return float(np.clip((x * y).sum() / denom, -1.0, 1.0))


def _stack(clips: Sequence[ArrayLike] | ArrayLike, what: str) -> np.ndarray:
    if isinstance(clips, (list, tuple)):
        arrs = [as_array(c, what) for c in clips]
        arrs = [a[:, None] if a.ndim == 1 else a for a in arrs]
        return np.concatenate(arrs, axis=0)
    arr = as_array(clips, what)
    return arr[:, None] if arr.ndim == 1 else arr


def rpcc(pred: Sequence[ArrayLike] | ArrayLike, target: Sequence[ArrayLike] | ArrayLike,
         partner: Sequence[ArrayLike] | ArrayLike, per_dimension: bool = False) -> float:
    """Residual Pearson correlation: ``|rho(pred, partner) - rho(target, partner)|``.

    Args:
        pred: generated agent features ``[T, D]`` (or a list of clips, pooled).
        target: real agent features, same shape.
        partner: the partner's features of the same frames, same shape (the same
            feature kind: expression with expression, pose with pose).
        per_dimension: ``False`` (default, as in the published evaluation code): the
            correlation of the flattened ``T*D`` arrays. ``True``: the absolute
            difference per feature dimension, averaged over dimensions.

    Lower is better; 0 means the generated agent is exactly as correlated with its
    partner as the real one was.
    """
    p, t, s = _stack(pred, "rPCC prediction"), _stack(target, "rPCC target"), _stack(partner, "rPCC partner")
    if not (p.shape == t.shape == s.shape):
        raise InputError(f"rPCC: prediction {p.shape}, ground truth {t.shape} and partner {s.shape} "
                         "must have the same shape")
    if not per_dimension:
        return abs(pearson(p, s) - pearson(t, s))
    return float(np.mean([abs(pearson(p[:, d], s[:, d]) - pearson(t[:, d], s[:, d])) for d in range(p.shape[1])]))

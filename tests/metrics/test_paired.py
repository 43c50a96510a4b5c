"""L1, L2, Pearson and rPCC on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.core.errors import InputError
from openinfp.core.metrics.paired import l1_error, l2_error, pearson, rpcc


def test_l1_l2_hand_computed():
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    true = np.array([[1.0, 0.0], [0.0, 4.0]])
    assert l1_error(pred, true) == pytest.approx((0 + 2 + 3 + 0) / 4)
    assert l2_error(pred, true) == pytest.approx((0 + 4 + 9 + 0) / 4)
    assert l1_error(torch.tensor(pred), torch.tensor(pred)) == 0.0
    with pytest.raises(InputError, match="differ in shape"):
        l2_error(pred, true[:1])


def test_pearson_known_values_and_constant_convention():
    t = np.arange(10.0)
    assert pearson(t, 3 * t + 1) == pytest.approx(1.0)
    assert pearson(t, -t) == pytest.approx(-1.0)
    assert pearson(t, np.full(10, 2.0)) == 0.0
    assert pearson([1.0, 2.0, 3.0], [1.0, 3.0, 2.0]) == pytest.approx(0.5)


def test_rpcc_zero_for_ground_truth_and_two_for_opposite_correlation():
    rng = np.random.default_rng(0)
    partner = rng.normal(size=(100, 3))
    real = partner.copy()            # rho(real, partner) = 1
    assert rpcc(real, real, partner) == pytest.approx(0.0)
    assert rpcc(-partner, real, partner) == pytest.approx(2.0)
    # Clips are pooled: a list equals the concatenation.
    assert rpcc([real[:50], -partner[50:]], [real[:50], real[50:]], [partner[:50], partner[50:]]) == pytest.approx(
        rpcc(np.concatenate([real[:50], -partner[50:]]), real, partner))


def test_rpcc_per_dimension():
    t = np.linspace(0, 1, 50)
    partner = np.stack([t, t ** 2], axis=1)
    real = partner.copy()
    pred = np.stack([t, np.full(50, 0.3)], axis=1)  # dim 0 right (diff 0), dim 1 constant (rho 0: diff 1)
    assert rpcc(pred, real, partner, per_dimension=True) == pytest.approx(0.5)
    with pytest.raises(InputError, match="same shape"):
        rpcc(pred, real[:, :1], partner)

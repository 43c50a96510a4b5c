"""Role separation AUC, nod detection and listening liveliness."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.core.metrics.behaviour import (
    detect_nods,
    listening_liveliness,
    moving_average,
    roc_auc,
    role_separation_auc,
)

FPS = 25.0


def test_roc_auc_known_values():
    labels = np.array([0, 0, 1, 1], bool)
    assert roc_auc([0.1, 0.2, 0.8, 0.9], labels) == 1.0   # perfect separator
    assert roc_auc([0.9, 0.8, 0.2, 0.1], labels) == 0.0   # perfectly inverted
    assert roc_auc([0.5, 0.5, 0.5, 0.5], labels) == 0.5   # all ties
    assert roc_auc([0.1, 0.6, 0.5, 0.9], labels) == 0.75  # 3 of 4 pairs ordered
    with pytest.raises(InputError, match="both"):
        roc_auc([0.1, 0.2], [True, True])


def test_roc_auc_matches_scikit_learn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y = rng.random(300) > 0.6
    s = np.round(rng.normal(size=300) + y, 1)  # rounding creates ties
    assert roc_auc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


def test_moving_average_edges():
    np.testing.assert_allclose(moving_average([0, 3, 6, 9], 3), [1.5, 3, 6, 7.5])


def _nod(n, start, duration_s=0.5, amplitude=0.1):
    """Pitch bump (down then up), sin^2 shaped, starting at frame ``start``."""
    t = (np.arange(n) - start) / FPS
    inside = (t >= 0) & (t <= duration_s)
    return np.where(inside, amplitude * np.sin(np.pi * t / duration_s) ** 2, 0.0)


def test_detect_nods_counts_bumps_and_ignores_sway():
    n = 300
    starts = [25, 110, 200]
    sway = np.deg2rad(3) * np.sin(2 * np.pi * 0.2 * np.arange(n) / FPS)  # slow: 0.07 rad/s peak
    pitch = sway + sum(_nod(n, s) for s in starts)
    nods = detect_nods(pitch, FPS)
    assert len(nods) == 3
    for nod, s in zip(nods, starts):
        assert abs(nod.start - s) <= 6 and nod.amplitude == pytest.approx(0.1, abs=0.02)  # within rest_s
    assert detect_nods(sway, FPS) == []
    assert detect_nods(-sum(_nod(n, s) for s in starts), FPS) == []  # chin raises are not nods
    tiny = sum(_nod(n, s, amplitude=0.02) for s in starts)        # ~1 degree: below min amplitude
    assert detect_nods(tiny, FPS) == []


def test_role_separation_auc(make_head):
    n = 200
    active = np.zeros(n, bool)
    active[50:120] = True
    talking = make_head(n, jaw=np.where(active, 0.5 + 0.3 * np.sin(np.arange(n)), 0.0))
    assert role_separation_auc(talking, active, window_s=0.0) == 1.0
    assert role_separation_auc(make_head(n), active) == 0.5  # a static face: chance
    inverted = make_head(n, jaw=np.where(active, 0.0, 0.6))
    assert role_separation_auc(inverted, active, window_s=0.0) == 0.0
    with pytest.raises(InputError, match="activity frames"):
        role_separation_auc(talking, active[:10])


def test_listening_liveliness_counts_nods_during_partner_speech(make_head):
    n = 600  # 24 s
    partner = np.zeros(n, bool)
    partner[300:] = True  # the partner speaks the last 12 s
    agent = ~partner
    pitch = _nod(n, 60) + _nod(n, 350) + _nod(n, 450) + _nod(n, 520)
    seq = make_head(n, pitch=pitch)
    live = listening_liveliness(seq, partner, agent)
    assert live.nods == 3 and live.listening_s == pytest.approx(12.0)
    assert live.nod_rate == pytest.approx(3 / 12 * 60)
    assert live.head_energy > 0
    static = listening_liveliness(make_head(n), partner, agent)
    assert static.nods == 0 and static.head_energy == 0.0
    with pytest.raises(InputError, match="never speaks"):
        listening_liveliness(seq, np.zeros(n, bool), agent)

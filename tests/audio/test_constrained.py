"""Cannot-link constrained clustering for the re-segmentation centroids (openinfp.audio.constrained)."""

from __future__ import annotations

import numpy as np

from openinfp.audio.constrained import cannot_link, constrained_average_linkage, constrained_centroids


def _voices(rng, n_per, centres, noise=0.05):
    return np.concatenate([c + rng.normal(scale=noise, size=(n_per, c.size)) for c in centres])


def _two_similar_one_distinct(rng, dim=32):
    base = rng.normal(size=dim)
    a = base + 0.35 * rng.normal(size=dim)  # a and b: similar voices (cosine about 0.9)
    b = base + 0.35 * rng.normal(size=dim)
    c = rng.normal(size=dim)  # a clearly different voice
    return a, b, c


def test_cannot_link_needs_same_window_other_speaker_and_solo_speech():
    units = np.array([[0, 0, 0, 10], [0, 1, 0, 10], [0, 2, 0, 10], [1, 1, 0, 10], [0, 0, 20, 30]])
    clean = np.array([2.0, 2.0, 0.5, 2.0, 2.0])
    cl = cannot_link(units, clean, 1.0)
    assert cl[0, 1] and cl[1, 0]
    assert not cl[0, 2]  # too little solo speech
    assert not cl[1, 3]  # other window
    assert not cl[0, 4]  # same local speaker (another turn)
    assert not cl.diagonal().any()


def test_constraints_keep_two_similar_voices_apart():
    """Plain average linkage at 2 clusters joins the two similar voices and leaves the distinct
    one alone; with the windows saying a and b are different people, a and b are split and the
    distinct voice joins the nearer of them."""
    rng = np.random.default_rng(0)
    a, b, c = _two_similar_one_distinct(rng)
    emb = _voices(rng, 4, [a, b, c])
    voice = np.repeat([0, 1, 2], 4)
    # a's and b's units share windows 0-3 as different local speakers; c talks in windows 4-7.
    units = np.stack([np.r_[0:4, 0:4, 4:8], np.repeat([0, 1, 0], 4), np.zeros(12, int), np.full(12, 100)], axis=1)
    clean = np.full(12, 2.0)
    plain = constrained_average_linkage(emb, np.zeros((12, 12), bool), 2)
    assert plain[0] == plain[4] != plain[8]  # a and b merged
    lab = constrained_average_linkage(emb, cannot_link(units, clean, 1.0), 2)
    assert len(set(lab[voice == 0])) == 1 and len(set(lab[voice == 1])) == 1
    assert lab[0] != lab[4]


def test_unsatisfiable_constraints_still_reach_the_count():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(6, 16))
    units = np.stack([np.zeros(6, int), np.arange(6) % 3, np.zeros(6, int), np.ones(6, int)], axis=1)
    lab = constrained_average_linkage(emb, cannot_link(units, np.full(6, 2.0), 1.0), 2)
    assert sorted(np.unique(lab)) == [0, 1]
    assert constrained_average_linkage(emb[:2], np.zeros((2, 2), bool), 3).tolist() == [0, 1]


def test_centroids_follow_the_voices_they_replace():
    """The constrained clusters' centroids come back in the order of the plain voices."""
    rng = np.random.default_rng(2)
    a, b, c = _two_similar_one_distinct(rng)
    emb = _voices(rng, 4, [a, b, c]).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    units = np.stack([np.r_[0:4, 0:4, 4:8], np.repeat([0, 1, 0], 4), np.zeros(12, int), np.full(12, 100)], axis=1)
    clean = np.full(12, 2.0)
    assign = np.repeat([1, 1, 0], 4)  # the plain clustering: a and b one voice (1), c the other (0)
    cents = constrained_centroids(emb, units, clean, assign, 2, 1.0, 0.4, 3000)
    unit = lambda v: v / np.linalg.norm(v)  # noqa: E731
    # voice 1 (mostly a and b) keeps one of them; voice 0 gets the other with c.
    assert cents.shape == (2, 32)
    assert np.allclose(np.linalg.norm(cents, axis=1), 1.0, atol=1e-5)
    own = cents[1] @ unit(a), cents[1] @ unit(b)
    assert max(own) > 0.95
    plain = constrained_centroids(emb, units, clean, assign, 2, None, 0.4, 3000)
    assert plain[1] @ unit(a) < max(own) and plain[1] @ unit(b) < max(own)

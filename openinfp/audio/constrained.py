"""Speaker centroids for re-segmentation from a clustering that the segmentation constrains.

The segmentation model says that two local speakers of one window are different people.
Where both have enough solo speech there, that is a cannot-link constraint: average-linkage
clustering of the turn embeddings that never merges two clusters holding such a pair (until
no other merge is left) keeps two similar voices apart that plain linkage joins, e.g. two
far-field voices of one meeting that the plain clustering gives one voice while a third,
brief voice takes the other. Its clusters' centroids, matched to the plain clustering's voices,
are what re-segmentation compares short windows against (docs/AUDIO.md: on the 17 real
recordings, pooled DER 0.294 -> 0.286, of which 0.294 -> 0.289 is from taking the centroids of
the clustered units only, without constraints; used for the whole assignment instead, the
3-4 speaker meetings get worse; on telephone-band copies of the two-speaker files slightly
worse, mean DER 0.271 -> 0.277).
"""

from __future__ import annotations

from typing import Optional

import numpy as np


def cannot_link(units: np.ndarray, clean: np.ndarray, solo_s: float) -> np.ndarray:
    """``[M, M]`` bool: units of different local speakers of one window, both with at least
    ``solo_s`` seconds of solo speech (``units [M, 4]`` (window, local speaker, first frame,
    end frame), ``clean [M]`` seconds of solo speech)."""
    same_window = units[:, None, 0] == units[None, :, 0]
    other_speaker = units[:, None, 1] != units[None, :, 1]
    enough = clean >= solo_s
    return same_window & other_speaker & enough[:, None] & enough[None, :]


def constrained_average_linkage(emb: np.ndarray, cannot: np.ndarray, n_clusters: int) -> np.ndarray:
    """Average-linkage (cosine) clustering down to ``n_clusters`` that merges two clusters
    holding a cannot-link pair only when no other merge is left.

    Args:
        emb: ``[M, D]`` embeddings; cannot: ``[M, M]`` bool, symmetric.
        n_clusters: clusters wanted (``M`` or fewer units: each is its own).

    Returns:
        ``[M]`` int labels ``0..n_clusters-1``. O(M^2) memory, about O(M^2) time (the best
        merge of each row is cached and only rows that pointed at a merged cluster rescanned).
    """
    m = emb.shape[0]
    if m <= max(n_clusters, 1):
        return np.arange(m)
    unit = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-8)
    total = (unit @ unit.T).astype(np.float32)  # summed similarity between clusters
    blocked = cannot.astype(bool).copy()
    size = np.ones(m, np.float32)
    alive = np.ones(m, bool)
    label = np.arange(m)
    avg = total.copy()
    np.fill_diagonal(avg, -np.inf)
    hard = True

    def allowed(r):  # row r of the merge scores, constrained pairs out while `hard`
        return np.where(blocked[r], -np.inf, avg[r]) if hard else avg[r]

    masked = np.where(blocked, -np.inf, avg)
    best, arg = masked.max(axis=1), masked.argmax(axis=1)
    del masked
    n = m
    while n > n_clusters:
        i = int(np.argmax(best))
        if not np.isfinite(best[i]):
            if not hard:
                break
            hard = False  # only constrained merges are left: go on as plain average linkage
            best, arg = avg.max(axis=1), avg.argmax(axis=1)
            continue
        j = int(arg[i])
        total[i] += total[j]
        total[:, i] = total[i]
        size[i] += size[j]
        blocked[i] |= blocked[j]
        blocked[:, i] = blocked[i]
        alive[j] = False
        label[label == j] = i
        n -= 1
        row = total[i] / (size[i] * size)
        row[~alive] = -np.inf
        row[i] = -np.inf
        avg[i], avg[:, i] = row, row
        avg[j], avg[:, j] = -np.inf, -np.inf
        erow = allowed(i)
        best[j] = -np.inf
        best[i], arg[i] = erow.max(), erow.argmax()
        stale = alive & ((arg == i) | (arg == j))
        stale[i] = False
        for r in np.nonzero(stale)[0]:
            e = allowed(r)
            best[r], arg[r] = e.max(), e.argmax()
        better = alive & (erow > best)
        better[i] = False
        best[better], arg[better] = erow[better], i
    return np.unique(label, return_inverse=True)[1].reshape(-1)


def constrained_centroids(emb: np.ndarray, units: np.ndarray, clean: np.ndarray, assign: np.ndarray,
                          k: int, solo_s: Optional[float], min_clean_s: float, max_units: int) -> np.ndarray:
    """``[k, D]`` unit centroids of a cannot-link constrained clustering of the units with
    ``min_clean_s`` of solo speech (at most ``max_units``, evenly spread), its clusters matched
    to the voices ``assign [M]`` (``0..k-1``) by the solo speech they share (Hungarian).
    ``solo_s=None``: the centroids of ``assign`` itself."""
    from scipy.optimize import linear_sum_assignment

    from openinfp.audio.resegment import speaker_centroids

    good = np.nonzero(clean >= min_clean_s)[0]
    if good.size > max_units:
        good = good[np.linspace(0, good.size - 1, max_units).round().astype(int)]
    if solo_s is None or good.size < k or k < 2:
        return speaker_centroids(emb, assign, clean, k)
    labels = constrained_average_linkage(emb[good], cannot_link(units[good], clean[good], solo_s), k)
    shared = np.zeros((k, k))
    np.add.at(shared, (labels, assign[good]), clean[good] + 1e-3)
    rows, cols = linear_sum_assignment(-shared)
    to_voice = np.empty(k, np.int64)
    to_voice[rows] = cols
    return speaker_centroids(emb[good], to_voice[labels], clean[good], k)

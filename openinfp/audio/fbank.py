"""Kaldi-style log mel filterbank features (the input of the CAM++ speaker encoder).

The recipe is Kaldi's ``compute-fbank-feats`` with the options CAM++ was trained on:
25 ms frames every 10 ms (frames lie wholly inside the signal, "snip edges"), DC offset
removed per frame, pre-emphasis 0.97, Povey window, 512-point FFT, power spectrum,
80 triangular mel bands from 20 Hz to 8 kHz on Kaldi's mel scale ``1127 ln(1 + f/700)``
(the Nyquist bin is not used), natural log floored at float32 epsilon, no dither.
``tests/audio/test_fbank.py`` checks the output against the extractor that ships in the
``senko`` wheel.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from openinfp.core.audio import SAMPLE_RATE

FRAME_LENGTH = 400
"""Samples per analysis frame (25 ms at 16 kHz)."""
FRAME_SHIFT = 160
"""Samples between frames (10 ms)."""
NUM_MEL_BINS = 80
_FFT_SIZE = 512
_PREEMPHASIS = 0.97
_LOW_HZ = 20.0
_EPS = float(np.finfo(np.float32).eps)


def num_frames(num_samples: int) -> int:
    """Frames Kaldi makes from ``num_samples`` samples (0 when shorter than one frame)."""
    if num_samples < FRAME_LENGTH:
        return 0
    return 1 + (num_samples - FRAME_LENGTH) // FRAME_SHIFT


def kaldi_fbank(wave16k: np.ndarray, mean_normalize: bool = True) -> np.ndarray:
    """80 log mel filterbank energies per 10 ms frame.

    Args:
        wave16k: ``[N]`` float mono at 16 kHz (any scale: Kaldi reads 16-bit integers,
            so the wave is scaled by 32768 first; after mean normalisation the scale
            only matters through the log floor).
        mean_normalize: subtract the mean over frames of each band (what CAM++ expects
            for each embedded stretch).

    Returns:
        ``[T, 80]`` float32 with ``T = 1 + (N - 400) // 160`` (``[0, 80]`` when ``N < 400``).
    """
    wave = np.asarray(wave16k, dtype=np.float32)
    n = num_frames(wave.shape[0])
    if n == 0:
        return np.zeros((0, NUM_MEL_BINS), np.float32)
    idx = np.arange(FRAME_LENGTH)[None, :] + FRAME_SHIFT * np.arange(n)[:, None]
    frames = wave[idx].astype(np.float64) * 32768.0
    frames -= frames.mean(axis=1, keepdims=True)
    # Pre-emphasis; the first sample is emphasised against itself, as Kaldi does.
    emphasised = np.empty_like(frames)
    emphasised[:, 1:] = frames[:, 1:] - _PREEMPHASIS * frames[:, :-1]
    emphasised[:, 0] = frames[:, 0] * (1.0 - _PREEMPHASIS)
    spectrum = np.fft.rfft(emphasised * _povey_window(), n=_FFT_SIZE, axis=1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    mel = power[:, :_FFT_SIZE // 2] @ _mel_banks().T
    feats = np.log(np.maximum(mel, _EPS))
    if mean_normalize:
        feats -= feats.mean(axis=0, keepdims=True)
    return feats.astype(np.float32)


@lru_cache(maxsize=1)
def _povey_window() -> np.ndarray:
    """``[400]``: a Hann window raised to the power 0.85 (Kaldi's default)."""
    n = np.arange(FRAME_LENGTH)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * n / (FRAME_LENGTH - 1))) ** 0.85


def _mel(freq):
    return 1127.0 * np.log(1.0 + np.asarray(freq, dtype=np.float64) / 700.0)


@lru_cache(maxsize=1)
def _mel_banks() -> np.ndarray:
    """``[80, 256]`` triangular weights over the FFT bins below Nyquist, equal width in mel."""
    low, high = _mel(_LOW_HZ), _mel(SAMPLE_RATE / 2)
    delta = (high - low) / (NUM_MEL_BINS + 1)
    bin_mel = _mel(np.arange(_FFT_SIZE // 2) * SAMPLE_RATE / _FFT_SIZE)
    left = low + delta * np.arange(NUM_MEL_BINS)[:, None]
    center, right = left + delta, left + 2 * delta
    rising = (bin_mel - left) / (center - left)
    falling = (right - bin_mel) / (right - center)
    weights = np.where(bin_mel <= center, rising, falling)
    inside = (bin_mel > left) & (bin_mel < right)
    return np.where(inside, weights, 0.0)


def kaldi_fbank_long(wave16k: np.ndarray, block_frames: int = 6000) -> np.ndarray:
    """:func:`kaldi_fbank` without mean normalisation, block by block (bounded scratch memory).

    Frame ``t`` covers samples ``[160 t, 160 t + 400)`` as in one call on the whole wave,
    so the result equals ``kaldi_fbank(wave16k, mean_normalize=False)``.

    Returns:
        ``[T, 80]`` float32.
    """
    wave = np.asarray(wave16k, dtype=np.float32)
    total = num_frames(wave.shape[0])
    out = np.zeros((total, NUM_MEL_BINS), np.float32)
    for f0 in range(0, total, block_frames):
        f1 = min(total, f0 + block_frames)
        seg = wave[f0 * FRAME_SHIFT:(f1 - 1) * FRAME_SHIFT + FRAME_LENGTH]
        out[f0:f1] = kaldi_fbank(seg, mean_normalize=False)
    return out

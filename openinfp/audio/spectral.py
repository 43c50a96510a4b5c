"""Short-time spectra in plain numpy: framing, power STFT and a mel filterbank.

Written here (rather than calling librosa) because librosa's first call compiles numba
kernels, which costs seconds to tens of seconds on a fresh machine; these few lines
are vectorised numpy and take milliseconds for a minute of audio.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def frame_signal(wave: np.ndarray, frame_length: int, hop: int, center: bool = True) -> np.ndarray:
    """Overlapping frames of a mono signal (a strided view, no copy).

    Args:
        wave: ``[N]`` float samples.
        frame_length: samples per frame.
        hop: samples between frame starts.
        center: zero-pad ``frame_length // 2`` on both sides so frame ``t`` is centred
            on sample ``t * hop``.

    Returns:
        ``[T, frame_length]`` with ``T = 1 + (N_padded - frame_length) // hop``
        (``N // hop + 1`` when centred).
    """
    wave = np.asarray(wave, dtype=np.float32)
    if center:
        pad = frame_length // 2
        wave = np.pad(wave, (pad, pad))
    if wave.shape[0] < frame_length:
        wave = np.pad(wave, (0, frame_length - wave.shape[0]))
    n = 1 + (wave.shape[0] - frame_length) // hop
    return np.lib.stride_tricks.as_strided(
        wave, shape=(n, frame_length), strides=(wave.strides[0] * hop, wave.strides[0]), writeable=False
    )


def padded_slice(wave: np.ndarray, start: int, stop: int, length: int | None = None) -> np.ndarray:
    """``wave[start:stop]`` as a float32 copy, with zeros where the range leaves
    ``[0, length)`` (``length`` defaults to the wave's own): block-wise processing of
    long signals reads its blocks, with context on both sides, through this.
    """
    limit = wave.shape[0] if length is None else min(length, wave.shape[0])
    out = np.zeros((stop - start,) + wave.shape[1:], np.float32)
    lo, hi = max(start, 0), min(stop, limit)
    if hi > lo:
        out[lo - start:hi - start] = wave[lo:hi]
    return out


@lru_cache(maxsize=8)
def hann(length: int) -> np.ndarray:
    """Periodic Hann window ``[length]`` (the STFT convention)."""
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(length) / length)).astype(np.float32)


def power_spectrogram(wave: np.ndarray, n_fft: int, hop: int, win_length: int | None = None,
                      center: bool = True) -> np.ndarray:
    """``|STFT|^2`` with a Hann window: ``[N]`` -> ``[T, n_fft // 2 + 1]`` float32."""
    frames = frame_signal(wave, n_fft, hop, center=center)
    spec = np.fft.rfft(frames * _stft_window(n_fft, win_length), axis=1)
    return (spec.real ** 2 + spec.imag ** 2).astype(np.float32)


def _stft_window(n_fft: int, win_length: int | None) -> np.ndarray:
    """``[n_fft]`` float32: a Hann window of ``win_length`` centred in ``n_fft`` zeros."""
    win_length = win_length or n_fft
    window = np.zeros(n_fft, dtype=np.float32)
    left = (n_fft - win_length) // 2
    window[left:left + win_length] = hann(win_length)
    return window


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    # Slaney's auditory scale: linear below 1 kHz, logarithmic above.
    hz = np.asarray(hz, dtype=np.float64)
    mel = hz / (200.0 / 3.0)
    log_region = hz >= 1000.0
    mel = np.where(log_region, 15.0 + np.log(np.maximum(hz, 1e-9) / 1000.0) / (np.log(6.4) / 27.0), mel)
    return mel


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = mel * (200.0 / 3.0)
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), hz)


@lru_cache(maxsize=8)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters, area-normalised (Slaney): ``[n_mels, n_fft // 2 + 1]`` float32."""
    fmax = sample_rate / 2.0 if fmax is None else fmax
    fft_freqs = np.linspace(0.0, sample_rate / 2.0, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    lower = (fft_freqs[None, :] - edges[:-2, None]) / (edges[1:-1, None] - edges[:-2, None])
    upper = (edges[2:, None] - fft_freqs[None, :]) / (edges[2:, None] - edges[1:-1, None])
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return weights.astype(np.float32)


def mel_spectrogram(wave: np.ndarray, sample_rate: int, n_fft: int, hop: int, n_mels: int,
                    win_length: int | None = None, fmin: float = 0.0, fmax: float | None = None,
                    block_frames: int = 8192) -> np.ndarray:
    """Mel power spectrogram ``[T, n_mels]`` float32 (not logged), centred frames.

    The spectra are computed ``block_frames`` frames at a time (the same values as all
    at once), so an hour of audio needs no hour-long complex spectrogram.
    """
    frames = frame_signal(wave, n_fft, hop, center=True)
    window = _stft_window(n_fft, win_length)
    bank = mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax).T
    out = np.empty((frames.shape[0], n_mels), np.float32)
    for i in range(0, frames.shape[0], max(1, block_frames)):
        spec = np.fft.rfft(frames[i:i + block_frames] * window, axis=1)
        out[i:i + block_frames] = (spec.real ** 2 + spec.imag ** 2).astype(np.float32) @ bank
    return out
"""Frame-level prosody of a speech track: energy and pitch (F0) at the motion frame rate.

Used by the synthetic head-motion rules (and useful for analysis of real tracks). Both
are cheap numpy computations: RMS energy per 40 ms frame and a normalised
autocorrelation pitch estimate on a 64 ms window centred on each frame.
"""

from __future__ import annotations

import numpy as np

from openinfp.core.audio import SAMPLE_RATE


def frame_energy_db(wave: np.ndarray, num_frames: int, hop: int = SAMPLE_RATE // 25) -> np.ndarray:
    """RMS energy per frame in dB (floor -100): ``[N]`` -> ``[num_frames]`` float32."""
    padded = np.zeros(num_frames * hop, dtype=np.float32)
    padded[: min(len(wave), len(padded))] = wave[: len(padded)]
    rms = np.sqrt(np.mean(padded.reshape(num_frames, hop) ** 2, axis=1))
    return (20.0 * np.log10(np.maximum(rms, 1e-5))).astype(np.float32)


def frame_pitch(
    wave: np.ndarray,
    num_frames: int,
    hop: int = SAMPLE_RATE // 25,
    fmin: float = 60.0,
    fmax: float = 400.0,
    window: int = 1024,
    voicing_threshold: float = 0.45,
) -> np.ndarray:
    """F0 per frame in Hz (0 where unvoiced): ``[N]`` -> ``[num_frames]`` float32.

    Normalised autocorrelation (via FFT) of a Hann-windowed 64 ms frame; the frame is
    voiced when the best peak in the lag range ``[sr/fmax, sr/fmin]`` exceeds
    ``voicing_threshold`` of the zero-lag energy.
    """
    half = window // 2
    padded = np.zeros(num_frames * hop + window, dtype=np.float32)
    n = min(len(wave), num_frames * hop)
    padded[half: half + n] = wave[:n]
    starts = np.arange(num_frames) * hop + hop // 2  # window centred on each frame's centre
    idx = starts[:, None] + np.arange(window)[None, :]
    frames = padded[idx] * np.hanning(window).astype(np.float32)
    spec = np.fft.rfft(frames, n=2 * window, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :window]
    lo, hi = int(SAMPLE_RATE / fmax), int(SAMPLE_RATE / fmin)
    energy = ac[:, 0] + 1e-9
    seg = ac[:, lo:hi] / energy[:, None]
    best = seg.argmax(axis=1)
    peak = seg[np.arange(num_frames), best]
    f0 = SAMPLE_RATE / (best + lo)
    loud = energy > 1e-4 * window
    return np.where((peak > voicing_threshold) & loud, f0, 0.0).astype(np.float32)


def pitch_zscore(f0: np.ndarray) -> np.ndarray:
    """Log-F0 z-scored over the voiced frames (0 where unvoiced): ``[T]`` -> ``[T]``."""
    voiced = f0 > 0
    out = np.zeros_like(f0, dtype=np.float32)
    if voiced.sum() < 2:
        return out
    logf = np.log(f0[voiced])
    out[voiced] = (logf - logf.mean()) / max(float(logf.std()), 1e-3)
    return np.clip(out, -3.0, 3.0)

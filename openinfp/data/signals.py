"""Small frame-signal helpers for the motion rules (numpy, ``[T]`` arrays at the motion fps)."""

from __future__ import annotations

import numpy as np


def smooth(x: np.ndarray, seconds: float, fps: float) -> np.ndarray:
    """Hann-window moving average of length ``seconds`` along axis 0 (edges reflected)."""
    n = int(round(seconds * fps))
    if n < 2:
        return x.astype(np.float32, copy=True)
    kernel = np.hanning(n + 2)[1:-1]
    kernel = kernel / kernel.sum()
    pad = n // 2 + 1
    mode = "reflect" if x.shape[0] > pad else "edge"
    if x.ndim == 1:
        xp = np.pad(x, (pad, pad), mode=mode)
        return np.convolve(xp, kernel, mode="same")[pad:-pad].astype(np.float32)
    cols = [smooth(x[:, i], seconds, fps) for i in range(x.shape[1])]
    return np.stack(cols, axis=1)


def raised_cosine(times: np.ndarray, start: float, end: float, attack: float, release: float) -> np.ndarray:
    """Envelope that rises over ``attack`` s from ``start``, holds 1, falls over ``release`` s to ``end``."""
    up = np.clip((times - start) / max(attack, 1e-3), 0.0, 1.0)
    down = np.clip((end - times) / max(release, 1e-3), 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * np.minimum(up, down))).astype(np.float32)


def sway(times: np.ndarray, rng: np.random.Generator, fmin: float, fmax: float, components: int = 3) -> np.ndarray:
    """Smooth random motion in about [-1, 1]: a sum of sinusoids with random frequency and phase."""
    out = np.zeros_like(times, dtype=np.float32)
    for _ in range(components):
        f = rng.uniform(fmin, fmax)
        out += np.sin(2 * np.pi * f * times + rng.uniform(0, 2 * np.pi)).astype(np.float32)
    return out / np.sqrt(components)


def frames_of(times: np.ndarray, start: float, end: float) -> slice:
    """The frame-index range whose centres fall in ``[start, end)``."""
    i0 = int(np.searchsorted(times, start, side="left"))
    i1 = int(np.searchsorted(times, end, side="left"))
    return slice(i0, i1)

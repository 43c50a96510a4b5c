"""Simulated 10 s conversations with overlapped speech, to fine-tune segmentation-3.0.

A chunk holds 1-3 local speakers (as segmentation-3.0 was trained: at most three per
window, at most two at once). Turns are random crops of real single-speaker utterances;
the next turn starts after a pause, right after the last one, or over its end
(overlapped speech), and a listener sometimes drops a short backchannel into a turn.
Each voice gets its own level, optionally its own synthetic room (exponentially decaying
noise as impulse response, a few RT60s); the mix gets coloured noise at a random SNR and
sometimes a telephone band or a far-field-like low-pass.

Labels are where each source speaks, from a speech mask per utterance (``mask``,
``[N]`` bool at 16 kHz; the training script takes it from the original model run on the
clean utterance alone, so pauses inside an utterance stay unlabelled the way the model
already sees them), sampled at the centre of each output frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from openinfp.core.audio import SAMPLE_RATE

CHUNK = 160_000
"""Samples per 10 s chunk."""
FRAMES = 589
FRAME_STEP = 270
FRAME_CENTRE = 495
"""Centre sample of output frame 0 (receptive field 991 samples)."""
MAX_LOCAL = 3


@dataclass(frozen=True)
class Source:
    """One utterance: ``wave`` ``[N]`` float32 at 16 kHz and its speech ``mask`` ``[N]`` bool."""

    wave: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class SimConfig:
    """Mixture statistics (probabilities and ranges; seconds and dB)."""

    speakers_p: tuple[float, float, float] = (0.1, 0.45, 0.45)
    turn_s: tuple[float, float] = (0.8, 5.0)
    overlap_p: float = 0.4
    overlap_s: tuple[float, float] = (0.2, 2.0)
    pause_p: float = 0.2
    backchannel_p: float = 0.35
    backchannel_s: tuple[float, float] = (0.3, 1.2)
    level_db: tuple[float, float] = (-10.0, 2.0)
    reverb_p: float = 0.5
    rt60_s: tuple[float, float] = (0.15, 0.9)
    noise_p: float = 0.7
    snr_db: tuple[float, float] = (5.0, 35.0)
    phone_p: float = 0.15
    lowpass_p: float = 0.15


def frame_labels(masks: np.ndarray) -> np.ndarray:
    """``[K, CHUNK]`` bool sample masks -> ``[589, K]`` float32 frame activity (frame centres)."""
    centres = np.minimum(FRAME_CENTRE + FRAME_STEP * np.arange(FRAMES), CHUNK - 1)
    return masks[:, centres].T.astype(np.float32)


def _crop(rng: np.random.Generator, sources: Sequence[Source], seconds: float) -> Source:
    src = sources[int(rng.integers(len(sources)))]
    size = int(seconds * SAMPLE_RATE)
    if src.wave.shape[0] <= size:
        return src
    start = int(rng.integers(src.wave.shape[0] - size))
    return Source(src.wave[start:start + size], src.mask[start:start + size])


def _place(tracks: np.ndarray, masks: np.ndarray, k: int, at: int, src: Source) -> bool:
    """Add ``src`` to track ``k`` from sample ``at``, cut short before a third voice (or ``k`` itself)."""
    lo, hi = max(at, 0), min(at + src.wave.shape[0], CHUNK)
    if hi - lo < int(0.3 * SAMPLE_RATE):
        return False
    wave, mask = src.wave[lo - at:hi - at], src.mask[lo - at:hi - at]
    others = np.delete(masks, k, axis=0)[:, lo:hi].sum(axis=0)
    clash = mask & ((others >= 2) | masks[k, lo:hi])
    if clash.any():
        stop = int(np.argmax(clash))
        if stop < int(0.3 * SAMPLE_RATE):
            return False
        wave, mask, hi = wave[:stop], mask[:stop], lo + stop
    tracks[k, lo:hi] += wave
    masks[k, lo:hi] |= mask
    return True


def _rir(rng: np.random.Generator, rt60: float) -> np.ndarray:
    """Synthetic room impulse response: direct path then exponentially decaying noise."""
    length = int(min(rt60, 1.0) * SAMPLE_RATE)
    t = np.arange(length) / SAMPLE_RATE
    tail = rng.standard_normal(length) * np.exp(-6.9 * t / rt60)
    tail[: int(0.002 * SAMPLE_RATE)] = 0.0  # the first reflections arrive a little after the direct path
    rir = 0.3 * tail / (np.sqrt(np.sum(tail**2)) + 1e-9) * rng.uniform(0.5, 2.0)
    rir[0] = 1.0
    return rir.astype(np.float32)


def _coloured_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """White, pink or brown noise (power ~ 1/f^a, a in {0, 1, 2})."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n), 1.0 / n)
    noise = np.fft.irfft(spec / f ** (rng.choice([0.0, 1.0, 2.0]) / 2), n)
    return (noise / (np.std(noise) + 1e-9)).astype(np.float32)


def _band(rng: np.random.Generator, wave: np.ndarray, cfg: SimConfig) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    r = rng.random()
    if r < cfg.phone_p:  # telephone line: 300-3400 Hz and 8-bit mu-law
        out = sosfilt(butter(4, [300, 3400], "bandpass", fs=SAMPLE_RATE, output="sos"), wave)
        peak = np.max(np.abs(out)) + 1e-9
        mu = np.sign(out / peak) * np.log1p(255 * np.abs(out / peak)) / np.log1p(255)
        mu = np.round(mu * 127) / 127
        return (np.sign(mu) * np.expm1(np.abs(mu) * np.log1p(255)) / 255 * peak).astype(np.float32)
    if r < cfg.phone_p + cfg.lowpass_p:  # far-field / cheap microphone
        cut = rng.uniform(2500, 7000)
        return sosfilt(butter(4, cut, "lowpass", fs=SAMPLE_RATE, output="sos"), wave).astype(np.float32)
    return wave


def simulate_chunk(rng: np.random.Generator, speakers: Sequence[Sequence[Source]],
                   cfg: SimConfig = SimConfig()) -> tuple[np.ndarray, np.ndarray]:
    """One simulated 10 s conversation.

    Args:
        rng: random generator.
        speakers: per speaker, its utterances (at least one speaker).
        cfg: mixture statistics.

    Returns:
        ``wave`` ``[160000]`` float32 and ``labels`` ``[589, 3]`` float32 in {0, 1} (unused
        local speakers all zero; never more than two active in a frame).
    """
    from scipy.signal import fftconvolve

    n = min(int(rng.choice(np.arange(1, MAX_LOCAL + 1), p=cfg.speakers_p)), len(speakers))
    chosen = [speakers[i] for i in rng.choice(len(speakers), n, replace=False)]
    tracks = np.zeros((n, CHUNK), np.float32)
    masks = np.zeros((n, CHUNK), bool)
    t, cur = int(rng.uniform(-1.5, 0.5) * SAMPLE_RATE), int(rng.integers(n))
    while t < CHUNK:
        turn = _crop(rng, chosen[cur], rng.uniform(*cfg.turn_s))
        _place(tracks, masks, cur, t, turn)
        end = t + turn.wave.shape[0]
        others = [k for k in range(n) if k != cur]
        if others and rng.random() < cfg.backchannel_p and end - t > SAMPLE_RATE:
            k = others[int(rng.integers(len(others)))]
            short = _crop(rng, chosen[k], rng.uniform(*cfg.backchannel_s))
            _place(tracks, masks, k, int(rng.integers(t, end - short.wave.shape[0] // 2)), short)
        r = rng.random()
        if others and r < cfg.overlap_p:
            gap = -rng.uniform(*cfg.overlap_s)
        elif r < cfg.overlap_p + cfg.pause_p:
            gap = rng.uniform(0.6, 2.0)
        else:
            gap = rng.uniform(0.0, 0.6)
        t = max(end + int(gap * SAMPLE_RATE), t + int(0.3 * SAMPLE_RATE))
        cur = others[int(rng.integers(len(others)))] if others else cur
    mix = np.zeros(CHUNK, np.float32)
    for k in range(n):
        speech = tracks[k][masks[k]]
        track = tracks[k] / (np.sqrt(np.mean(speech**2)) + 1e-9 if speech.size else 1.0)
        if rng.random() < cfg.reverb_p:
            track = fftconvolve(track, _rir(rng, rng.uniform(*cfg.rt60_s)))[:CHUNK].astype(np.float32)
        mix += track * np.float32(10 ** (rng.uniform(*cfg.level_db) / 20))
    if rng.random() < cfg.noise_p:
        power = np.mean(mix[masks.any(axis=0)] ** 2) if masks.any() else 1.0
        mix += _coloured_noise(rng, CHUNK) * np.float32(np.sqrt(power / 10 ** (rng.uniform(*cfg.snr_db) / 10)))
    mix = _band(rng, mix, cfg)
    mix = mix / (np.max(np.abs(mix)) + 1e-9) * np.float32(rng.uniform(0.05, 0.9))
    labels = np.zeros((FRAMES, MAX_LOCAL), np.float32)
    labels[:, :n] = frame_labels(masks)
    return mix.astype(np.float32), labels[:, rng.permutation(MAX_LOCAL)]

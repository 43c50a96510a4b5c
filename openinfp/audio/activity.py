"""Per-frame speech activity: Silero VAD (the model shipped in the ``silero-vad`` wheel).

Silero scores 32 ms chunks with a recurrent network. Running a minute chunk by chunk
takes ~1 s on one core, mostly per-call overhead, so :func:`vad_probabilities` cuts the
signal into a batch of segments, each preceded by half a second of the audio before it
so the recurrent state has settled by the time the segment starts; this is ~6x faster
and matches the sequential result closely (see ``tests/audio/test_activity.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from openinfp.audio.spectral import padded_slice
from openinfp.core.audio import SAMPLE_RATE, count_non_finite
from openinfp.core.errors import DependencyError, InputError
from openinfp.core.threads import torch_threads

VAD_CHUNK = 512
"""Samples per Silero decision at 16 kHz (32 ms)."""
VAD_RATE = SAMPLE_RATE / VAD_CHUNK
"""Silero decisions per second (31.25)."""

_SEGMENT_CHUNKS = 125  # 4 s per batch row
_WARMUP_CHUNKS = 16  # 0.5 s of preceding audio to settle the recurrent state
_BATCH_ROWS = 64  # rows scored per model call (about 4.5 min of audio)


@lru_cache(maxsize=1)
def _silero():
    import torch

    threads = torch.get_num_threads()
    try:
        from silero_vad import load_silero_vad
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise DependencyError("speech activity needs the silero-vad package") from exc
    finally:
        # Importing silero_vad sets torch to one thread process-wide; undo that.
        torch.set_num_threads(threads)
    model = load_silero_vad()
    torch.set_num_threads(threads)
    return model


def vad_probabilities(wave16k: np.ndarray, batched: bool = True) -> np.ndarray:
    """Silero speech probability per 32 ms chunk.

    Args:
        wave16k: ``[N]`` float32 mono at 16 kHz.
        batched: score 4 s segments in one batch (fast); ``False`` runs the whole
            signal sequentially (the reference behaviour).

    Returns:
        ``[ceil(N / 512)]`` float32 in [0, 1]; chunk ``k`` covers samples
        ``[512 k, 512 (k + 1))``.
    """
    import torch

    wave = _check_wave(wave16k)
    n_chunks = -(-wave.shape[0] // VAD_CHUNK)
    if n_chunks == 0:
        return np.zeros(0, np.float32)
    model = _silero()
    # Silero's tiny per-chunk ops are slower with more threads (synchronisation costs
    # more than the work: 60 s of audio takes ~2.5 s on 2 threads, ~0.2 s on 1).
    with torch.inference_mode(), torch_threads(1):
        if not batched or n_chunks <= _SEGMENT_CHUNKS:
            padded = np.zeros(n_chunks * VAD_CHUNK, np.float32)
            padded[: wave.shape[0]] = wave
            probs = model.audio_forward(torch.from_numpy(padded)[None], SAMPLE_RATE)[0].numpy()
        else:
            probs = _batched_forward(model, wave, n_chunks)
    return np.clip(probs[:n_chunks].astype(np.float32), 0.0, 1.0)


def _batched_forward(model, wave: np.ndarray, n_chunks: int) -> np.ndarray:
    """Silero over ``wave`` as independent 4 s rows, ``_BATCH_ROWS`` rows per call.

    Each row starts from a fresh recurrent state after ``_WARMUP_CHUNKS`` chunks of
    the preceding audio (silence before the start and after the end). Rows are cut
    group by group, so an hour of audio needs a few MB of scratch memory rather than
    copies of the whole track.
    """
    import torch

    seg, warm = _SEGMENT_CHUNKS, _WARMUP_CHUNKS
    row_len = (warm + seg) * VAD_CHUNK
    n_rows = -(-n_chunks // seg)
    out = np.empty(n_rows * seg, np.float32)
    for r0 in range(0, n_rows, _BATCH_ROWS):
        r1 = min(n_rows, r0 + _BATCH_ROWS)
        starts = [(r * seg - warm) * VAD_CHUNK for r in range(r0, r1)]
        rows = np.stack([padded_slice(wave, start, start + row_len) for start in starts])
        probs = model.audio_forward(torch.from_numpy(rows), SAMPLE_RATE).numpy()
        out[r0 * seg:r1 * seg] = probs[:, warm:].reshape(-1)
    return out[:n_chunks]


def speech_activity(wave16k: np.ndarray, fps: float = 25.0, num_frames: int | None = None) -> np.ndarray:
    """Speech probability per motion frame.

    Args:
        wave16k: ``[N]`` float32 mono at 16 kHz.
        fps: motion frame rate.
        num_frames: output length; default ``max(1, round(N / 16000 * fps))``, the
            same count as :meth:`ConversationAudio.num_frames`.

    Returns:
        ``[T]`` float32 in [0, 1]; frame ``t`` averages the VAD over
        ``[t / fps, (t + 1) / fps)``.
    """
    wave = _check_wave(wave16k)
    if num_frames is None:
        num_frames = max(1, int(round(wave.shape[0] / SAMPLE_RATE * fps)))
    probs = vad_probabilities(wave)
    return resample_steps(probs, VAD_RATE, fps, num_frames)


def resample_steps(values: np.ndarray, rate_in: float, rate_out: float, num_out: int) -> np.ndarray:
    """Re-grid a piecewise-constant signal by exact overlap averaging.

    ``values[k]`` holds over ``[k / rate_in, (k + 1) / rate_in)``; output ``t`` is the
    mean over ``[t / rate_out, (t + 1) / rate_out)`` (beyond the input: the last value,
    or 0 for an empty input). Shapes: ``[K, ...]`` -> ``[num_out, ...]``.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.shape[0] == 0:
        return np.zeros((num_out,) + values.shape[1:], np.float32)
    # Integral of the step function at arbitrary times, via the cumulative sum.
    cum = np.concatenate([np.zeros((1,) + values.shape[1:]), np.cumsum(values, axis=0)])

    def integral(times: np.ndarray) -> np.ndarray:
        pos = times * rate_in
        k = np.clip(np.floor(pos).astype(np.int64), 0, values.shape[0])
        frac = pos - k
        # Past the end, values[-1] continues (k is clipped to K, frac may exceed 1).
        current = values[np.minimum(k, values.shape[0] - 1)]
        return (cum[k] + frac.reshape((-1,) + (1,) * (values.ndim - 1)) * current) / rate_in

    edges = np.arange(num_out + 1, dtype=np.float64) / rate_out
    area = integral(edges)
    return ((area[1:] - area[:-1]) * rate_out).astype(np.float32)


def binarize(activity: np.ndarray, fps: float, on: float = 0.5, off: float = 0.35,
             min_speech_s: float = 0.1, min_gap_s: float = 0.3) -> np.ndarray:
    """Hysteresis thresholding plus gap filling: ``[T]`` float -> ``[T]`` bool.

    Frames switch on above ``on`` and off below ``off``; gaps shorter than
    ``min_gap_s`` between speech are filled, then bursts shorter than
    ``min_speech_s`` are dropped.
    """
    act = np.asarray(activity, dtype=np.float32)
    out = np.zeros(act.shape[0], dtype=bool)
    state = False
    for t, v in enumerate(act):
        state = v >= on if not state else v >= off
        out[t] = state
    out = _fill_runs(out, False, min_gap_s * fps, interior_only=True)
    out = _fill_runs(out, True, min_speech_s * fps, interior_only=False)
    return out


def _fill_runs(mask: np.ndarray, value: bool, max_len: float, interior_only: bool) -> np.ndarray:
    """Flip runs of ``value`` shorter than ``max_len`` frames."""
    if max_len <= 0 or mask.size == 0:
        return mask
    mask = mask.copy()
    t, n = 0, mask.shape[0]
    while t < n:
        if mask[t] != value:
            t += 1
            continue
        end = t
        while end < n and mask[end] == value:
            end += 1
        interior = t > 0 and end < n
        if end - t < max_len and (interior or not interior_only):
            mask[t:end] = not value
        t = end
    return mask


def _check_wave(wave16k: np.ndarray) -> np.ndarray:
    wave = np.asarray(wave16k, dtype=np.float32)
    if wave.ndim != 1:
        raise InputError(f"speech activity needs a mono [N] waveform, got shape {wave.shape}")
    if count_non_finite(wave):
        raise InputError("speech activity: the waveform contains NaN or infinite samples")
    return wave


def frame_power(wave16k: np.ndarray, fps: float, num_frames: int,
                block_samples: int = 1 << 20) -> np.ndarray:
    """Mean square of the samples in each frame ``[t / fps, (t + 1) / fps)``: ``[T]`` float64.

    Works through the wave in blocks of about ``block_samples`` samples, so an hour of
    audio needs tens of MB of scratch memory instead of several float64 copies of it.
    """
    wave = np.asarray(wave16k)
    edges = np.minimum(np.round(np.arange(num_frames + 1) * SAMPLE_RATE / fps).astype(np.int64), wave.shape[0])
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    sums = np.zeros(num_frames, np.float64)
    frames_per_block = max(1, int(block_samples * fps / SAMPLE_RATE))
    for f0 in range(0, num_frames, frames_per_block):
        f1 = min(num_frames, f0 + frames_per_block)
        seg = wave[edges[f0]:edges[f1]].astype(np.float64)
        cum = np.concatenate([[0.0], np.cumsum(seg * seg)])
        local = edges[f0:f1 + 1] - edges[f0]
        sums[f0:f1] = cum[local[1:]] - cum[local[:-1]]
    return sums / counts


def two_track_activity(track_a: np.ndarray, track_b: np.ndarray, fps: float = 25.0,
                       num_frames: int | None = None, smooth_s: float = 0.28
                       ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Per-person speech activity from two tracks that may hear each other (bleed).

    With one lapel microphone per person, each channel also picks up the other
    person, attenuated; a VAD alone fires on both channels whenever anyone speaks.
    Here a frame counts for a person only when their channel's power is mostly their
    own: the bleed gain of each direction is estimated from the frames where the
    other channel dominates most (its 10th percentile power ratio, capped at -3 dB),
    the predicted bleed power is subtracted, and the VAD probability is weighted by
    the fraction of power left; a channel more than 12 dB below the other is treated as
    bleed in any case (:data:`LISTENER_GATE_DB`). Overlapping speech keeps both people active (each
    channel's own voice survives the subtraction); with no bleed the weights are ~1
    and the result equals the VAD.

    Args:
        track_a, track_b: ``[N]`` float32 mono at 16 kHz, equal length.
        fps: motion frame rate.
        num_frames: output length (default from the duration).
        smooth_s: span over which frame powers are pooled before comparing channels.

    Returns:
        ``(activity_a [T], activity_b [T], info)`` with activities in [0, 1] and
        ``info`` holding the estimated bleed gains in dB (``bleed_b_in_a_db``,
        ``bleed_a_in_b_db``; ``-inf`` when none).
    """
    from scipy.ndimage import uniform_filter1d

    a, b = _check_wave(track_a), _check_wave(track_b)
    if a.shape != b.shape:
        raise InputError(f"two_track_activity needs equal-length tracks, got {a.shape[0]} and {b.shape[0]} samples")
    if num_frames is None:
        num_frames = max(1, int(round(a.shape[0] / SAMPLE_RATE * fps)))
    silent_a, silent_b = not np.any(a), not np.any(b)
    vad_a = np.zeros(num_frames, np.float32) if silent_a else speech_activity(a, fps, num_frames)
    vad_b = np.zeros(num_frames, np.float32) if silent_b else speech_activity(b, fps, num_frames)
    # Powers summed over ~0.3 s: word gaps and reverberation tails of the other person
    # then no longer look like "my channel is the louder one".
    span = max(1, int(round(smooth_s * fps)))
    # The running mean can dip a hair below zero on digital silence: clip it.
    pa = np.maximum(uniform_filter1d(frame_power(a, fps, num_frames), span, mode="nearest"), 0.0)
    pb = np.maximum(uniform_filter1d(frame_power(b, fps, num_frames), span, mode="nearest"), 0.0)
    eps = 1e-12
    speech = np.maximum(vad_a, vad_b) > 0.5
    g_ba = _bleed_gain(pa, pb, speech, eps)  # how much of b's power shows up in a
    g_ab = _bleed_gain(pb, pa, speech, eps)
    own_a = np.maximum(pa - g_ba * pb, 0.0) / (pa + eps)
    own_b = np.maximum(pb - g_ab * pa, 0.0) / (pb + eps)
    weight_a = np.minimum(_dominance_weight(own_a), _level_gate(pa, pb, eps))
    weight_b = np.minimum(_dominance_weight(own_b), _level_gate(pb, pa, eps))
    info = {"bleed_b_in_a_db": _db(g_ba), "bleed_a_in_b_db": _db(g_ab)}
    return (vad_a * weight_a).astype(np.float32), (vad_b * weight_b).astype(np.float32), info


def _bleed_gain(p_self: np.ndarray, p_other: np.ndarray, speech: np.ndarray, eps: float) -> float:
    """Bleed power gain other -> self, from the frames where the other person talks alone.

    Those frames have the lowest self/other power ratios. Take the frames within 6 dB
    of the 10th percentile ratio, use their median, and double it (3 dB of safety for
    the frame-to-frame spread that room acoustics add). Capped at 0.5 (-3 dB): bleed is
    always quieter than the person at their own microphone.
    """
    sel = speech & (p_other > eps)
    if sel.sum() < 5:
        return 0.0
    ratio = p_self[sel] / p_other[sel]
    low = np.quantile(ratio, 0.1)
    near_low = ratio[ratio <= 4.0 * low]
    if near_low.size == 0:
        return 0.0
    return float(min(2.0 * np.median(near_low), 0.5))


LISTENER_GATE_DB = -12.0
"""A channel more than this far below the other one only carries the other person's bleed
(lapel microphones hear each other 14-26 dB down); the gate ramps over +-2 dB."""


def _level_gate(p_self: np.ndarray, p_other: np.ndarray, eps: float) -> np.ndarray:
    """``[T]`` in [0, 1]: 0 where this channel is far quieter than the other one.

    The subtraction above assumes one fixed bleed gain; real cross-talk (and the residue
    of separated tracks) varies with the talker's position and the room, so frames where
    this channel sits well below the other are treated as bleed whatever the estimate says.
    """
    ratio_db = 10.0 * np.log10((p_self + eps) / (p_other + eps))
    return np.clip((ratio_db - LISTENER_GATE_DB + 2.0) / 4.0, 0.0, 1.0)


def _dominance_weight(own_fraction: np.ndarray) -> np.ndarray:
    """Fraction of a channel's power that is its own -> weight in [0, 1], lightly smoothed."""
    from scipy.ndimage import median_filter

    w = np.clip((own_fraction - 0.25) / 0.35, 0.0, 1.0)
    return median_filter(w, size=3, mode="nearest")


def _db(gain: float) -> float:
    return float(10.0 * np.log10(gain)) if gain > 0 else float("-inf")

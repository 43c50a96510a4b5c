"""Per-person speech activity of two live tracks, computed once per sample.

Offline, :func:`openinfp.audio.conversation.load_conversation` gives each person the
activity of :func:`~openinfp.audio.activity.two_track_activity`: Silero VAD run over the
whole track, then weighted down where the channel's power is mostly the other person's
bleed. The audio conditioners read that activity as a feature and the phonetic
conditioner recognises phones only where it marks speech.

:class:`StreamingActivity` is the same computation for audio that is still arriving:

* Silero runs sequentially on each 32 ms chunk as it completes, both tracks in one
  batch of two, with its recurrent state kept between pushes; this equals offline
  sequential Silero on the whole track (and offline's batched Silero closely), where the
  previous live code re-ran Silero from a fresh state on a 0.7 s window at every step.
* the bleed weighting uses the same functions as offline; the bleed gains, which offline
  estimates from the whole conversation, come from the last :data:`BLEED_HISTORY_S`
  seconds of settled speech frames (0 until there are enough, as offline on a short file).

Memory is bounded: only the chunk probabilities of the newest frames and a fixed-length
history of power ratios are kept.
"""

from __future__ import annotations

from collections import deque
from typing import Optional

import numpy as np

from openinfp.audio.activity import (
    VAD_CHUNK,
    _bleed_gain,
    _dominance_weight,
    _level_gate,
    frame_power,
)
from openinfp.core.audio import SAMPLE_RATE

BLEED_HISTORY_S = 300.0
"""Seconds of speech frames the running bleed-gain estimate looks back over."""

_SPAN_S = 0.28  # power pooling span, as two_track_activity's default smooth_s
_EPS = 1e-12


def _load_vad():
    """A Silero model of our own: its recurrent state is this stream's, not shared."""
    import torch
    from silero_vad import load_silero_vad

    threads = torch.get_num_threads()
    try:
        return load_silero_vad()
    finally:
        torch.set_num_threads(threads)  # importing silero_vad sets torch to one thread


class StreamingActivity:
    """Causal :func:`~openinfp.audio.activity.two_track_activity` for live audio.

    Args:
        fps: motion frame rate of the returned activity.
    """

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.samples_per_frame = SAMPLE_RATE / fps
        self._span = max(1, int(round(_SPAN_S * fps)))
        self._half = self._span // 2  # frames of right context a pooled power needs
        self._model = _load_vad()
        self._rest = np.zeros((2, 0), np.float32)  # samples of the incomplete chunk
        self._probs = np.zeros((2, 0), np.float32)  # [2, K] Silero probabilities kept
        self._probs_start = 0  # chunk index of self._probs[:, 0]
        history = int(BLEED_HISTORY_S * fps)
        self._ratios = (deque(maxlen=history), deque(maxlen=history))  # a/b, b/a on speech frames
        self._gains = (0.0, 0.0)  # bleed power gain b -> a, a -> b
        self._settled = 0  # frames whose powers went into the ratio history
        self._new_ratios = 0

    def warm_up(self) -> None:
        """Run Silero on a few chunks of silence (its first calls are slow), then reset it."""
        import torch

        with torch.inference_mode():
            for _ in range(3):
                self._model(torch.zeros(2, VAD_CHUNK), SAMPLE_RATE)
        self._model.reset_states()

    @property
    def chunks_scored(self) -> int:
        return self._probs_start + self._probs.shape[1]

    def push(self, agent: np.ndarray, partner: np.ndarray) -> None:
        """Score the 32 ms chunks the new samples complete (both ``[n]`` float32)."""
        import torch

        joined = np.concatenate([self._rest, np.stack([agent, partner]).astype(np.float32)], axis=1)
        n = joined.shape[1] // VAD_CHUNK
        self._rest = joined[:, n * VAD_CHUNK:]
        if n == 0:
            return
        out = np.empty((2, n), np.float32)
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(joined[:, :n * VAD_CHUNK]))
            for k in range(n):
                out[:, k] = self._model(x[:, k * VAD_CHUNK:(k + 1) * VAD_CHUNK], SAMPLE_RATE)[:, 0].numpy()
        self._probs = np.concatenate([self._probs, np.clip(out, 0.0, 1.0)], axis=1)

    def vad(self, lo: int, hi: int) -> np.ndarray:
        """``[2, hi - lo]`` Silero probability per frame: the overlap-weighted mean of the
        chunks covering each frame; past the last scored chunk its value continues."""
        if self._probs.shape[1] == 0:
            return np.zeros((2, hi - lo), np.float32)
        edges = np.arange(lo, hi + 1) * self.samples_per_frame / VAD_CHUNK - self._probs_start  # in chunks
        if edges[0] < -1e-9:
            raise RuntimeError("live activity: chunk probabilities trimmed too early")  # internal invariant
        k = self._probs.shape[1]
        cum = np.concatenate([np.zeros((2, 1)), np.cumsum(self._probs, axis=1, dtype=np.float64)], axis=1)
        idx = np.minimum(np.floor(edges).astype(np.int64), k)
        area = cum[:, idx] + (edges - idx) * self._probs[:, np.minimum(idx, k - 1)]
        return (np.diff(area, axis=1) / np.diff(edges)).astype(np.float32)

    def window(self, lo: int, agent: np.ndarray, partner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Activity ``([T], [T])`` of frames ``[lo, lo + T)``, whose audio ``agent`` /
        ``partner`` (``[N]`` each, starting at frame ``lo``) is given.

        The newest ``span / 2`` frames are provisional (their pooled power lacks right
        context) and may change in a later call, as they would at the end of a file offline.
        """
        from scipy.ndimage import uniform_filter1d

        t = int(round(agent.shape[0] / self.samples_per_frame))
        vad_a, vad_b = self.vad(lo, lo + t)
        pa = np.maximum(uniform_filter1d(frame_power(agent, self.fps, t), self._span, mode="nearest"), 0.0)
        pb = np.maximum(uniform_filter1d(frame_power(partner, self.fps, t), self._span, mode="nearest"), 0.0)
        self._learn(lo, vad_a, vad_b, pa, pb)
        g_ba, g_ab = self._gains
        own_a = np.maximum(pa - g_ba * pb, 0.0) / (pa + _EPS)
        own_b = np.maximum(pb - g_ab * pa, 0.0) / (pb + _EPS)
        weight_a = np.minimum(_dominance_weight(own_a), _level_gate(pa, pb, _EPS))
        weight_b = np.minimum(_dominance_weight(own_b), _level_gate(pb, pa, _EPS))
        return (vad_a * weight_a).astype(np.float32), (vad_b * weight_b).astype(np.float32)

    def _learn(self, lo: int, vad_a: np.ndarray, vad_b: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> None:
        """Add settled speech frames to the ratio history; re-estimate the gains each second."""
        scored_frames = int(self.chunks_scored * VAD_CHUNK / self.samples_per_frame)
        first = max(self._settled, lo + self._half)
        last = min(lo + pa.shape[0] - self._half, scored_frames)
        if last <= first:
            return
        sl = slice(first - lo, last - lo)
        speech = np.maximum(vad_a[sl], vad_b[sl]) > 0.5
        a, b = pa[sl][speech], pb[sl][speech]
        self._ratios[0].extend((a[b > _EPS] / b[b > _EPS]).tolist())
        self._ratios[1].extend((b[a > _EPS] / a[a > _EPS]).tolist())
        self._new_ratios += int(speech.sum())
        self._settled = last
        if self._new_ratios >= self.fps:
            self._new_ratios = 0
            self._gains = (self._gain(0), self._gain(1))

    def _gain(self, which: int) -> float:
        ratios = np.fromiter(self._ratios[which], np.float64)
        ones = np.ones_like(ratios)
        return _bleed_gain(ratios, ones, ones.astype(bool), _EPS)

    def trim(self, frame: int) -> None:
        """Forget chunk probabilities before ``frame`` (no later window starts earlier)."""
        keep_from = int(np.floor(frame * self.samples_per_frame / VAD_CHUNK)) - 1
        cut = keep_from - self._probs_start
        if cut > 0:
            self._probs = self._probs[:, cut:]
            self._probs_start = keep_from

    def gains_db(self) -> Optional[tuple[float, float]]:
        """Current bleed gains (b in a, a in b) in dB; ``None`` before any estimate."""
        if not any(self._gains):
            return None
        return tuple(float(10 * np.log10(g)) if g > 0 else float("-inf") for g in self._gains)  # type: ignore[return-value]

"""``openinfp bench --live``: a conversation pushed at real-time pace through a :class:`LiveSession`.

Audio goes in as a microphone would deliver it (``chunk_ms`` pieces, each handed over
when its last sample has been "recorded", on a wall clock started at the first sample).
For every frame the report records when it came back:

* first frame: wall time from the first audio sample to the first frame;
* latency: wall time from the instant a frame shows (``index / fps`` on the
  conversation clock) to the moment the session returned it;
* real-time factor: time spent inside ``push`` over the audio duration.

A session that falls behind is not given a break: its later chunks are pushed as soon
as it returns, and the lag shows in the latency.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from openinfp.core.audio import SAMPLE_RATE


@dataclass
class LiveBenchReport:
    """What one paced run measured (times in milliseconds unless named ``_s``)."""

    size: int
    seconds: float
    chunk_ms: float
    algorithmic_latency_ms: float
    first_frame_ms: float
    latency_p50_ms: float
    latency_p95_ms: float
    latency_max_ms: float
    real_time_factor: float
    frames: int
    load_before: tuple[float, float, float]

    def line(self) -> str:
        """The one-line summary the issue asks for."""
        return (f"live: first frame {self.first_frame_ms:.0f} ms after the first audio; latency p50 "
                f"{self.latency_p50_ms:.0f} ms, p95 {self.latency_p95_ms:.0f} ms (audio sample to its frame); "
                f"real-time factor {self.real_time_factor:.2f} over {self.seconds:.0f} s "
                f"({self.size}x{self.size}, {self.frames} frames, load {self.load_before[0]:.2f})")

    def to_dict(self) -> dict:
        return asdict(self)


def _looped(track: np.ndarray, samples: int) -> np.ndarray:
    reps = -(-samples // max(track.shape[0], 1))
    return np.tile(track, reps)[:samples]


def run_live_bench(agent: np.ndarray, partner: np.ndarray, portrait: np.ndarray, size: int = 256,
                   seconds: float = 60.0, chunk_ms: float = 20.0, pace: bool = True,
                   session: Optional[object] = None) -> LiveBenchReport:
    """Push ``seconds`` of the two tracks (looped if shorter) through a live session.

    Args:
        agent, partner: mono float32 tracks at 16 kHz (the portrait's voice, the other's).
        portrait: ``[H, W, 3]`` uint8 RGB.
        size: output frame size.
        seconds: audio to push (the tracks repeat if shorter).
        chunk_ms: chunk length, as a microphone delivers it.
        pace: wait for the wall clock like a live microphone (``False``: as fast as possible).
        session: an already started :class:`~openinfp.live.session.LiveSession` to reuse.
    """
    from openinfp.live.session import LiveSession

    load = _load()
    if session is None:
        session = LiveSession.start(portrait, size=size)
    total = int(round(seconds * SAMPLE_RATE))
    agent, partner = _looped(agent, total), _looped(partner, total)
    step = max(1, int(round(chunk_ms / 1000 * SAMPLE_RATE)))
    latencies: list[float] = []
    first_frame: Optional[float] = None
    busy = 0.0
    t0 = time.perf_counter()
    for start in range(0, total, step):
        stop = min(start + step, total)
        if pace:  # the chunk exists once its last sample has been recorded
            delay = t0 + stop / SAMPLE_RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        t_push = time.perf_counter()
        frames = session.push(agent[start:stop], partner[start:stop])
        now = time.perf_counter()
        busy += now - t_push
        for frame in frames:
            latencies.append(now - (t0 + frame.time_s))
            if first_frame is None:
                first_frame = now - t0
    lat = np.asarray(latencies) * 1000 if latencies else np.full(1, np.nan)
    return LiveBenchReport(
        size=size, seconds=total / SAMPLE_RATE, chunk_ms=step / SAMPLE_RATE * 1000,
        algorithmic_latency_ms=session.algorithmic_latency_s * 1000,
        first_frame_ms=float("nan") if first_frame is None else first_frame * 1000,
        latency_p50_ms=float(np.percentile(lat, 50)), latency_p95_ms=float(np.percentile(lat, 95)),
        latency_max_ms=float(lat.max()), real_time_factor=busy / (total / SAMPLE_RATE),
        frames=len(latencies), load_before=load)


def _load() -> tuple[float, float, float]:
    try:
        import os

        return tuple(float(x) for x in os.getloadavg())  # type: ignore[return-value]
    except OSError:  # pragma: no cover - platforms without getloadavg
        return (float("nan"),) * 3

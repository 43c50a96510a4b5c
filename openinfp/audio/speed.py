"""Diarization speed and memory on a long recording: ``python -m openinfp.audio.speed``.

Builds a recording of ``--minutes`` by repeating real conversations (every audio file
with an RTTM beside it in ``--source``, e.g. ``../shared/realdata/conversations``, each
at a random gain so the copies are not identical), diarizes it with the default options
and prints the time, the real-time factor, the process's peak resident memory and the
machine's load average (the figure means little without it).
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np


def long_recording(source: Path, minutes: float, seed: int = 0) -> np.ndarray:
    """``[N]`` float32 at 16 kHz: the recordings in ``source`` repeated up to ``minutes``."""
    from openinfp.audio.conversation import to_mono16k
    from openinfp.audio.io import load_audio
    from openinfp.core.errors import InputError

    pieces = []
    for rttm in sorted(Path(source).glob("*.rttm")):
        audio = next((rttm.with_suffix(e) for e in (".flac", ".wav") if rttm.with_suffix(e).is_file()), None)
        if audio is not None:
            pieces.append(to_mono16k(load_audio(audio))[0])
    if not pieces:
        raise InputError(f"{source} holds no NAME.rttm with NAME.flac/.wav beside it")
    rng = np.random.default_rng(seed)
    need = int(minutes * 60 * 16000)
    out = np.zeros(need, np.float32)
    pos = 0
    while pos < need:
        piece = pieces[int(rng.integers(len(pieces)))]
        n = min(piece.shape[0], need - pos)
        out[pos:pos + n] = piece[:n] * np.float32(10 ** (rng.uniform(-6, 3) / 20))
        pos += n
    return np.clip(out, -1.0, 1.0)


def main(argv: list[str] | None = None) -> int:
    from openinfp.audio.config import parse_speakers
    from openinfp.audio.diarize import DiarizationOptions, diarize_frames

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="folder of recordings with RTTMs")
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--speakers", default="auto", help="auto or a number (2 is what --mono-mix uses)")
    args = parser.parse_args(argv)
    wave = long_recording(Path(args.source), args.minutes)
    load = os.getloadavg()
    start = time.perf_counter()
    result = diarize_frames(wave, DiarizationOptions(num_speakers=parse_speakers(args.speakers, "--speakers")))
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak_mb, cpu_s = usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
    duration = wave.shape[0] / 16000
    print(f"diarized {duration / 60:.1f} min in {seconds:.1f} s = {seconds / duration:.3f} x real time; "
          f"{result.num_speakers} speakers; process CPU time {cpu_s:.1f} s (reading included); "
          f"peak RSS {peak_mb:.0f} MB; "
          f"load average before {load[0]:.1f}, "
          f"after {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Audio headers: what a file declares (rate, channels, length), read without decoding,
and the limits every reader checks against it before allocating anything.

Limits: :data:`SAMPLE_RATE_RANGE` (a hostile header claiming 2^31 Hz would make the
resampler's filter take gigabytes), :data:`MAX_DECODED_SAMPLES` (what may be held
decoded at once) and a duration limit (``audio.max_duration_s``, default
:data:`DEFAULT_MAX_DURATION_S`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from openinfp.core.errors import ConfigError, InputError
from openinfp.core.io import PathLike, require_file

SUPPORTED_HINT = "wav, flac, ogg/opus, mp3, m4a/aac, or a video file with an audio track"

DEFAULT_MAX_DURATION_S = 7200.0
"""Longest audio decoded unless a caller passes another limit (``None``: no limit); the
default of ``audio.max_duration_s``."""

SAMPLE_RATE_RANGE = (4_000, 768_000)
"""Sample rates (Hz) accepted from a file header: telephone speech to the highest studio
rates. Anything else is a damaged or hostile header, refused before any allocation (the
resampler's filter grows with the rate)."""

MAX_DECODED_SAMPLES = 384 * 2**20
"""Most samples (frames x channels) held decoded at once: 1.5 GB of float32, an hour of
48 kHz stereo. Checked from the header before decoding (and while FFmpeg decodes);
WAV/FLAC/AIFF files are read in blocks and only their 16 kHz result counts."""

# libsndfile cannot read these containers; go straight to FFmpeg.
FFMPEG_SUFFIXES = {".m4a", ".aac", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wma", ".opus", ".3gp",
                    ".ts", ".flv", ".amr"}


@dataclass
class AudioInfo:
    """What an audio file's header says (nothing decoded).

    Attributes:
        sample_rate: samples per second.
        channels: channel count.
        duration: seconds, or ``None`` when the container does not say.
    """

    sample_rate: int
    channels: int
    duration: Optional[float]


def probe_audio(path: PathLike, max_duration_s: Optional[float] = None) -> AudioInfo:
    """Read ``path``'s header only: rate, channels, duration (bounded memory and time).

    Raises:
        InputError: missing/empty/unreadable file, a sample rate outside
            :data:`SAMPLE_RATE_RANGE`, or longer than ``max_duration_s``.
    """
    import soundfile as sf

    p = require_file(path, "audio file")
    check_limit(max_duration_s)
    info = None
    if p.suffix.lower() not in FFMPEG_SUFFIXES:
        try:
            info = sf.info(str(p))
        except Exception:  # not for libsndfile: ask FFmpeg below
            info = None
    if info is not None:
        check_rate(p, int(info.samplerate))
        result = AudioInfo(int(info.samplerate), int(info.channels), info.frames / info.samplerate)
    else:
        result = _probe_ffmpeg(p)
    if result.duration is not None:
        check_duration(p, result.duration, max_duration_s)
    return result


def _probe_ffmpeg(p: Path) -> AudioInfo:
    import av

    try:
        container = av.open(str(p))
    except Exception as exc:
        raise InputError(f"cannot decode audio file {p}: {first_line(exc)}; supported: {SUPPORTED_HINT}") from None
    with container:
        if not container.streams.audio:
            raise InputError(f"{p} has no audio stream; give a file with sound")
        stream = container.streams.audio[0]
        # PyAV raises AttributeError for the rate of a stream it could not open
        rate = int(getattr(stream, "rate", 0) or getattr(stream.codec_context, "sample_rate", 0) or 0)
        check_rate(p, rate)
        duration = container.duration / 1_000_000.0 if container.duration is not None else None
        return AudioInfo(rate, int(stream.codec_context.channels or 1), duration)


def check_rate(p: Path, rate: int) -> None:
    lo, hi = SAMPLE_RATE_RANGE
    if not lo <= rate <= hi:
        raise InputError(f"audio file {p} declares a sample rate of {rate} Hz, outside the accepted "
                         f"{lo}-{hi} Hz; its header is damaged or it is not audio: re-export it")


def check_budget(p: Path, frames: float, channels: int, rate: int) -> None:
    if frames * channels > MAX_DECODED_SAMPLES:
        raise InputError(f"audio file {p} is {frames / rate:.0f} s of {channels}-channel audio at {rate} Hz, more "
                         f"than can be decoded at once ({MAX_DECODED_SAMPLES} samples); keep only the two "
                         "conversation channels, convert it to WAV or FLAC (read in blocks), or cut it")


def check_limit(limit: Optional[float]) -> None:
    if limit is not None and not (isinstance(limit, (int, float)) and math.isfinite(limit) and limit > 0):
        raise ConfigError(f"audio.max_duration_s must be a positive number of seconds, got {limit!r}")


def check_duration(p: Path, seconds: float, limit: Optional[float]) -> None:
    if limit is not None and seconds > limit + 1e-6:
        raise InputError(
            f"audio file {p} is {seconds:.1f} s long, over the limit of {limit:.0f} s "
            "(raise audio.max_duration_s or cut the file)"
        )


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__

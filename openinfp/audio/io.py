"""Reading audio files (and the audio track of videos), resampling, writing.

Decoding goes through libsndfile (``soundfile``: wav, flac, ogg, mp3, aiff, ...) and
falls back to FFmpeg through PyAV (m4a/aac, opus, video containers such as mp4, mkv,
mov, webm, and anything else FFmpeg reads). Any sample rate and bit depth comes back
as float32 in [-1, 1].

Bad input is refused with one-line :class:`~openinfp.core.errors.InputError` messages
(missing, empty, corrupt, unknown codec, no audio stream, NaN/inf samples, longer than
the configured limit). A file that ends early (truncated download) is decoded up to
where its data stops; :func:`load_audio` says so in ``notes``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path
from typing import Optional

import numpy as np

from openinfp.audio.probe import (  # noqa: F401 (limits and probe_audio re-exported for callers)
    DEFAULT_MAX_DURATION_S,
    FFMPEG_SUFFIXES,
    MAX_DECODED_SAMPLES,
    SAMPLE_RATE_RANGE,
    SUPPORTED_HINT,
    AudioInfo,
    check_budget,
    check_duration,
    check_limit,
    check_rate,
    first_line,
    probe_audio,
)
from openinfp.core.audio import count_non_finite
from openinfp.core.errors import DependencyError, InputError, OutputError
from openinfp.core.io import PathLike, atomic_output, require_file


@dataclass
class AudioClip:
    """A decoded file.

    Attributes:
        wave: ``[N]`` (mono) or ``[N, C]`` float32 samples in [-1, 1].
        sample_rate: samples per second of ``wave``.
        path: the file it came from.
        notes: remarks on handling (truncated data, decoder warnings).
    """

    wave: np.ndarray
    sample_rate: int
    path: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def num_channels(self) -> int:
        return 1 if self.wave.ndim == 1 else int(self.wave.shape[1])

    @property
    def duration(self) -> float:
        return self.wave.shape[0] / float(self.sample_rate)


def read_audio(path: PathLike, max_duration_s: Optional[float] = DEFAULT_MAX_DURATION_S) -> tuple[np.ndarray, int]:
    """Decode ``path`` to float32 samples.

    Args:
        path: an audio file or a video file with an audio track.
        max_duration_s: refuse files longer than this many seconds, from the header
            where it says (default 7200 s; ``None``: no limit).

    Returns:
        ``(wave, sample_rate)`` with ``wave`` ``[N]`` for mono files and ``[N, C]``
        otherwise, float32 in [-1, 1], at the file's own rate.

    Raises:
        InputError: missing/empty/corrupt file, unknown codec, no audio stream, no
            samples, NaN/inf samples, or longer than ``max_duration_s``.
    """
    clip = load_audio(path, max_duration_s=max_duration_s)
    return clip.wave, clip.sample_rate


def load_audio(path: PathLike, max_duration_s: Optional[float] = DEFAULT_MAX_DURATION_S) -> AudioClip:
    """Like :func:`read_audio` but returns an :class:`AudioClip` with handling notes."""
    p = require_file(path, "audio file")
    check_limit(max_duration_s)
    notes: list[str] = []
    clip: Optional[AudioClip] = None
    sf_error = ""
    if p.suffix.lower() not in FFMPEG_SUFFIXES:
        clip, sf_error = _read_soundfile(p, max_duration_s, notes)
    if clip is None:
        clip = _read_ffmpeg(p, max_duration_s, notes, sf_error)
    wave = clip.wave
    if wave.shape[0] == 0:
        raise InputError(f"audio file {p} holds no samples (0 s of audio); check the export")
    bad = count_non_finite(wave)
    if bad:
        raise _non_finite_error(p, bad)
    if wave.ndim == 2 and wave.shape[1] == 1:
        wave = wave[:, 0]
    wave = np.ascontiguousarray(wave, dtype=np.float32)
    # The decoded samples are ours: clip in place (an hour of stereo is 460 MB at 16 kHz).
    np.clip(wave, -1.0, 1.0, out=wave)
    clip.wave = wave
    return clip


def _non_finite_error(p: Path, bad: int) -> InputError:
    return InputError(f"audio file {p} contains {bad} NaN or infinite samples; re-export it as PCM or clean float")


def _truncation_notes(p: Path, seconds: float) -> list[str]:
    """A note when ``p`` is a WAV whose data chunk ends early (``seconds`` were read)."""
    if p.suffix.lower() not in (".wav", ".wave"):
        return []
    missing = _wav_missing_bytes(p)
    if missing <= 0:
        return []
    return [f"{p.name} is truncated ({missing} bytes of audio data missing); used the {seconds:.2f} s that are present"]


def _read_soundfile(p: Path, limit: Optional[float], notes: list[str]) -> tuple[Optional[AudioClip], str]:
    import soundfile as sf

    try:
        info = sf.info(str(p))
    except Exception as exc:  # libsndfile raises its own error type for unknown formats
        return None, str(exc).splitlines()[0]
    if info.samplerate <= 0:
        return None, "invalid sample rate"
    check_rate(p, int(info.samplerate))
    check_duration(p, info.frames / info.samplerate, limit)
    check_budget(p, info.frames, info.channels, int(info.samplerate))
    try:
        wave, sr = sf.read(str(p), dtype="float32", always_2d=True)
    except Exception as exc:
        return None, str(exc).splitlines()[0]
    notes += _truncation_notes(p, wave.shape[0] / sr)
    return AudioClip(wave, int(sr), str(p), notes), ""


def _wav_missing_bytes(p: Path) -> int:
    """How many bytes the RIFF ``data`` chunk claims beyond the end of the file (0 if none)."""
    size = p.stat().st_size
    with open(p, "rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return 0
        pos = 12
        while pos + 8 <= size:
            fh.seek(pos)
            chunk = fh.read(8)
            if len(chunk) < 8:
                return 0
            cid, clen = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                if clen in (0, 0xFFFFFFFF):  # streaming writers leave the size unset
                    return 0
                return max(0, pos + 8 + clen - size)
            pos += 8 + clen + (clen & 1)
    return 0


def _read_ffmpeg(p: Path, limit: Optional[float], notes: list[str], sf_error: str) -> AudioClip:
    try:
        import av
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise DependencyError("decoding this format needs PyAV (pip install av)") from exc

    why = f" (libsndfile: {sf_error})" if sf_error else ""
    try:
        container = av.open(str(p))
    except Exception as exc:
        raise InputError(f"cannot decode audio file {p}: {first_line(exc)}{why}; "
                         f"supported: {SUPPORTED_HINT}") from None
    with container:
        if not container.streams.audio:
            kinds = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
            raise InputError(f"{p} has no audio stream ({kinds}); give a file with sound")
        stream = container.streams.audio[0]
        if len(container.streams.audio) > 1:
            notes.append(f"{p.name} has {len(container.streams.audio)} audio streams; used the first")
        # PyAV raises AttributeError for the rate of a stream it could not open
        rate = int(getattr(stream, "rate", 0) or getattr(stream.codec_context, "sample_rate", 0) or 0)
        if rate <= 0:
            raise InputError(f"cannot decode audio file {p}: its audio stream has no sample rate")
        check_rate(p, rate)
        if container.duration is not None:
            check_duration(p, container.duration / 1_000_000.0, limit)
            check_budget(p, container.duration / 1_000_000.0 * rate, int(stream.codec_context.channels or 1), rate)
        # Normalise every decoded frame to planar float32 at the stream's own rate/layout.
        resampler = av.AudioResampler(format="fltp")
        chunks: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    total += arr.shape[1]
                if limit is not None and total / rate > limit:
                    check_duration(p, total / rate, limit)
                if chunks and total * chunks[0].shape[0] > MAX_DECODED_SAMPLES:
                    check_budget(p, total, chunks[0].shape[0], rate)
        except InputError:
            raise
        except Exception as exc:
            if not chunks:
                raise InputError(f"cannot decode audio file {p}: {first_line(exc)}; "
                                 f"supported: {SUPPORTED_HINT}") from None
            notes.append(f"{p.name} is damaged after {total / rate:.2f} s ({first_line(exc)}); used what decoded")
    if not chunks:
        raise InputError(f"audio file {p} holds no decodable audio samples; check the file")
    channels = {c.shape[0] for c in chunks}
    if len(channels) != 1:
        raise InputError(f"audio file {p} changes its channel count mid-stream ({sorted(channels)}); re-export it")
    # Move the decoded frames into one [N, C] array (channels contiguous), freeing each
    # frame as it is copied: the peak is one copy of the audio, not two.
    wave = np.empty((total, channels.pop()), np.float32, order="F")
    chunks.reverse()
    pos = 0
    while chunks:
        chunk = chunks.pop()
        wave.T[:, pos:pos + chunk.shape[1]] = chunk
        pos += chunk.shape[1]
    return AudioClip(wave, rate, str(p), notes)


def resample(wave: np.ndarray, sr_from: int, sr_to: int, block_out: int = 1 << 20) -> np.ndarray:
    """Resample along the first axis with a polyphase filter (anti-aliased).

    Long signals are resampled in blocks of about ``block_out`` output samples, each
    with enough context on both sides for the filter, so the result equals resampling
    the whole signal at once (up to float rounding) without its float64 temporaries.

    Args:
        wave: ``[N]`` or ``[N, C]`` float samples.
        sr_from, sr_to: rates in Hz (positive integers).
        block_out: output samples per block.

    Returns:
        float32 ``[M]`` or ``[M, C]`` with ``M = ceil(N * sr_to / sr_from)``.
    """
    sr_from, sr_to = int(sr_from), int(sr_to)
    lo, hi = SAMPLE_RATE_RANGE
    if not (0 < sr_from <= hi and 0 < sr_to <= hi):
        raise InputError(f"sample rates must be between 1 and {hi} Hz, got {sr_from} -> {sr_to}")
    wave = np.asarray(wave, dtype=np.float32)
    if sr_from == sr_to or wave.shape[0] == 0:
        return wave.copy()
    g = gcd(sr_from, sr_to)
    up, down = sr_to // g, sr_from // g
    if wave.ndim == 2:  # channel by channel into a channel-contiguous (Fortran-order) array
        out = np.empty((-(-wave.shape[0] * up // down), wave.shape[1]), np.float32, order="F")
        for c in range(wave.shape[1]):
            out[:, c] = _resample_1d(wave[:, c], up, down, block_out)
        return out
    return _resample_1d(wave, up, down, block_out)


def _resample_1d(wave: np.ndarray, up: int, down: int, block_out: int) -> np.ndarray:
    """Polyphase ``up / down`` resampling of ``[N]`` in blocks (zeros outside the signal)."""
    from scipy.signal import resample_poly

    from openinfp.audio.spectral import padded_slice

    out = np.empty(-(-wave.shape[0] * up // down), np.float32)
    for m0, m1, start, stop, skip in _resample_plan(wave.shape[0], up, down, block_out):
        out[m0:m1] = resample_poly(padded_slice(wave, start, stop), up, down)[skip:skip + m1 - m0]
    return out


def _resample_plan(n_in: int, up: int, down: int, block_out: int):
    """Blocks of a polyphase ``up / down`` resampling of ``n_in`` samples.

    Yields ``(m0, m1, start, stop, skip)``: output samples ``[m0, m1)`` are
    ``resample_poly(x[start:stop], up, down)[skip:skip + m1 - m0]``, where ``x`` is the
    input with zeros outside ``[0, n_in)``; equal to resampling the whole input at once.
    """
    n_out = -(-n_in * up // down)
    block = max(1, block_out // up) * up  # a multiple of `up`: every block starts on an input sample
    # Context on each side, a multiple of `down` so it maps to whole output samples;
    # scipy's default filter reaches 10 * max(up, down) samples at the upsampled rate.
    reach = -(-10 * max(up, down) // up) + 8 if (up, down) != (1, 1) else 0
    margin = -(-reach // down) * down
    for m0 in range(0, n_out, block):
        m1 = min(n_out, m0 + block)
        start = m0 // up * down - margin
        stop = start + margin + -(-(m1 - m0) * down // up) + margin
        yield m0, m1, start, stop, margin * up // down


_SEEKABLE_FORMATS = {"WAV", "WAVEX", "W64", "RF64", "AIFF", "AIFC", "CAF", "FLAC"}
"""libsndfile formats read block by block by :func:`load_audio_resampled` (exact seeking)."""


def load_audio_resampled(path: PathLike, sample_rate: int, max_duration_s: Optional[float] = DEFAULT_MAX_DURATION_S,
                         block_out: int = 1 << 20) -> AudioClip:
    """Decode ``path`` at ``sample_rate``, in bounded memory where the format allows.

    PCM files libsndfile can seek (wav, flac, aiff, ...) are read block by block and
    resampled straight into the output, so the file's own samples are never held
    whole (an hour of 48 kHz stereo would be 1.4 GB of float32). Other formats are
    decoded whole (FFmpeg) and then resampled in blocks. Either way the result equals
    :func:`load_audio` followed by :func:`resample` (same checks, clipping and notes).

    Returns:
        An :class:`AudioClip` at ``sample_rate`` whose ``wave`` is ``[N]`` (mono) or
        ``[N, C]`` with each channel contiguous in memory (Fortran order), so
        ``wave[:, c]`` is a track without a copy.
    """
    p = require_file(path, "audio file")
    check_limit(max_duration_s)
    streamed = _read_soundfile_resampled(p, int(sample_rate), max_duration_s, block_out)
    if streamed is not None:
        return streamed
    clip = load_audio(p, max_duration_s=max_duration_s)
    wave = clip.wave
    if clip.sample_rate != sample_rate:
        wave = resample(wave, clip.sample_rate, sample_rate, block_out)
    return AudioClip(np.asfortranarray(wave), int(sample_rate), clip.path, clip.notes)


def _read_soundfile_resampled(p: Path, sample_rate: int, limit: Optional[float],
                              block_out: int) -> Optional[AudioClip]:
    """The block-by-block path of :func:`load_audio_resampled`; ``None`` if it does not apply."""
    import soundfile as sf
    from scipy.signal import resample_poly

    if p.suffix.lower() in FFMPEG_SUFFIXES:
        return None
    try:
        f = sf.SoundFile(str(p))
    except Exception:  # not for libsndfile: load_audio reports or falls back to FFmpeg
        return None
    with f:
        if f.format not in _SEEKABLE_FORMATS or not f.seekable() or f.samplerate <= 0 or f.frames <= 0:
            return None
        rate_in, n_in, n_ch = int(f.samplerate), int(f.frames), int(f.channels)
        check_rate(p, rate_in)
        check_duration(p, n_in / rate_in, limit)
        g = gcd(rate_in, sample_rate)
        up, down = sample_rate // g, rate_in // g
        check_budget(p, -(-n_in * up // down), n_ch, sample_rate)
        out = np.empty((-(-n_in * up // down), n_ch), np.float32, order="F")
        bad = 0
        try:
            for m0, m1, start, stop, skip in _resample_plan(n_in, up, down, block_out):
                segment = np.zeros((stop - start, n_ch), np.float32)
                lo, hi = max(start, 0), min(stop, n_in)
                f.seek(lo)
                got = f.read(hi - lo, dtype="float32", always_2d=True)
                segment[lo - start:lo - start + got.shape[0]] = got
                # Count bad samples once: in this block's own input range (blocks' contexts overlap).
                own_lo = m0 // up * down
                own_hi = min(n_in, own_lo + -(-(m1 - m0) * down // up))
                own = segment[own_lo - start:own_hi - start]
                bad += count_non_finite(own)
                if bad:
                    continue
                np.clip(segment, -1.0, 1.0, out=segment)
                for c in range(n_ch):
                    column = np.ascontiguousarray(segment[:, c])
                    full = column if (up, down) == (1, 1) else resample_poly(column, up, down)
                    out[m0:m1, c] = full[skip:skip + m1 - m0]
        except Exception:  # a damaged stretch: load_audio's whole-file path decodes what it can
            return None
    if bad:
        raise _non_finite_error(p, bad)
    return AudioClip(out[:, 0] if n_ch == 1 else out, sample_rate, str(p), _truncation_notes(p, n_in / rate_in))


def write_audio(path: PathLike, wave: np.ndarray, sample_rate: int) -> Path:
    """Write ``[N]`` or ``[N, C]`` float samples as 16-bit PCM (wav/flac by suffix), atomically."""
    import soundfile as sf

    target = Path(path)
    if target.suffix.lower() not in (".wav", ".flac"):
        raise InputError(f"output {target} must end in .wav or .flac")
    with atomic_output(target, what="output audio") as tmp:
        try:
            sf.write(str(tmp), np.clip(np.asarray(wave, dtype=np.float32), -1.0, 1.0), int(sample_rate),
                     subtype="PCM_16", format=target.suffix[1:].upper())
        except sf.SoundFileError as exc:  # libsndfile hides errno ("System error.")
            raise OutputError(f"cannot write output audio {target}: {first_line(exc)} (disk full or "
                              "not writable?); free some space or choose another folder") from None
    return target

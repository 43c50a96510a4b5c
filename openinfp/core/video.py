"""Streaming MP4 writer (H.264, yuv420p, AAC audio) with provenance.

Frames are pushed one at a time, so long videos are encoded in bounded memory. The
file is written to a temporary name beside the target and moved into place only when
:meth:`VideoWriter.close` succeeds: an error never leaves a half-written video.

Every video carries provenance: container tags (``generator``, ``generator_version``,
``synthetic``, ``comment``), the invisible watermark of
:mod:`openinfp.core.watermark` (on by default) and, on request, a visible
"AI-generated" label. ``openinfp verify VIDEO`` reads them back.
"""

from __future__ import annotations

import contextlib
import math
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np

from openinfp import __version__
from openinfp.core.errors import InputError
from openinfp.core.io import (
    PathLike,
    check_output_path,
    is_write_failure,
    make_folders,
    publish,
    remove_folders,
    temporary_sibling,
    write_error,
)
from openinfp.core.provenance import ProvenanceFilter

GENERATOR_TAG = f"openinfp {__version__}"
"""Value of the ``encoder``/``comment`` metadata: marks the video as openinfp output."""

FrameFilter = Callable[[int, np.ndarray], np.ndarray]


class VideoWriter:
    """Encode RGB frames (``[H, W, 3]`` uint8) and optional audio into an MP4.

    Args:
        path: output ``.mp4``.
        fps: frame rate.
        audio: optional ``[N]`` or ``[N, C]`` float32 in [-1, 1] (C = 1 or 2) to mux,
            or a sequence of C ``[N]`` channel arrays (left, right): those are muxed
            without being copied into one array, which matters for hour-long audio.
        sample_rate: sample rate of ``audio``.
        crf: H.264 quality (lower is better).
        metadata: extra container tags; ``generator``, ``generator_version``,
            ``comment`` and ``synthetic`` are always set.
        frame_filter: applied to every frame before encoding (before the label and
            the watermark). A :class:`~openinfp.core.provenance.ProvenanceFilter` here
            is not applied twice: it sets the ``watermark``/``label`` defaults instead.
        watermark: embed the invisible provenance watermark (``output.watermark``);
            default on.
        label: draw the visible "AI-generated" label (``output.label``); default off.

    Use as a context manager; leaving the block by an exception discards the output.
    """

    def __init__(
        self,
        path: PathLike,
        fps: float = 25.0,
        audio: Optional[Union[np.ndarray, Sequence[np.ndarray]]] = None,
        sample_rate: int = 16_000,
        crf: int = 20,
        metadata: Optional[dict[str, str]] = None,
        frame_filter: Optional[FrameFilter] = None,
        *,
        watermark: Optional[bool] = None,
        label: Optional[bool] = None,
    ) -> None:
        import av  # lazy: PyAV is only needed when writing videos

        self.path = Path(path)
        if self.path.suffix.lower() != ".mp4":
            raise InputError(f"output video {self.path} must end in .mp4")
        check_output_path(self.path, "output video")
        # Validate everything before the temporary file exists: a refused input leaves nothing.
        if not _positive_number(fps):
            raise InputError(f"video frame rate must be a positive number, got {fps!r}")
        self._audio = None if audio is None else _as_audio(audio)
        self._created = make_folders(self.path.parent)
        try:
            self._tmp = temporary_sibling(self.path, ".mp4")
        except OSError as exc:
            remove_folders(self._created)
            raise write_error(exc, self.path, "output video") from None
        self.fps = fps
        self.crf = crf
        if isinstance(frame_filter, ProvenanceFilter):
            watermark = frame_filter.watermark if watermark is None else watermark
            label = frame_filter.label if label is None else label
            frame_filter = None
        self.frame_filter = frame_filter
        self.provenance = ProvenanceFilter(watermark=True if watermark is None else watermark,
                                           label=bool(label))
        self.num_frames = 0
        self._sample_rate = int(sample_rate)
        self._video = None
        self._closed = False
        # use_metadata_tags keeps our custom tags (generator, synthetic) in the MP4 header.
        try:
            self._container = av.open(str(self._tmp), mode="w",
                                      options={"movflags": "+faststart+use_metadata_tags"})
        except BaseException as exc:
            self._tmp.unlink(missing_ok=True)
            remove_folders(self._created)
            if is_write_failure(exc, self._tmp):
                raise write_error(exc, self.path, "output video") from None
            raise
        try:
            self._set_tags(metadata)
        except BaseException:
            self.abort()
            raise

    def _set_tags(self, metadata: Optional[dict[str, str]]) -> None:
        tags = {
            "comment": f"synthetic video generated by {GENERATOR_TAG}",
            "generator": GENERATOR_TAG,
            "generator_version": __version__,
            "synthetic": "true",
        }
        if self.provenance.watermark:
            from openinfp.core.watermark import WATERMARK_TAG

            tags["watermark"] = WATERMARK_TAG
        if self.provenance.label:
            tags["visible_label"] = "AI-generated"
        tags.update(metadata or {})
        for key, value in tags.items():
            self._container.metadata[str(key)] = str(value)

    def _open_video_stream(self, height: int, width: int) -> None:
        rate = Fraction(self.fps).limit_denominator(1001)
        self._video = self._container.add_stream("libx264", rate=rate)
        self._video.width, self._video.height = width, height
        self._video.pix_fmt = "yuv420p"
        self._video.options = {"crf": str(self.crf), "preset": "veryfast"}
        if self._audio is not None:
            self._astream = self._container.add_stream("aac", rate=self._sample_rate)
            self._astream.layout = "stereo" if len(self._audio) == 2 else "mono"

    def write(self, frame: np.ndarray) -> None:
        """Encode one ``[H, W, 3]`` uint8 RGB frame (H and W even)."""
        import av

        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"video frames must be [H, W, 3] uint8 RGB, got {frame.dtype} {frame.shape}")
        if frame.shape[0] % 2 or frame.shape[1] % 2:
            raise InputError(f"video frame size must be even for yuv420p, got {frame.shape[1]}x{frame.shape[0]}")
        if self._video is None:
            self._open_video_stream(frame.shape[0], frame.shape[1])
        elif (frame.shape[0], frame.shape[1]) != (self._video.height, self._video.width):
            raise InputError("all video frames must have the same size")
        if self.frame_filter is not None:
            frame = self.frame_filter(self.num_frames, frame)
        frame = self.provenance(self.num_frames, frame)
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
        try:
            for packet in self._video.encode(vf):
                self._container.mux(packet)
        except OSError as exc:
            if is_write_failure(exc, self._tmp):
                raise write_error(exc, self.path, "output video") from None
            raise
        self.num_frames += 1

    def write_all(self, frames: Iterable[np.ndarray]) -> int:
        """Encode every frame of an iterable; returns the number written."""
        for frame in frames:
            self.write(frame)
        return self.num_frames

    def _encode_audio(self) -> None:
        import av

        channels = self._audio
        # Trim/pad the audio to the video's duration so the two streams end together;
        # blocks are cut from the channels one at a time (no full-length copies).
        n = int(round(self.num_frames / self.fps * self._sample_rate))
        have = channels[0].shape[0]
        chunk = 1024
        for start in range(0, n, chunk):
            stop = min(n, start + chunk)
            block = np.zeros((len(channels), stop - start), np.float32)  # planar [C, n]
            if start < have:
                for c, channel in enumerate(channels):
                    np.clip(channel[start:min(stop, have)], -1.0, 1.0, out=block[c, :min(stop, have) - start])
            af = av.AudioFrame.from_ndarray(block, format="fltp",
                                            layout="stereo" if block.shape[0] == 2 else "mono")
            af.sample_rate = self._sample_rate
            af.pts = start
            for packet in self._astream.encode(af):
                self._container.mux(packet)
        for packet in self._astream.encode(None):
            self._container.mux(packet)

    def close(self) -> Path:
        """Flush, finish the file and move it into place. Returns the final path."""
        if self._closed:
            return self.path
        if self._video is None:
            self.abort()
            raise InputError(f"no frames were rendered for {self.path}; nothing written")
        try:
            for packet in self._video.encode(None):
                self._container.mux(packet)
            if self._audio is not None:
                self._encode_audio()
            self._container.close()
            publish(self._tmp, self.path)
        except BaseException as exc:
            self.abort()
            if is_write_failure(exc, self._tmp, self.path):
                raise write_error(exc, self.path, "output video") from None
            raise
        self._closed = True
        return self.path

    def abort(self) -> None:
        """Discard the partial output."""
        self._closed = True
        with contextlib.suppress(Exception):
            self._container.close()
        with contextlib.suppress(FileNotFoundError):
            self._tmp.unlink()
        remove_folders(self._created)

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def output_options(output: Any) -> dict[str, Any]:
    """:class:`VideoWriter` keyword arguments from an
    :class:`~openinfp.core.config.OutputConfig` (``crf``, ``watermark``, ``label``)::

        VideoWriter(path, fps, audio=stereo, **output_options(cfg.output))
    """
    return {"crf": int(output.crf), "watermark": bool(output.watermark), "label": bool(output.label)}


def _positive_number(value: Any) -> bool:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return math.isfinite(number) and number > 0


def _as_audio(audio: Union[np.ndarray, Sequence[np.ndarray]]) -> tuple[np.ndarray, ...]:
    """Validated audio to mux as a tuple of C ``[N]`` float32 channels (C = 1 or 2).

    Float32 input is not copied; finiteness is checked in blocks so an hour of audio
    needs no full-size temporary arrays. Clipping to [-1, 1] happens per encoded block.
    """
    if isinstance(audio, np.ndarray):
        wave = np.asarray(audio, dtype=np.float32)
        if wave.ndim == 1:
            wave = wave[:, None]
        if wave.ndim != 2 or wave.shape[1] not in (1, 2):
            raise InputError(f"audio to mux must be [N] or [N, 1|2], got {wave.shape}")
        channels = tuple(wave[:, c] for c in range(wave.shape[1]))
    else:
        channels = tuple(np.asarray(c, dtype=np.float32) for c in audio)
        if len(channels) not in (1, 2) or any(c.ndim != 1 for c in channels):
            raise InputError(f"audio to mux as channels must be 1 or 2 arrays of shape [N], got "
                             f"{[c.shape for c in channels]}")
        if len({c.shape[0] for c in channels}) != 1:
            raise InputError(f"audio channels to mux differ in length: {[c.shape[0] for c in channels]} samples")
    from openinfp.core.audio import count_non_finite

    if any(count_non_finite(channel) for channel in channels):
        raise InputError("audio to mux contains NaN or infinite samples")
    return channels


def probe_video(path: PathLike, count_frames: bool = True) -> dict:
    """Basic facts of a video file: ``frames``, ``fps``, ``width``, ``height``,
    ``duration`` (s), ``codec``, ``pix_fmt``, ``has_audio``, ``audio_duration`` and
    container ``metadata``.

    ``count_frames=False`` skips decoding the whole video to count its frames (slow for
    long videos) and takes the container's frame count, or duration x rate, instead;
    ``frames`` is then an estimate for progress bars (0 when unknown).
    """
    import av

    p = Path(path)
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                kind = "an audio file" if container.streams.audio else "a media file"
                raise InputError(f"{p} has no video stream (it is {kind}); give a video file")
            vs = container.streams.video[0]
            if count_frames:
                frames = sum(1 for _ in container.decode(vs))
            else:
                seconds = float(vs.duration * vs.time_base) if vs.duration else (
                    container.duration / 1e6 if container.duration else 0.0)
                frames = int(vs.frames) or int(round(seconds * float(vs.average_rate or 0)))
            info = {
                "frames": frames,
                "fps": float(vs.average_rate) if vs.average_rate else 0.0,
                "width": vs.codec_context.width,
                "height": vs.codec_context.height,
                "codec": vs.codec_context.name,
                "pix_fmt": vs.codec_context.pix_fmt,
                "metadata": dict(container.metadata),
                "has_audio": bool(container.streams.audio),
            }
            info["duration"] = frames / info["fps"] if info["fps"] else 0.0
            if container.streams.audio:
                a = container.streams.audio[0]
                info["audio_duration"] = float(a.duration * a.time_base) if a.duration else None
    except (av.error.FFmpegError, IndexError) as exc:
        raise InputError(f"video {p} cannot be read: {exc}") from None
    return info


def read_frames(path: PathLike) -> Iterable[np.ndarray]:
    """Yield the frames of a video as ``[H, W, 3]`` uint8 RGB."""
    import av

    try:
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                yield frame.to_ndarray(format="rgb24")
    except av.error.FFmpegError as exc:
        raise InputError(f"video {path} cannot be read: {exc}") from None

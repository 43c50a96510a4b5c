"""Check a video for openinfp's provenance: container tags and the invisible watermark.

The tags are easy to strip (any re-encode that does not copy metadata loses them); the
watermark is in the pixels and survives re-encoding and rescaling. Both are reported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, require_file
from openinfp.core.watermark import DEFAULT_KEY, THRESHOLD, WatermarkDetector, WatermarkResult

DEFAULT_MAX_FRAMES = 300
"""Frames analysed by default (12 s at 25 fps): more adds little for a fixed pattern."""

_TAG_KEYS = ("generator", "generator_version", "synthetic", "watermark", "visible_label", "comment")


@dataclass
class VerifyReport:
    """What ``openinfp verify`` found in one video.

    Attributes:
        path: the video.
        width, height: frame size.
        tags: the provenance-related container tags present (generator, synthetic, ...).
        tagged: the container says it is synthetic openinfp output.
        watermark: the detector's result (score, decision, frames analysed).
    """

    path: str
    width: int
    height: int
    tags: dict[str, str] = field(default_factory=dict)
    tagged: bool = False
    watermark: WatermarkResult | None = None

    @property
    def marked(self) -> bool:
        """Either the tags or the watermark identify the video as openinfp output."""
        return self.tagged or bool(self.watermark and self.watermark.present)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["marked"] = self.marked
        return out

    def format(self) -> str:
        """Human-readable multi-line report."""
        lines = [f"{self.path} ({self.width}x{self.height})"]
        if self.tags:
            lines.append("  metadata: " + ", ".join(f"{k}={v!r}" for k, v in self.tags.items() if k != "comment"))
        else:
            lines.append("  metadata: no openinfp provenance tags (stripped, or not an openinfp video)")
        wm = self.watermark
        if wm is not None:
            verdict = "PRESENT" if wm.present else "not found"
            chance = f"{wm.false_alarm:.1e}" if wm.false_alarm > 0 else "< 1e-300"
            lines.append(f"  watermark: {verdict} (score {wm.score:.2f}, threshold {wm.threshold:.2f}, "
                         f"{wm.frames} frames, chance of this score without the mark {chance})")
        lines.append("  verdict: " + ("synthetic video made with openinfp" if self.marked
                                       else "no openinfp provenance found"))
        return "\n".join(lines)


def read_video_evidence(path: PathLike, key: str = DEFAULT_KEY, threshold: float = THRESHOLD,
                        max_frames: int = DEFAULT_MAX_FRAMES) -> tuple[WatermarkDetector, dict[str, str], int, int]:
    """Decode up to ``max_frames`` frames of ``path`` into a :class:`WatermarkDetector`.

    Returns:
        ``(detector, container metadata, width, height)``; the detector can then score
        the frames against any key (:meth:`WatermarkDetector.result`).

    Raises:
        InputError: missing/empty file, not a readable video, no video stream, no frames.
    """
    import av  # lazy: PyAV is only needed to read videos

    p = require_file(path, "video")
    if max_frames < 1:
        raise InputError(f"max_frames must be at least 1, got {max_frames}")
    detector = WatermarkDetector(key, threshold)
    try:
        with av.open(str(p)) as container:
            if not container.streams.video:
                raise InputError(f"{p} has no video stream; give an .mp4 (or other video) file")
            stream = container.streams.video[0]
            metadata = {str(k): str(v) for k, v in container.metadata.items()}
            width, height = stream.codec_context.width, stream.codec_context.height
            for frame in container.decode(stream):
                detector.add(frame.to_ndarray(format="gray"))  # the luma plane
                if detector.frames >= max_frames:
                    break
    except av.error.FFmpegError as exc:
        raise InputError(f"video {p} cannot be read ({type(exc).__name__}: {exc}); is it a video file?") from None
    if detector.frames == 0:
        raise InputError(f"video {p} has no decodable frames")
    return detector, metadata, width, height


def verify_video(path: PathLike, key: str = DEFAULT_KEY, threshold: float = THRESHOLD,
                 max_frames: int = DEFAULT_MAX_FRAMES) -> VerifyReport:
    """Read ``path``'s container tags and score up to ``max_frames`` of its first frames
    for the watermark.

    Raises:
        InputError: missing/empty file, not a readable video, no video stream, no frames.
    """
    detector, metadata, width, height = read_video_evidence(path, key, threshold, max_frames)
    tags = {k: metadata[k] for k in _TAG_KEYS if k in metadata}
    tagged = tags.get("synthetic", "").lower() == "true" or tags.get("generator", "").startswith("openinfp")
    return VerifyReport(path=str(Path(path)), width=width, height=height, tags=tags, tagged=tagged,
                        watermark=detector.result())

"""Talking videos -> conversation shards (head tracker + the videos' audio).

Layouts (``VideoOptions.layout``):

* ``single``: one person per video with their own audio; side ``a`` is that person,
  the partner is silent and has no motion (plain talking-head data).
* ``pair``: ``NAME_a.mp4`` + ``NAME_b.mp4`` (also ``-a``/``.a``): one person per video,
  each with their own microphone; side ``a`` / ``b``. The two videos must start together.
* ``side-by-side``: one video with two faces, the left person is side ``a``; audio is
  stereo (``agent_channel`` = the left person's channel) or, with ``mono_mix``, a mono
  mix diarized into two tracks. Each half of the frame is tracked separately (the
  halves are written to temporary near-lossless videos first).
* ``auto``: ``pair`` where both files of a pair exist, else ``single``.

Faces are tracked with :class:`openinfp.head.tracker.HeadTracker` (MediaPipe face mesh
and the ARKit fit), motion is resampled from the video's frame rate to 25 fps, and the
audio is read and split by :func:`openinfp.audio.conversation.load_conversation`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import numpy as np

from openinfp.core.errors import InputError
from openinfp.data.config import VideoOptions
from openinfp.data.readers.common import FPS, PrepareItem, build_conversation, resample_motion, safe_id, split_for
from openinfp.data.shards import Conversation

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
_PAIR = re.compile(r"^(?P<stem>.+?)[_.-](?P<side>[ab])$")


class VideoReader:
    """``openinfp prepare --format video`` (see the module docstring for the layouts)."""

    def __init__(self, options: VideoOptions | None = None) -> None:
        self.options = options or VideoOptions()

    def discover(self, inputs: list[str]) -> list[PrepareItem]:
        files: list[Path] = []
        for p in map(Path, inputs):
            if p.is_dir():
                files += sorted(f for f in p.rglob("*") if f.suffix.lower() in VIDEO_SUFFIXES)
            elif p.is_file():
                files.append(p)
            else:
                raise InputError(f"video input {p} does not exist")
        layout = self.options.layout
        by_stem: dict[tuple[Path, str], dict[str, Path]] = {}
        singles: list[Path] = []
        for f in files:
            m = _PAIR.match(f.stem)
            if m and layout in ("auto", "pair"):
                by_stem.setdefault((f.parent, m["stem"]), {})[m["side"]] = f
            else:
                singles.append(f)
        items: dict[str, PrepareItem] = {}
        for (parent, stem), sides in by_stem.items():
            if set(sides) == {"a", "b"}:
                items[safe_id(f"video-{stem}")] = PrepareItem(safe_id(f"video-{stem}"),
                                                              {"a": str(sides["a"]), "b": str(sides["b"])})
            elif layout == "pair":
                missing = "b" if "a" in sides else "a"
                raise InputError(f"video pair {parent / stem}: the {missing!r} video ({stem}_{missing}.*) is missing")
            else:
                singles += list(sides.values())
        for f in singles:
            kind = "side_by_side" if layout == "side-by-side" else "video"
            item_id = safe_id(f"video-{f.stem}")
            items[item_id] = PrepareItem(item_id, {kind: str(f)})
        return [items[k] for k in sorted(items)]

    def _track(self, path: str | Path) -> tuple[np.ndarray, float, float]:
        """(head motion [T, 62] at 25 fps, video fps, share of frames with a face)."""
        from openinfp.head.config import HeadConfig
        from openinfp.head.motion_space import head_motion_space
        from openinfp.head.tracker import HeadTracker

        with HeadTracker(HeadConfig(smoothing=self.options.smoothing)) as tracker:
            seq = tracker.track_video(path, progress=False)
        found = float(np.mean(seq.annotations.get("face_found", np.ones(seq.num_frames, bool))))
        return resample_motion(seq.motion.numpy(), head_motion_space(), seq.fps, FPS), seq.fps, found

    def read(self, item: PrepareItem) -> Conversation:
        from openinfp.audio.config import AudioConfig
        from openinfp.audio.conversation import load_conversation

        split = split_for(item.id, self.options.val_fraction)
        if "video" in item.paths:
            path = item.paths["video"]
            motion, vfps, found = self._track(path)
            audio = load_conversation(path, fps=FPS)  # the person's own voice; partner silent
            infos = {"a": {"files": {"video": path}, "video_fps": vfps, "face_found": round(found, 4)}}
            return build_conversation(item.id, f"video:{path}", split, audio, {"a": {"head": motion}}, infos,
                                      f"video {path}")
        if "a" in item.paths:
            motions, infos = {}, {}
            for side in ("a", "b"):
                motion, vfps, found = self._track(item.paths[side])
                motions[side] = {"head": motion}
                infos[side] = {"files": {"video": item.paths[side]}, "video_fps": vfps, "face_found": round(found, 4)}
            audio = load_conversation(item.paths["a"], item.paths["b"], fps=FPS)
            return build_conversation(item.id, f"video-pair:{item.paths['a']}", split, audio, motions, infos,
                                      f"video pair {item.id}")
        path = item.paths["side_by_side"]
        cfg = AudioConfig(agent_channel=self.options.agent_channel, mono_mix=self.options.mono_mix)
        audio = load_conversation(path, config=cfg, fps=FPS)
        if not np.any(audio.partner):
            raise InputError(f"side-by-side video {path}: its audio has one voice only; give stereo audio (one "
                             "person per channel) or --mono-mix to diarize a mono mix")
        motions, infos = {}, {}
        with tempfile.TemporaryDirectory(prefix="openinfp-halves-") as tmp:
            halves = _split_halves(Path(path), Path(tmp))
            for side, half in zip(("a", "b"), halves):
                motion, vfps, found = self._track(half)
                motions[side] = {"head": motion}
                infos[side] = {"files": {"video": path}, "half": "left" if side == "a" else "right",
                               "video_fps": vfps, "face_found": round(found, 4)}
        return build_conversation(item.id, f"video-side-by-side:{path}", split, audio, motions, infos,
                                  f"side-by-side video {path}")


def _split_halves(path: Path, tmp: Path) -> tuple[Path, Path]:
    """Write the left and right halves of a video as near-lossless temporary MP4s."""
    from openinfp.core.video import VideoWriter, probe_video, read_frames

    fps = probe_video(path)["fps"] or 25.0
    left, right = tmp / "left.mp4", tmp / "right.mp4"
    # Intermediate copies of the user's own recording: no provenance mark, which would
    # otherwise end up in the training frames' tracking input.
    with VideoWriter(left, fps=fps, crf=10, watermark=False) as wl, \
            VideoWriter(right, fps=fps, crf=10, watermark=False) as wr:
        for frame in read_frames(path):
            h, w = frame.shape[:2]
            half = (w // 2) // 2 * 2
            h2 = h // 2 * 2
            wl.write(np.ascontiguousarray(frame[:h2, :half]))
            wr.write(np.ascontiguousarray(frame[:h2, w - half:]))
    return left, right

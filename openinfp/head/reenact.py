"""Video-driven reenactment: a portrait follows a driving video's head motion.

Relative motion transfer: the driving video's motion is taken relative to its first
tracked frame, so the portrait keeps its own neutral pose and face shape. Rotation:
``R_k @ R_0^T``; translation and scale: already relative to the first frame (see
:meth:`HeadTracker.track_video`); expression: the source's own weights plus the driving
change, ``clip(w_source + w_k - w_0, 0, 1)``, rendered in ``absolute`` expression mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, require_file
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import matrix_to_rot6d, rot6d_to_matrix


def relative_transfer(driving: MotionSequence, source_weights: np.ndarray, reference: int = 0) -> MotionSequence:
    """Driving motion -> motion for an ``expression="absolute"`` portrait renderer.

    Args:
        driving: tracked ``head`` motion ``[T, 62]``.
        source_weights: ``[52]`` the portrait's own tracked ARKit weights.
        reference: the driving frame taken as neutral.
    """
    space = driving.space
    m = driving.motion
    rot = rot6d_to_matrix(space.get(m, "head_rotation"))
    rel = rot @ rot[reference].transpose(-1, -2)
    arkit = space.get(m, "arkit")
    weights = (torch.as_tensor(source_weights, dtype=torch.float32) + arkit - arkit[reference]).clamp(0.0, 1.0)
    out = space.set(m, "head_rotation", matrix_to_rot6d(rel))
    translation = space.get(m, "head_translation")
    out = space.set(out, "head_translation", translation - translation[reference])
    out = space.set(out, "head_scale", space.get(m, "head_scale") / space.get(m, "head_scale")[reference])
    out = space.set(out, "arkit", weights)
    return MotionSequence(out, space, driving.fps, dict(driving.annotations))


def read_audio(path: PathLike) -> Optional[tuple[np.ndarray, int]]:
    """The first audio stream of a media file as float32 ``[N, C]`` (C = 1 or 2) and its
    sample rate, or ``None`` when the file has no audio."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or 16000
            layout = "mono" if (stream.codec_context.channels or 1) == 1 else "stereo"
            resampler = av.AudioResampler(format="flt", layout=layout, rate=rate)
            chunks = []
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1, 1 if layout == "mono" else 2))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1, 1 if layout == "mono" else 2))
    except av.error.FFmpegError as exc:
        raise InputError(f"cannot read the audio of {path}: {exc}") from None
    if not chunks:
        return None
    return np.concatenate(chunks).astype(np.float32), int(rate)


def reenact(portrait: PathLike | np.ndarray, driving_video: PathLike, output: PathLike,
            renderer_options: Optional[dict] = None, head_config=None, audio: bool = True, crf: int = 20,
            progress: bool = True) -> Path:
    """Animate ``portrait`` with the head motion of ``driving_video``; write an MP4.

    Returns the output path. The driving video's audio is muxed in (``audio=True``).
    Raises :class:`InputError` for unreadable inputs or faces that cannot be tracked.
    """
    from tqdm import tqdm

    from openinfp.core.video import VideoWriter
    from openinfp.head.config import HeadConfig
    from openinfp.head.image_io import load_portrait
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig
    from openinfp.head.tracker import HeadTracker

    drive_path = require_file(driving_video, "driving video")
    options = dict(renderer_options or {})
    options["expression"] = "absolute"
    renderer = PortraitRenderer(PortraitRendererConfig(**options))
    image = load_portrait(portrait)
    name = str(portrait) if not isinstance(portrait, np.ndarray) else "portrait"
    head_config = head_config or HeadConfig()
    with HeadTracker(HeadConfig(face_index=renderer.config.face_index, min_face_px=head_config.min_face_px)) as t:
        source = t.track_image(image, name=name)
    renderer.setup_tracked(image, source)
    with HeadTracker(head_config) as tracker:
        driving = tracker.track_video(drive_path, progress=progress)
    motion = relative_transfer(driving, source.weights)
    sound = read_audio(drive_path) if audio else None
    samples, rate = sound if sound is not None else (None, 16000)
    frames = tqdm(renderer.render(motion), total=motion.num_frames, desc="rendering", unit="frame",
                  disable=not progress, leave=False)
    with VideoWriter(output, fps=motion.fps, audio=samples, sample_rate=rate, crf=crf,
                     metadata={"openinfp_source": "reenact"}) as writer:
        writer.write_all(frames)
    return Path(output)

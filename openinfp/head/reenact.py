"""Video-driven reenactment: a portrait follows a driving video's head motion.

``openinfp reenact`` transfers motion relative to the *driver's own neutral*
(:func:`neutral_transfer`), estimated over the whole clip: its mean head pose and the
median ARKit weights of its calm frames (mouth nearly closed, eyes open), so a driver
whose first frame has the mouth open still drives a closed mouth when theirs closes.
Rotation ``R_k @ R_n^T``; translation and scale relative to the clip's median and
bounded (:data:`MAX_SHIFT`, :data:`SCALE_RANGE`) so the head stays in frame;
expression ``clip(w_k - w_n, 0, 1)`` (jawOpen's change scaled by :data:`JAW_GAIN`),
rendered in ``absolute`` expression mode (the portrait's own open mouth is undone by the
renderer).

:func:`relative_transfer` (relative to one reference frame) is kept for
self-reenactment, where the portrait *is* that frame (``openinfp check-video``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from openinfp.core.arkit import arkit_index
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


CALM_JAW_QUANTILE = 0.3
"""Calm frames: jawOpen at or below this quantile of the clip ..."""
CALM_BLINK = 0.35
"""... and both eyeBlink weights below this."""
MAX_SHIFT = 0.6
"""Largest head shift from the driver's neutral, inter-ocular distances (x and y)."""
SCALE_RANGE = (0.85, 1.15)
"""Head scale relative to the driver's median, clipped to this range."""
JAW_GAIN = 1.3
"""The driver's jawOpen change from its neutral is scaled by this. MediaPipe under-reads an
opening mouth (its lower-lip landmarks move 77-80 % as far as the lip did, measured on
rendered portraits: see docs/HEAD.md), so a driver's tracked opening is about 1/1.3 of
what the driver showed; rendered as tracked, the portrait opened by that much less again
when looked at (re-tracked output jawOpen vs driver on portrait 24: r 0.68 with gain 1,
0.83 with 1.3)."""


def driver_neutral(driving: MotionSequence) -> tuple[torch.Tensor, torch.Tensor]:
    """The driver's neutral over the clip: rotation ``[3, 3]`` (chordal mean of all frames)
    and ARKit weights ``[52]`` (median over calm frames: mouth nearly closed, eyes open)."""
    space = driving.space
    m = driving.motion
    rot = rot6d_to_matrix(space.get(m, "head_rotation"))
    u, _, vt = torch.linalg.svd(rot.mean(0))
    mean_rot = u @ torch.diag(torch.tensor([1.0, 1.0, float(torch.sign(torch.det(u @ vt)))])) @ vt
    arkit = space.get(m, "arkit")
    jaw = arkit[:, arkit_index("jawOpen")]
    blink = torch.maximum(arkit[:, arkit_index("eyeBlinkLeft")], arkit[:, arkit_index("eyeBlinkRight")])
    calm = (jaw <= torch.quantile(jaw, CALM_JAW_QUANTILE)) & (blink < CALM_BLINK)
    if int(calm.sum()) < 1:
        calm = jaw <= torch.quantile(jaw, CALM_JAW_QUANTILE)
    return mean_rot, arkit[calm].median(0).values


def neutral_transfer(driving: MotionSequence) -> MotionSequence:
    """Driving motion -> motion for an ``expression="absolute"`` portrait renderer,
    relative to the driver's own neutral (:func:`driver_neutral`), head shift and scale
    bounded."""
    space = driving.space
    m = driving.motion
    neutral_rot, neutral_w = driver_neutral(driving)
    rot = rot6d_to_matrix(space.get(m, "head_rotation"))
    trans = space.get(m, "head_translation")
    trans = trans - trans.median(0).values
    trans[:, :2] = trans[:, :2].clamp(-MAX_SHIFT, MAX_SHIFT)
    trans[:, 2] = 0.0
    scale = space.get(m, "head_scale")
    scale = (scale / scale.median()).clamp(*SCALE_RANGE)
    out = space.set(m, "head_rotation", matrix_to_rot6d(rot @ neutral_rot.transpose(-1, -2)))
    out = space.set(out, "head_translation", trans)
    out = space.set(out, "head_scale", scale)
    delta = space.get(m, "arkit") - neutral_w
    jaw = arkit_index("jawOpen")
    delta[:, jaw] = delta[:, jaw] * JAW_GAIN
    out = space.set(out, "arkit", delta.clamp(0.0, 1.0))
    return MotionSequence(out, space, driving.fps, dict(driving.annotations))


def read_audio(path: PathLike) -> tuple[np.ndarray, int] | None:
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
            renderer_options: dict | None = None, head_config=None, audio: bool = True, crf: int = 20,
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
    motion = neutral_transfer(driving)
    sound = read_audio(drive_path) if audio else None
    samples, rate = sound if sound is not None else (None, 16000)
    frames = tqdm(renderer.render(motion), total=motion.num_frames, desc="rendering", unit="frame",
                  disable=not progress, leave=False)
    with VideoWriter(output, fps=motion.fps, audio=samples, sample_rate=rate, crf=crf,
                     metadata={"openinfp_source": "reenact"}) as writer:
        writer.write_all(frames)
    return Path(output)

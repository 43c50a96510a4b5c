"""What one ``animate`` run takes and gives: inputs, output paths, the result.

Kept apart from :mod:`openinfp.pipeline.pipeline` so that the CLI, the demo and the
benchmarks can name a run's inputs and outputs without importing the pipeline.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from openinfp.core.audio import ConversationAudio
from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output, check_output_path
from openinfp.core.motion import MotionSequence

ImageInput = Union[PathLike, np.ndarray]
"""A path to an image file, or ``[H, W, 3]`` uint8 RGB pixels."""


@dataclass
class AnimateInputs:
    """What one run animates.

    Attributes:
        portrait: the agent's photo (required for head layouts; used as the agent's
            label image otherwise).
        audio: conversation audio: a stereo file, the agent's mono track, or a mono mix
            (see ``config.audio``). Exclusive with ``script``.
        partner_audio: the partner's track as a second file.
        script: a two-person script (``A: ...`` / ``B: ...`` lines) spoken by two
            eSpeak NG voices; A is the agent.
        prompt: behaviour/style text ("calm, nods a lot while listening").
        style_image: a reference photo whose expression and pose set the style.
        partner_portrait: animate the partner too, side by side (head layout).
        partner_face_index: the partner is face N of the agent's own photo (0 = largest),
            side by side with the agent's face (exclusive with ``partner_portrait``).
        layout: ``auto`` | ``single`` | ``pair`` (see the module docstring).
    """

    portrait: Optional[ImageInput] = None
    audio: Optional[PathLike] = None
    partner_audio: Optional[PathLike] = None
    script: Optional[str] = None
    prompt: Optional[str] = None
    style_image: Optional[ImageInput] = None
    partner_portrait: Optional[ImageInput] = None
    partner_face_index: Optional[int] = None
    layout: str = "auto"


@dataclass
class AnimateOutputs:
    """Where a run writes. Every file appears only when the whole run succeeded.

    Attributes:
        video: the ``.mp4`` (H.264 yuv420p, both audio tracks muxed: agent left).
        motion: agent motion ``.npz`` (:meth:`MotionSequence.save` layout); with a
            partner, the partner's motion goes beside it as ``<stem>.partner.npz``.
        timeline: ``.png`` plot of speech activity, mouth and head activity.
        arkit_csv: Live Link Face-style CSV of the agent's face (head space only, or
            the face part of a body motion).
    """

    video: PathLike
    motion: Optional[PathLike] = None
    timeline: Optional[PathLike] = None
    arkit_csv: Optional[PathLike] = None


@dataclass
class AnimateResult:
    """What a run produced.

    Attributes:
        video: path of the written MP4.
        audio: the conversation as seen by the agent.
        motion: the agent's motion ``[T, D]``.
        partner_motion: the partner's motion when it was animated too.
        files: every written file by kind (``video``, ``motion``, ``timeline``, ...).
        timings: wall seconds per stage and ``total``; CPU seconds (all threads) as
            ``"cpu <stage>"`` and ``"cpu total"``.
        layout: ``single`` or ``pair``.
        peak_memory_mb: the process's peak resident memory so far (MB), measured
            when the video was written (it includes whatever the process did before).
    """

    video: Path
    audio: ConversationAudio
    motion: MotionSequence
    partner_motion: Optional[MotionSequence]
    files: dict[str, Path]
    timings: dict[str, float]
    layout: str
    peak_memory_mb: float = 0.0

    @property
    def real_time_factor(self) -> float:
        """Wall time of the whole run divided by the audio duration."""
        return self.timings["total"] / max(self.audio.duration, 1e-9)


def partner_motion_path(motion_path: PathLike) -> Path:
    """Where the partner's motion goes next to the agent's: ``x.npz`` -> ``x.partner.npz``."""
    p = Path(motion_path)
    return p.with_name(f"{p.stem}.partner{p.suffix or '.npz'}")


def check_side_outputs(outputs: AnimateOutputs) -> None:
    """Refuse side outputs with the wrong suffix or an unwritable folder, before any work."""
    wanted = {"motion": (outputs.motion, ".npz"), "timeline": (outputs.timeline, ".png"),
              "arkit_csv": (outputs.arkit_csv, ".csv")}
    for key, (path, suffix) in wanted.items():
        if path is None:
            continue
        p = Path(path)
        if p.suffix.lower() != suffix:
            raise InputError(f"{key.replace('_', ' ')} output {p} must end in {suffix}")
        check_output_path(p, f"{key.replace('_', ' ')} output")


def write_side_outputs(stack: contextlib.ExitStack, outputs: AnimateOutputs, motion: MotionSequence,
                       partner_motion: Optional[MotionSequence], audio: ConversationAudio,
                       title: str) -> dict[str, Path]:
    """Write the requested side outputs (motion NPZ, partner motion, ARKit CSV, timeline PNG) to
    temporary files that ``stack`` moves into place when it closes without an error (so a failed
    video leaves none behind). Returns ``{kind: final path}``."""
    files: dict[str, Path] = {}
    if outputs.motion is not None:
        motion.save(stack.enter_context(atomic_output(outputs.motion, suffix=".npz")))
        files["motion"] = Path(outputs.motion)
        if partner_motion is not None:
            ptarget = partner_motion_path(outputs.motion)
            partner_motion.save(stack.enter_context(atomic_output(ptarget, suffix=".npz")))
            files["partner_motion"] = ptarget
    if outputs.arkit_csv is not None:
        from openinfp.pipeline.exports import export_face_csv

        export_face_csv(motion, stack.enter_context(atomic_output(outputs.arkit_csv, suffix=".csv")))
        files["arkit_csv"] = Path(outputs.arkit_csv)
    if outputs.timeline is not None:
        from openinfp.pipeline.timeline_plot import plot_timeline

        plot_timeline(stack.enter_context(atomic_output(outputs.timeline, suffix=".png")), audio, motion,
                      title=title, partner_motion=partner_motion)
        files["timeline"] = Path(outputs.timeline)
    return files


def describe_image(image: Optional[ImageInput], what: str) -> str:
    """How to name an image input in errors: ``"portrait me.jpg"`` or ``"portrait (array)"``."""
    if image is None or isinstance(image, np.ndarray):
        return f"{what} (array)" if image is not None else what
    return f"{what} {image}"

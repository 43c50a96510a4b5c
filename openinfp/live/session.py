"""A live conversation with one portrait: push audio chunks, get the frames now due.

::

    session = LiveSession.start(portrait, size=256)
    for agent_chunk, partner_chunk in chunks_of_20_ms():      # float32 @ 16 kHz
        for frame in session.push(agent_chunk, partner_chunk):
            show(frame.image)                                  # [H, W, 3] uint8 RGB

The session shares conditioners, the motion model and the renderer with offline
``openinfp animate`` (built through the same :class:`ConversationPipeline`); only the
sampling hop differs (:mod:`openinfp.live.causal`). Memory stays bounded for any
length: audio older than the model's context is dropped, and only the last
:data:`STATS_KEPT` per-push timings are kept.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.interfaces import ConditionInputs
from openinfp.core.threads import torch_threads
from openinfp.live.causal import CausalMotionStream
from openinfp.live.settings import CausalSettings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from openinfp.core.audio import ConversationAudio
    from openinfp.core.conditions import ConditionTokens
    from openinfp.pipeline.pipeline import ConversationPipeline

STATS_KEPT = 2048
"""Per-push timings kept for :attr:`LiveSession.push_seconds` (a bounded window)."""


@dataclass
class LiveFrame:
    """One output frame.

    Attributes:
        index: frame number from the start of the session.
        time_s: the frame's time in the conversation (``index / fps``).
        motion: ``[D]`` motion vector in physical units (the session's motion space).
        image: ``[H, W, 3]`` uint8 RGB, or ``None`` when the session does not render.
        agent_speaking: the model's read-out of whether the portrait speaks (0..1).
    """

    index: int
    time_s: float
    motion: torch.Tensor
    image: Optional[np.ndarray]
    agent_speaking: float


class LiveSession:
    """Live motion (and frames) for one portrait from two streaming audio tracks.

    Build with :meth:`start`. ``push`` is not thread-safe: call it from one thread.
    """

    def __init__(self, pipeline: "ConversationPipeline", stream: CausalMotionStream,
                 renderer: Optional[Any], renderer_name: str) -> None:
        self.pipeline = pipeline
        self.stream = stream
        self.renderer = renderer
        self.renderer_name = renderer_name
        self.fps = stream.fps
        self.push_seconds: deque[float] = deque(maxlen=STATS_KEPT)
        from openinfp.pipeline.resources import GENERATION_THREADS

        self._threads = GENERATION_THREADS if pipeline.config.device == "cpu" else None

    @classmethod
    def start(cls, portrait: Optional[np.ndarray], size: int = 256, prompt: Optional[str] = None,
              style_image: Optional[np.ndarray] = None, settings: CausalSettings = CausalSettings(),
              seed: int = 0, preset: str = "default", overrides: Sequence[str] = (),
              render: bool = True, pipeline: Optional["ConversationPipeline"] = None) -> "LiveSession":
        """Load the models and set the renderer up on ``portrait``.

        Args:
            portrait: ``[H, W, 3]`` uint8 RGB photo (``None`` only with ``render=False``
                or a body renderer).
            size: output frame size in pixels (``output.size``).
            prompt, style_image: behaviour prompt and style reference, as for ``animate``.
            settings: chunk size and look-ahead of the causal path.
            seed: noise seed.
            preset, overrides: config preset and ``key=value`` overrides.
            render: also draw frames (``False``: motion only).
            pipeline: an already built pipeline to share models with (its config is used).

        Raises:
            InputError: no face in the portrait, or bad settings.
        """
        from openinfp.conditioners.phonetic import PhoneticConditioner
        from openinfp.live.phonetic import LivePhonetic, LiveVisemeNet
        from openinfp.pipeline.pipeline import GENERATION_THREADS, ConversationPipeline
        from openinfp.pipeline.render import setup_renderer

        if pipeline is None:
            pipeline = ConversationPipeline.from_preset(preset, [*overrides, f"output.size={int(size)}"],
                                                        show_progress=False)
        cfg = pipeline.config
        generator = pipeline.generator(cfg.motion_space)
        generator.sampler = pipeline.sampler_for(generator)
        frame_conditioners, style = _split_conditioners(pipeline, prompt, style_image)

        # phone recognition keeps decoder state across steps (one streaming decoder per track)
        phones = {id(c): (LiveVisemeNet() if c.options.visemes == "net" else LivePhonetic(cfg.fps))
                  for c in frame_conditioners if isinstance(c, PhoneticConditioner)}

        def encode_audio(audio: "ConversationAudio", num_frames: int, loud_db: Optional[dict],
                         first_frame: Optional[int]) -> list["ConditionTokens"]:
            inputs = ConditionInputs(audio=audio, fps=cfg.fps, loud_db=loud_db)
            tokens: list = []
            for conditioner in frame_conditioners:
                if id(conditioner) in phones and first_frame is not None:
                    tokens.extend(conditioner.encode(inputs, num_frames,
                                                     visemes=phones[id(conditioner)].source(first_frame)))
                else:
                    tokens.extend(conditioner.encode(inputs, num_frames))
            return tokens

        stream = CausalMotionStream(generator, encode_audio, style, settings, seed=seed,
                                    pitch_columns=_pitch_columns(frame_conditioners))
        with torch_threads(GENERATION_THREADS if cfg.device == "cpu" else None):
            stream.warm_up()
        renderer, name = None, ""
        if render:
            from openinfp.pipeline.render import fit_motion

            name, options = pipeline.renderer_choice()
            renderer = setup_renderer(pipeline.registry, name, options, portrait, "agent", "portrait")
            neutral = generator.to_motion(torch.zeros(1, generator.space.dim))
            list(renderer.render(fit_motion(pipeline.registry, name, neutral)))  # warm-up, discarded
        return cls(pipeline, stream, renderer, name)

    @property
    def frames_emitted(self) -> int:
        return self.stream.frames_emitted

    @property
    def algorithmic_latency_s(self) -> float:
        return self.stream.algorithmic_latency_s

    def push(self, agent: np.ndarray, partner: np.ndarray) -> list[LiveFrame]:
        """Add ``agent`` and ``partner`` audio (mono float32 16 kHz, equal length; e.g. 20 ms).

        Returns:
            The frames now due, in order (often none for a short chunk).
        """
        from openinfp.pipeline.render import fit_motion

        t0 = time.perf_counter()
        # one torch thread, as offline generation: the per-window work is small-matrix,
        # where more threads cost more in synchronisation than they save
        with torch.inference_mode(), torch_threads(self._threads):
            motion = self.stream.push(agent, partner)
        frames: list[LiveFrame] = []
        if motion is not None:
            first = self.stream.frames_emitted - motion.num_frames
            speaking = motion.annotations.get("agent_speaking", np.zeros(motion.num_frames, np.float32))
            images: list[Optional[np.ndarray]] = [None] * motion.num_frames
            if self.renderer is not None:
                images = list(self.renderer.render(fit_motion(self.pipeline.registry, self.renderer_name, motion)))
                if len(images) != motion.num_frames:
                    raise InputError(f"renderer {self.renderer_name!r} returned {len(images)} frames "
                                     f"for {motion.num_frames} motion frames")
            for i in range(motion.num_frames):
                frames.append(LiveFrame(first + i, (first + i) / self.fps, motion.motion[i], images[i],
                                        float(speaking[i])))
        self.push_seconds.append(time.perf_counter() - t0)
        return frames


def _pitch_columns(conditioners: Sequence[Any]) -> dict[str, tuple[int, int]]:
    """Token name -> (log_f0, rel_f0) columns, for frame conditioners that emit both."""
    out: dict[str, tuple[int, int]] = {}
    for conditioner in conditioners:
        names = list(getattr(conditioner, "feature_names", []))
        if "log_f0" in names and "rel_f0" in names:
            out.setdefault(conditioner.name, (names.index("log_f0"), names.index("rel_f0")))
    return out


def _options(pipeline: "ConversationPipeline", name: str) -> dict:
    return {c.name: dict(c.options) for c in pipeline.config.conditioners}.get(name, {})


def _split_conditioners(pipeline: "ConversationPipeline", prompt: Optional[str],
                        style_image: Optional[np.ndarray]) -> tuple[list[Any], list["ConditionTokens"]]:
    """Frame conditioners (run on every chunk) and the global style tokens (run once)."""
    frame, style = [], []
    inputs = ConditionInputs(text=prompt, image=style_image, fps=pipeline.config.fps)
    for name in pipeline.conditioner_names(prompt, style_image):
        conditioner = pipeline._conditioner(name, _options(pipeline, name))
        if pipeline.registry.spec("conditioners", name, key="conditioner").token_kind == "frame":
            frame.append(conditioner)  # resolved once here, encoded at every step
        else:
            style.extend(conditioner.encode(inputs, 1))
    return frame, style

"""`ConversationPipeline`: conversation audio + portrait -> talking/listening video.

Stages (each chosen by name in the :class:`~openinfp.core.config.PipelineConfig`)::

    audio / script ─► ConversationAudio ─► conditioners ─► ConditionTokens
        ─► MotionGenerator (guider + DiT) ─► MotionSequence ─► post_process_motion hooks
        ─► renderer(s) ─► frames ─► on_frame_rendered hooks ─► VideoWriter (MP4 + audio)

The pipeline only talks to the stage protocols in :mod:`openinfp.core.interfaces`;
every heavy import is lazy. One pipeline object can serve many runs (the demo keeps
one): conditioners, generators and the tracked portrait are cached on it.

Layouts:

* ``single``: the portrait alone (head), or one body (``body.model`` != none).
* ``pair``: both participants from the same conversation, roles swapped for the
  second one: two portraits side by side (``partner_portrait``), or a two-person body
  scene.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional, Sequence

import numpy as np

from openinfp.body.config import BodyConfig
from openinfp.config import LAYOUTS, PipelineConfig, load_config
from openinfp.core.audio import ConversationAudio
from openinfp.core.config import field_choices
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.io import PathLike, check_output_path
from openinfp.core.motion import MotionSequence
from openinfp.core.threads import torch_threads
from openinfp.pipeline.animate_io import (
    AnimateInputs,
    AnimateOutputs,
    AnimateResult,
    ImageInput,
    check_side_outputs,
    describe_image,
    partner_motion_path,
    write_side_outputs,
)
from openinfp.pipeline.resources import GENERATION_THREADS, ModelCache, peak_memory_mb

if TYPE_CHECKING:
    from openinfp.core.registry import Registry

log = logging.getLogger(__name__)

BODY_MODELS = field_choices(BodyConfig, "model")
SILENT_PEAK = 1e-4
"""A track whose absolute peak is below this is treated as absent (no partner)."""


class ConversationPipeline:
    """The end-to-end pipeline, configured by a :class:`PipelineConfig`.

    Args:
        config: the resolved config (see :func:`openinfp.core.config.load_config`).
        registry: the plugin registry that built ``config``; its plugin manager's stage
            hooks are called during runs. Built on demand.
        show_progress: print stage messages and tqdm bars to stderr.
        cache: loaded conditioners and generators to share between pipelines (the demo
            builds one pipeline per request, with that request's config, over one cache).
    """

    def __init__(self, config: PipelineConfig, registry: Optional["Registry"] = None, show_progress: bool = True,
                 cache: Optional["ModelCache"] = None) -> None:
        if registry is None:
            from openinfp.core.registry import Registry

            registry = Registry.create()
        self.config = config
        self.registry = registry
        self.show_progress = show_progress
        self.cache = cache if cache is not None else ModelCache()

    @classmethod
    def from_preset(cls, preset: str = "default", overrides: Sequence[str] = (), registry: Optional["Registry"] = None,
                    show_progress: bool = True, cache: Optional["ModelCache"] = None) -> "ConversationPipeline":
        """Build from a preset name or YAML path plus ``key=value`` overrides."""
        if registry is None:
            from openinfp.core.registry import Registry

            registry = Registry.create()
        return cls(load_config(preset, overrides, registry=registry), registry, show_progress, cache)

    # ------------------------------------------------------------------ inputs
    def load_audio(self, audio: Optional[PathLike] = None, partner_audio: Optional[PathLike] = None,
                   script: Optional[str] = None) -> ConversationAudio:
        """Both tracks from files (``config.audio`` picks channels / speakers) or a script."""
        if script is not None:
            if audio is not None or partner_audio is not None:
                raise InputError("give either conversation audio or a script (--script), not both")
            if not script.strip():
                raise InputError("the script is empty; write lines like 'A: Hello.' and 'B: Hi!'")
            from openinfp.audio.script import script_to_conversation

            limit = self.config.audio.max_duration_s
            # Speech runs at about 15 characters a second; no voice reaches 40. A longer
            # script cannot fit the limit: refuse it before minutes of synthesis.
            if len(script) > limit * 40:
                raise InputError(f"the script has {len(script)} characters, more than can be spoken in the limit "
                                 f"of {limit:g} s (audio.max_duration_s); shorten it or raise the limit")
            conversation, _turns = script_to_conversation(script, seed=self.config.seed, fps=self.config.fps)
            if conversation.duration > limit:
                raise InputError(f"the script speaks for {conversation.duration:.0f} s, over the limit of "
                                 f"{limit:g} s (audio.max_duration_s); shorten it or raise the limit")
            return conversation
        if audio is None:
            if partner_audio is not None:
                raise InputError("a partner track was given without the agent's audio; "
                                 "for pure listening pass the partner's file as AUDIO with --partner-only")
            raise InputError("no audio: give a conversation audio file or a script (--script FILE)")
        from openinfp.audio.conversation import load_conversation

        conversation = load_conversation(audio, partner_audio, self.config.audio, fps=self.config.fps)
        if conversation.duration * self.config.fps < 1.0:
            raise InputError(f"audio {audio} is {conversation.duration * 1000:.0f} ms long, shorter than one "
                             f"motion frame ({1000 / self.config.fps:.0f} ms); give a longer recording")
        return conversation

    def load_image(self, image: ImageInput, what: str = "portrait") -> np.ndarray:
        """``[H, W, 3]`` uint8 RGB from a path or an array (EXIF, RGBA and grayscale handled)."""
        from openinfp.head.image_io import load_portrait

        try:
            return load_portrait(image)
        except InputError as exc:
            raise InputError(f"{what}: {exc}") from None

    # ------------------------------------------------------------------ stages
    def _conditioner(self, name: str, options: Optional[dict] = None) -> Any:
        key = ("conditioner", name, repr(sorted((options or {}).items())))
        return self.cache.get(key, lambda: self.registry.conditioner(name, options or {}))

    def conditioner_names(self, prompt: Optional[str], style_image: Any) -> list[str]:
        """Conditioners used for a run: the config's list, plus ``text`` / ``image``
        when a prompt / style image is given and the config does not list them."""
        names = [c.name for c in self.config.conditioners]
        for wanted, given in (("text", prompt), ("image", style_image)):
            if given is not None and wanted not in names:
                if wanted not in self.registry.choices("conditioners"):
                    raise ConfigError(f"a {'prompt' if wanted == 'text' else 'style image'} was given but no "
                                      f"{wanted!r} conditioner is registered; installed: "
                                      f"{', '.join(self.registry.choices('conditioners')) or '(none)'}")
                names.append(wanted)
        return names

    def encode_conditions(self, audio: ConversationAudio, num_frames: int, prompt: Optional[str] = None,
                          style_image: Optional[np.ndarray] = None) -> list:
        """Every conditioner's :class:`ConditionTokens` for this conversation."""
        from openinfp.core.interfaces import ConditionInputs

        inputs = ConditionInputs(audio=audio, text=prompt, image=style_image, fps=self.config.fps)
        options = {c.name: dict(c.options) for c in self.config.conditioners}
        tokens = []
        for name in self.conditioner_names(prompt, style_image):
            tokens.extend(self._conditioner(name, options.get(name)).encode(inputs, num_frames))
        return tokens

    def generator(self, motion_space: str) -> Any:
        """The motion generator for ``motion_space`` (loaded once, then cached)."""
        from openinfp.core.generator import MotionGenerator

        checkpoint = self.config.model.checkpoint or None
        key = ("generator", motion_space, checkpoint, self.config.device)
        return self.cache.get(key, lambda: MotionGenerator.from_pretrained(
            checkpoint, motion_space=motion_space, device=self.config.device, registry=self.registry))

    def sampler_for(self, generator: Any) -> Any:
        """The sampler of a run: the checkpoint's own (scheduler, steps, guidance scale,
        chosen when the model was trained), with every ``model.sampler`` field that the
        config sets to a non-default value (a preset, ``--steps``, ``--set``) on top."""
        import dataclasses

        from openinfp.core.model_config import SamplerConfig

        own = self.cache.get(("checkpoint sampler", id(generator)), lambda: generator.sampler)
        defaults, wanted = SamplerConfig(), self.config.model.sampler
        changes = {f.name: getattr(wanted, f.name) for f in dataclasses.fields(SamplerConfig)
                   if getattr(wanted, f.name) != getattr(defaults, f.name)}
        return dataclasses.replace(own, **changes)

    def generate(self, audio: ConversationAudio, prompt: Optional[str] = None,
                 style_image: Optional[np.ndarray] = None, seed: Optional[int] = None,
                 motion_space: Optional[str] = None) -> MotionSequence:
        """Motion for the agent of ``audio`` (conditions -> generator -> hooks).

        Returns:
            A :class:`MotionSequence` of ``audio.num_frames(fps)`` frames, annotated
            per frame with ``agent_voice`` / ``partner_voice`` (speech activity of the
            audio) and ``agent_speaking`` / ``partner_speaking`` (the model's read-out,
            or the voice activity when the model gives none).
        """
        from openinfp.core.plugins import call_chain
        from openinfp.pipeline.activity_signals import speech_activity

        cfg = self.config
        space = motion_space or cfg.motion_space
        num_frames = audio.num_frames(cfg.fps)
        with torch_threads(GENERATION_THREADS if cfg.device == "cpu" else None):
            conditions = self.encode_conditions(audio, num_frames, prompt, style_image)
            generator = self.generator(space)
            generator.sampler = self.sampler_for(generator)
            motion = generator.generate(conditions, num_frames, seed=cfg.seed if seed is None else seed,
                                        progress=self.show_progress)
        if motion.num_frames != num_frames:
            raise InputError(f"the motion generator returned {motion.num_frames} frames for {num_frames} "
                             "requested; the generator plugin is broken")
        # Voice activity measured on the audio, next to the model's own read-out of who
        # speaks (``*_speaking``, when the generator provides one), for plots and checks.
        agent_act, partner_act = speech_activity(audio, cfg.fps, num_frames)
        motion.annotations["agent_voice"] = agent_act
        motion.annotations["partner_voice"] = partner_act
        motion.annotations.setdefault("agent_speaking", agent_act)
        motion.annotations.setdefault("partner_speaking", partner_act)
        return call_chain(self.registry.pm, "post_process_motion", motion, "motion", config=cfg)

    def _preload(self, motion_space: str, conditioners: Sequence[str]) -> Any:
        """Start loading the motion model and conditioners in a background thread.

        Loading (imports, checkpoint, text model) overlaps with reading the audio and
        setting up the renderer. Failures are ignored here: the main thread builds the
        same items again when it needs them and reports the error there.
        """
        import threading

        options = {c.name: dict(c.options) for c in self.config.conditioners}

        def work() -> None:
            try:
                self.generator(motion_space)
                for name in conditioners:
                    self._conditioner(name, options.get(name))
            except Exception:  # reported by the main thread when it builds the same item
                pass

        thread = threading.Thread(target=work, name="openinfp-preload", daemon=True)
        thread.start()
        return thread

    def resolve_layout(self, inputs: AnimateInputs, audio: ConversationAudio) -> str:
        """``single`` or ``pair`` for a request (``auto``: pair with a partner portrait,
        or for bodies when the partner's track is not silent)."""
        if inputs.layout not in LAYOUTS:
            raise InputError(f"layout {inputs.layout!r} is not one of {', '.join(LAYOUTS)}")
        body = self.config.body.model
        if body != "none" and inputs.partner_portrait is not None:
            raise InputError(f"--partner-portrait animates a second photo, but body.model is {body!r}: "
                             "bodies are drawn as meshes; drop one of the two")
        if inputs.layout == "pair":
            if body == "none" and inputs.partner_portrait is None:
                raise InputError("a side-by-side head layout needs the partner's portrait (--partner-portrait)")
            return "pair"
        if inputs.layout == "single":
            if inputs.partner_portrait is not None:
                raise InputError("--partner-portrait needs the pair layout, but the single layout was asked for")
            return "single"
        if inputs.partner_portrait is not None:
            return "pair"
        if body != "none" and float(np.abs(audio.partner).max()) >= SILENT_PEAK:
            return "pair"
        return "single"

    # ------------------------------------------------------------------ rendering
    def renderer_choice(self) -> tuple[str, dict]:
        """The renderer (name, validated options) of this config.

        ``renderer`` decides; if ``body.model`` asks for a body while ``renderer`` still
        names a portrait renderer (e.g. only ``body.model`` was overridden), the body
        model's renderer is used with its default options. ``output.size`` and
        ``output.framing`` apply to renderers that have those options.
        """
        from openinfp.pipeline.render import draws_portraits, renderer_options

        cfg = self.config
        name, options = cfg.renderer.name, dict(cfg.renderer.options)
        if cfg.body.model != "none" and draws_portraits(self.registry, name):
            name, options = cfg.body.model, {}
        return name, renderer_options(self.registry, name, options, cfg.output, cfg.body)

    def frame_source(self, layout: str, portrait: Optional[np.ndarray], partner_portrait: Optional[np.ndarray],
                     names: tuple[str, str] = ("portrait", "partner portrait"),
                     partner_face_index: Optional[int] = None) -> Any:
        """The renderers of a run, set up now (a bad portrait fails before motion is generated).

        Returns:
            A :class:`~openinfp.pipeline.render.FrameSource`; call ``.frames(motion,
            partner_motion)`` to stream the output frames.
        """
        from openinfp.pipeline.render import FrameSource

        name, options = self.renderer_choice()
        partner_options = None if partner_face_index is None else {"face_index": partner_face_index}
        return FrameSource(self.registry, name, options, layout,
                           {"agent": (portrait, names[0]), "partner": (partner_portrait, names[1])},
                           partner_options=partner_options)

    # ------------------------------------------------------------------ the run
    def run(self, inputs: AnimateInputs, outputs: AnimateOutputs) -> AnimateResult:
        """Animate ``inputs`` and write ``outputs``; see the module docstring.

        Raises:
            InputError / ConfigError: bad inputs or options (nothing is written).
        """
        from openinfp.pipeline.progress import StageTimer
        from openinfp.pipeline.render import encode_frames

        cfg = self.config
        pm = self.registry.pm
        timer = StageTimer(show=self.show_progress)
        if inputs.partner_face_index is not None:
            if inputs.partner_portrait is not None or inputs.portrait is None:
                raise InputError("--partner-face-index animates a second face of PORTRAIT: give PORTRAIT and "
                                 "no --partner-portrait")
            if inputs.partner_face_index < 0:
                raise InputError(f"--partner-face-index must be 0 or more, got {inputs.partner_face_index}")
            import dataclasses

            inputs = dataclasses.replace(inputs, partner_portrait=inputs.portrait)
        video_path = Path(outputs.video)
        if video_path.suffix.lower() != ".mp4":
            raise InputError(f"output video {video_path} must end in .mp4")
        check_output_path(video_path, "output video")  # before the work: read-only folder, long name, ...
        check_side_outputs(outputs)
        pm.hook.on_pipeline_start(config=cfg)
        preload = self._preload(cfg.motion_space, self.conditioner_names(inputs.prompt, inputs.style_image))

        cpu_threads = GENERATION_THREADS if cfg.device == "cpu" else None
        with timer.stage("inputs", "reading inputs"), torch_threads(cpu_threads):
            audio = self.load_audio(inputs.audio, inputs.partner_audio, inputs.script)
            portrait = None if inputs.portrait is None else self.load_image(inputs.portrait, "portrait")
            partner_portrait = (None if inputs.partner_portrait is None
                                else self.load_image(inputs.partner_portrait, "partner portrait"))
            style = None if inputs.style_image is None else self.load_image(inputs.style_image, "style image")
            layout = self.resolve_layout(inputs, audio)
        if cfg.body.model == "none" and portrait is None:
            raise InputError("a portrait is needed to animate a head; give PORTRAIT or choose --body")
        with timer.stage("renderer setup", "preparing the renderer"):
            source = self.frame_source(layout, portrait, partner_portrait,
                                       (describe_image(inputs.portrait, "portrait"),
                                        describe_image(inputs.partner_portrait, "partner portrait")),
                                       partner_face_index=inputs.partner_face_index)

        space = cfg.motion_space
        with timer.stage("motion", f"generating motion ({audio.duration:.1f} s of audio, {layout} layout)"):
            preload.join()  # errors of the preload resurface below, where the models are used
            motion = self.generate(audio, inputs.prompt, style, motion_space=space)
            partner_motion = None
            if layout == "pair":
                # The partner is the agent of the swapped conversation; a different seed
                # keeps the two from moving in lockstep.
                partner_motion = self.generate(audio.swapped(), inputs.prompt, style,
                                               seed=cfg.seed + 1, motion_space=space)

        files: dict[str, Path] = {}
        with contextlib.ExitStack() as stack:
            # Side outputs go to temporary names and are moved into place only after the
            # video has been written, so a failed run leaves nothing behind.
            with timer.stage("side outputs"):
                files.update(write_side_outputs(stack, outputs, motion, partner_motion, audio,
                                                _timeline_title(inputs, audio)))

            num_frames = motion.num_frames
            with timer.stage("render+encode", f"rendering {num_frames} frames"):
                frames = source.frames(motion, partner_motion)
                encode_frames(video_path, frames, num_frames, cfg.fps, audio=(audio.agent, audio.partner),
                              sample_rate=audio.sample_rate, crf=cfg.output.crf,
                              watermark=cfg.output.watermark, label=cfg.output.label, pm=pm,
                              metadata={"openinfp_layout": layout, "openinfp_preset": cfg.preset},
                              show_progress=self.show_progress)
            files["video"] = video_path
        pm.hook.on_pipeline_end(output_path=str(video_path), config=cfg)
        timings = dict(timer.seconds)
        timings["total"] = timer.total
        timings.update({f"cpu {k}": v for k, v in timer.cpu_seconds.items()})
        timings["cpu total"] = timer.cpu_total
        peak_mb = peak_memory_mb()
        if self.show_progress:
            log.info("wrote %s (%s; real-time factor %.2f; peak memory %.0f MB)", video_path, timer.summary(),
                     timer.total / audio.duration, peak_mb)
        return AnimateResult(video_path, audio, motion, partner_motion, files, timings, layout, peak_mb)


def _timeline_title(inputs: AnimateInputs, audio: ConversationAudio) -> str:
    source = audio.source or "conversation"
    return f"{Path(source).name if len(source) < 80 else 'conversation'}: {audio.duration:.1f} s"


__all__ = [
    "AnimateInputs", "AnimateOutputs", "AnimateResult", "ConversationPipeline", "partner_motion_path",
    "LAYOUTS", "BODY_MODELS", "GENERATION_THREADS", "ImageInput", "ModelCache", "peak_memory_mb",
]

"""Motion -> frames -> MP4: the rendering half of the pipeline, also behind ``openinfp render``.

Renderers are chosen by name from the registry. A renderer declares which motion
spaces it draws (:class:`~openinfp.core.specs.RendererSpec.motion_spaces`); head motion
given to a body renderer is lifted onto a body first.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Optional, Sequence

import numpy as np

from openinfp.core.errors import ConfigError, InputError
from openinfp.core.io import PathLike, check_output_path
from openinfp.core.motion import MotionSequence

DEFAULT_RENDERER = {"head": "portrait", "smplx": "anny"}
"""Renderer used by ``openinfp render`` when none is named, by motion space."""


def renderer_spaces(registry: Any, name: str) -> tuple[str, ...]:
    """Motion spaces the renderer ``name`` draws (empty = it did not say)."""
    return tuple(registry.spec("renderers", name, key="renderer").motion_spaces)


def draws_portraits(registry: Any, name: str) -> bool:
    """True for renderers that draw head motion onto a photo (they need a portrait)."""
    spaces = renderer_spaces(registry, name)
    return "head" in spaces and "smplx" not in spaces


def to_space(motion: MotionSequence, space: str) -> MotionSequence:
    """``motion`` in ``space``: unchanged, or head motion lifted onto an SMPL-X body."""
    if motion.space.name == space:
        return motion
    if motion.space.name == "head" and space == "smplx":
        from openinfp.body.convert import head_to_smplx

        return head_to_smplx(motion)
    raise ConfigError(f"cannot convert {motion.space.name!r} motion for a renderer that draws {space!r}")


def fit_motion(registry: Any, renderer: str, motion: MotionSequence) -> MotionSequence:
    """Convert ``motion`` to a space ``renderer`` draws (error naming both if impossible)."""
    spaces = renderer_spaces(registry, renderer)
    if not spaces or motion.space.name in spaces:
        return motion
    for space in spaces:
        try:
            return to_space(motion, space)
        except ConfigError:
            continue
    raise ConfigError(f"renderer {renderer!r} draws {', '.join(spaces)} motion, but the motion is in the "
                      f"{motion.space.name!r} space; choose another renderer (see `openinfp plugins`)")


OUTPUT_OPTION_FIELDS = ("size", "framing")
"""Renderer options that the pipeline's ``output`` section decides (when the renderer has them)."""


def renderer_options(registry: Any, name: str, options: Mapping[str, Any], output: Any = None,
                     body: Any = None) -> dict[str, Any]:
    """Validated options of renderer ``name``, with the pipeline-wide settings applied to
    renderers that have matching options: ``output.size`` / ``output.framing`` (one place
    decides the output size) and ``body.smplx_model_dir`` as ``model_dir`` (when the
    renderer's own option is empty).

    Args:
        options: the renderer's own options from the config.
        output: the config's ``output`` section (:class:`~openinfp.core.config.OutputConfig`).
        body: the config's ``body`` section (:class:`~openinfp.body.config.BodyConfig`).
    """
    import dataclasses

    spec = registry.spec("renderers", name, key="renderer")
    opts = dict(options)
    if spec.config_cls is not None and dataclasses.is_dataclass(spec.config_cls):
        fields = {f.name for f in dataclasses.fields(spec.config_cls)}
        if output is not None:
            for key in OUTPUT_OPTION_FIELDS:
                if key in fields:
                    opts[key] = getattr(output, key)
        if body is not None and body.smplx_model_dir and "model_dir" in fields and not opts.get("model_dir"):
            opts["model_dir"] = body.smplx_model_dir
    return spec.resolve_options(opts, key="renderer.options")


def setup_renderer(registry: Any, renderer: str, options: Mapping[str, Any], portrait: Optional[np.ndarray] = None,
                   label: str = "agent", what: str = "") -> Any:
    """Build renderer ``renderer`` and set it up for one participant.

    Args:
        portrait: ``[H, W, 3]`` uint8 photo (needed by portrait renderers).
        label: ``"agent"`` or ``"partner"``.
        what: how to name the participant's input in errors (e.g. ``"portrait me.jpg"``).

    Raises:
        InputError: no portrait for a portrait renderer, or the renderer refuses the
            source (e.g. no face found), naming ``what``.
    """
    from openinfp.core.interfaces import RenderSource

    if draws_portraits(registry, renderer) and portrait is None:
        raise InputError(f"renderer {renderer!r} draws onto a photo: give the {label}'s portrait")
    instance = registry.renderer(renderer, dict(options))
    try:
        instance.setup(RenderSource(portrait=portrait, label=label))
    except InputError as exc:
        if what:
            raise InputError(f"{what}: {exc}") from None
        raise
    return instance


class FrameSource:
    """The renderers of one run, set up before any motion exists.

    Setting up first makes a bad portrait (no face, too small) fail in a second,
    before motion is generated. Then :meth:`frames` streams the output frames.

    Args:
        registry: the plugin registry.
        renderer: renderer name; options: its validated options.
        layout: ``"single"`` or ``"pair"``; a pair is two portraits side by side for
            portrait renderers, or one two-person scene for body renderers.
        portraits: ``label -> (image or None, name for errors)`` for ``"agent"`` (and
            ``"partner"`` in a side-by-side pair).
        partner_options: renderer options that differ for the partner (e.g.
            ``face_index``: a second face of the same photo).
    """

    def __init__(self, registry: Any, renderer: str, options: Mapping[str, Any], layout: str,
                 portraits: Mapping[str, tuple[Optional[np.ndarray], str]],
                 partner_options: Optional[Mapping[str, Any]] = None) -> None:
        if layout not in ("single", "pair"):
            raise InputError(f"layout must be 'single' or 'pair', got {layout!r}")
        self.registry = registry
        self.renderer = renderer
        self.layout = layout
        self.side_by_side = layout == "pair" and draws_portraits(registry, renderer)
        self.instances: dict[str, Any] = {}
        self.scene = None
        if layout == "pair" and not self.side_by_side:
            from openinfp.body.scene import TwoPersonScene

            self.scene = TwoPersonScene(registry.renderer(renderer, dict(options)))
            return
        for label in ("agent", "partner") if self.side_by_side else ("agent",):
            image, what = portraits.get(label, (None, label))
            opts = {**options, **(partner_options or {})} if label == "partner" else options
            self.instances[label] = setup_renderer(registry, renderer, opts, image, label, what)

    def _one(self, label: str, motion: MotionSequence) -> Iterator[np.ndarray]:
        return iter(self.instances[label].render(fit_motion(self.registry, self.renderer, motion)))

    def frames(self, motion: MotionSequence, partner_motion: Optional[MotionSequence] = None) -> Iterator[np.ndarray]:
        """Output frames for the agent's (and the partner's) motion, streamed."""
        from openinfp.pipeline.compose import side_by_side

        if self.layout == "single":
            return self._one("agent", motion)
        if partner_motion is None:
            raise InputError("the pair layout needs the partner's motion as well")
        if self.side_by_side:
            return side_by_side(self._one("agent", motion), self._one("partner", partner_motion))
        return iter(self.scene.render_pair(fit_motion(self.registry, self.renderer, motion),
                                           fit_motion(self.registry, self.renderer, partner_motion)))


def encode_frames(path: PathLike, frames: Iterable[np.ndarray], num_frames: int, fps: float,
                  audio: Any = None, sample_rate: int = 16_000, crf: int = 20,
                  watermark: bool = True, label: bool = False, pm: Any = None,
                  metadata: Optional[dict[str, str]] = None, show_progress: bool = True,
                  threaded: bool = True, queue_frames: int = 8) -> Path:
    """Stream ``frames`` into an MP4 (atomically), calling ``on_frame_rendered`` hooks.

    With ``threaded`` (default) the encoder (and the provenance filter) runs in a
    second thread fed by a bounded queue of ``queue_frames`` frames, so rendering and
    H.264 encoding overlap on two cores (both release the GIL in their native code)
    while memory stays bounded.

    Args:
        path: output ``.mp4``.
        frames: ``[H, W, 3]`` uint8 RGB frames; exactly ``num_frames`` are expected.
        num_frames: expected count (a mismatch is an error and nothing is written).
        fps: frame rate.
        audio: ``[N]`` or ``[N, 2]`` float32, or a sequence of channel arrays, to mux
            (trimmed/padded to the video).
        crf, watermark, label: encoder quality and provenance marks (``output`` config;
            the invisible watermark and the visible label are applied by the writer).
        pm: plugin manager whose ``on_frame_rendered`` hook observes each frame.

    Raises:
        InputError: wrong frame count or frame format; any error of the renderer or the
            encoder propagates and nothing is written.
    """
    from openinfp.core.video import VideoWriter
    from openinfp.pipeline.progress import progress

    with VideoWriter(path, fps=fps, audio=audio, sample_rate=sample_rate, crf=crf, metadata=metadata,
                     watermark=watermark, label=label) as writer:
        sink = _ThreadedSink(writer, queue_frames) if threaded else None
        try:
            for i, frame in enumerate(progress(frames, num_frames, "render+encode", show_progress)):
                if pm is not None:
                    pm.hook.on_frame_rendered(index=i, frame=frame)
                if sink is None:
                    writer.write(frame)
                else:
                    sink.put(np.array(frame, copy=True))  # renderers may reuse their frame buffer
        except BaseException:
            if sink is not None:
                sink.finish(reraise=False)  # the renderer's error is the one to report
            raise
        if sink is not None:
            sink.finish()
        if writer.num_frames != num_frames:
            raise InputError(f"the renderer produced {writer.num_frames} frames for {num_frames} motion "
                             f"frames; {path} was not written")
    return Path(path)


class _ThreadedSink:
    """Feeds a :class:`VideoWriter` from a worker thread through a bounded queue."""

    _STOP = object()

    def __init__(self, writer: Any, maxsize: int) -> None:
        import queue
        import threading

        self.writer = writer
        self.queue: "queue.Queue[Any]" = queue.Queue(maxsize=max(1, maxsize))
        self.error: Optional[BaseException] = None
        self.thread = threading.Thread(target=self._work, name="openinfp-encoder", daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is self._STOP:
                return
            if self.error is None:
                try:
                    self.writer.write(item)
                except BaseException as exc:  # handed to the producer thread
                    self.error = exc

    def put(self, frame: np.ndarray) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(frame)

    def finish(self, reraise: bool = True) -> None:
        """Drain the queue, stop the worker, and re-raise its error (if any, and asked)."""
        self.queue.put(self._STOP)
        self.thread.join()
        if reraise and self.error is not None:
            raise self.error


def render_motion_file(
    motion: PathLike,
    output: PathLike,
    renderer: Optional[str] = None,
    portrait: Optional[PathLike] = None,
    partner_motion: Optional[PathLike] = None,
    partner_portrait: Optional[PathLike] = None,
    audio: Optional[PathLike] = None,
    partner_audio: Optional[PathLike] = None,
    preset: str = "default",
    overrides: Sequence[str] = (),
    registry: Any = None,
    show_progress: bool = True,
) -> Path:
    """Render a saved motion file (and optionally a partner's) to an MP4.

    Layouts: one participant; two portraits side by side (``partner_motion`` +
    ``partner_portrait`` with a portrait renderer); or a two-person body scene
    (``partner_motion`` with a body renderer).
    """
    from openinfp.core.config import load_config
    from openinfp.core.registry import Registry

    registry = registry or Registry.create()
    cfg = load_config(preset, overrides, registry=registry)
    if Path(output).suffix.lower() != ".mp4":
        raise InputError(f"output video {output} must end in .mp4")
    check_output_path(output, "output video")  # before any work
    limit = cfg.audio.max_duration_s
    agent = MotionSequence.load(motion, spaces=registry.motion_space, max_duration_s=limit)
    partner = (None if partner_motion is None
               else MotionSequence.load(partner_motion, spaces=registry.motion_space, max_duration_s=limit))
    if partner is not None and (partner.num_frames != agent.num_frames or partner.fps != agent.fps):
        raise InputError(f"partner motion {partner_motion} has {partner.num_frames} frames at {partner.fps} fps, "
                         f"but {motion} has {agent.num_frames} at {agent.fps} fps; they must match")
    name = renderer or DEFAULT_RENDERER.get(agent.space.name)
    if name is None:
        raise ConfigError(f"no default renderer for {agent.space.name!r} motion; name one with --renderer")
    options = renderer_options(registry, name, cfg.renderer.options if cfg.renderer.name == name else {}, cfg.output,
                               cfg.body)

    from openinfp.head.image_io import load_portrait

    layout = "single" if partner is None else "pair"
    if layout == "pair" and draws_portraits(registry, name) and partner_portrait is None:
        raise InputError("two portraits side by side need --partner-portrait as well as --partner-motion")
    portraits = {}
    for label, path in (("agent", portrait), ("partner", partner_portrait)):
        if path is not None:
            portraits[label] = (load_portrait(path), f"{'portrait' if label == 'agent' else 'partner portrait'} {path}")
    source = FrameSource(registry, name, options, layout, portraits)
    frames = source.frames(agent, partner)

    wave = None
    if audio is not None:
        from openinfp.audio.conversation import load_conversation

        conversation = load_conversation(audio, partner_audio, cfg.audio, fps=agent.fps)
        wave = (conversation.agent, conversation.partner)
    elif partner_audio is not None:
        raise InputError("--partner-audio needs --audio (the agent's track) as well")
    if show_progress:
        logging.getLogger(__name__).info("rendering %d frames with %r", agent.num_frames, name)
    return encode_frames(output, frames, agent.num_frames, agent.fps, audio=wave, crf=cfg.output.crf,
                         watermark=cfg.output.watermark, label=cfg.output.label, pm=registry.pm,
                         metadata={"openinfp_renderer": name}, show_progress=show_progress)

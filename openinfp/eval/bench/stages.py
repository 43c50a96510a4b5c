"""The built-in stage benchmarks (each imports its stage lazily inside ``prepare``; the
renderer and scene rows are built in :mod:`openinfp.eval.bench.render_stages`).

=====================  ========  ===================================================
stage                  unit      what is timed
=====================  ========  ===================================================
audio features         audio s   the ``audio`` conditioner on both tracks of the clip
diarization            audio s   segmentation-3.0 + CAM++ embeddings + clustering of the mono mix
guider+DiT window      window    guider + sampling of one DiT window (no context)
motion generation      audio s   the whole clip: guider + chained windows
tracking               frame     head tracker (MediaPipe mesh + pose/ARKit fit), video mode
renderer:<name>        frame     every registered renderer, after its setup
scene:<name>           frame     two bodies facing each other (body renderers only)
video encoding         frame     H.264 + AAC encoding of the clip's frames (the floor)
end-to-end             audio s   ``ConversationPipeline.run``: audio file + portrait -> MP4
=====================  ========  ===================================================
"""

from __future__ import annotations

import importlib
import itertools
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from openinfp.eval.bench.core import BenchContext, BenchStage, StageUnavailable, TimedFn, require_module
from openinfp.eval.bench.render_stages import renderer_stage, scene_stage

PLUGIN_BENCH_MODULES: tuple[str, ...] = ("openinfp.head.bench", "openinfp.body.bench")
"""Modules that may contribute stages through ``bench_stages() -> list[BenchStage]``."""


# ----------------------------------------------------------------------------- inputs
def conversation(ctx: BenchContext):
    from openinfp.eval.bench.inputs import bench_conversation

    s = ctx.settings
    return ctx.cached("conversation", lambda: bench_conversation(s.clip_seconds, s.fps, s.seed))


def conditions(ctx: BenchContext, width: int = 0) -> list:
    """The audio conditioner's tokens for the clip (both tracks).

    Without a registered ``audio`` conditioner: random agent/partner tokens of
    ``width`` (the model's audio token width; the cost of the guider and DiT does not
    depend on the values), with a note on the rows that use them.
    """
    def build() -> tuple[list, bool]:
        from openinfp.core.interfaces import ConditionInputs

        registry = ctx.registry()
        if "audio" in registry.choices("conditioners"):
            cond = registry.conditioner("audio")
            audio = conversation(ctx)
            return cond.encode(ConditionInputs(audio=audio, fps=ctx.settings.fps), ctx.clip_frames), False
        import torch

        from openinfp.core.conditions import ConditionTokens

        gen = torch.Generator().manual_seed(ctx.settings.seed)
        dim = width or 64
        return [ConditionTokens("audio", torch.randn(ctx.clip_frames, dim, generator=gen), role=role)
                for role in ("agent", "partner")], True

    tokens, random = ctx.cached("conditions", build)
    if random:
        for stage in ("guider+DiT window", "motion generation"):
            if not any("random" in n for n in ctx.notes.get(stage, [])):
                ctx.note(stage, "no 'audio' conditioner registered yet: random audio tokens of the model's width")
    return tokens


def generator(ctx: BenchContext, stage: str):
    """The shipped head generator, or the default architecture with untrained weights."""
    def build():
        require_module("openinfp.core.generator", "the motion generator")
        from openinfp.core.errors import CheckpointError
        from openinfp.core.generator import MotionGenerator

        try:
            return MotionGenerator.from_pretrained(None, motion_space="head", device=ctx.settings.device), None
        except CheckpointError:
            import torch

            from openinfp.core.model_config import DiTConfig, GuiderConfig

            space = ctx.registry().motion_space("head")
            space = space.with_stats(torch.zeros(space.dim), torch.ones(space.dim))
            audio_dim = next(c.dim for c in conditions(ctx, width=64) if c.name == "audio")
            cfg = GuiderConfig(token_dims={"audio": audio_dim, "text": 384})
            gen = MotionGenerator.build(cfg, DiTConfig(), space).to(ctx.settings.device)
            return gen, ("no trained model ships yet: timed the default architecture with untrained "
                         "weights (same cost)")

    gen, note = ctx.cached("generator", build)
    if note:
        ctx.note(stage, note)
    conditions(ctx, width=gen.guider.config.token_dims.get("audio", 0))
    return gen


# ----------------------------------------------------------------------------- stages
def pipeline_threads(ctx: BenchContext, stage: str) -> Any:
    """The torch thread setting the pipeline uses for audio and generation on a CPU, as a
    context manager (so these stages are timed the way ``openinfp animate`` runs them)."""
    import contextlib

    if ctx.settings.device != "cpu":
        return contextlib.nullcontext()
    try:
        from openinfp.core.threads import torch_threads
        from openinfp.pipeline.resources import GENERATION_THREADS
    except ImportError:
        return contextlib.nullcontext()
    if not any("torch thread" in n for n in ctx.notes.get(stage, [])):
        ctx.note(stage, f"{GENERATION_THREADS} torch thread(s), as the pipeline")
    return torch_threads(GENERATION_THREADS)


def _audio_features(ctx: BenchContext) -> TimedFn:
    from openinfp.core.interfaces import ConditionInputs

    registry = ctx.registry()
    audio = conversation(ctx)
    if "audio" in registry.choices("conditioners"):
        cond = registry.conditioner("audio")
        inputs = ConditionInputs(audio=audio, fps=ctx.settings.fps)

        def run() -> float:
            with pipeline_threads(ctx, "audio features"):
                cond.encode(inputs, ctx.clip_frames)
            return audio.duration
        return run
    feats = require_module("openinfp.conditioners.audio_features", "the audio feature extractor")
    ctx.note("audio features", "no 'audio' conditioner registered yet: timed track_features on both tracks")

    def run_features() -> float:
        for wave in (audio.agent, audio.partner):
            feats.track_features(wave, ctx.clip_frames, ctx.settings.fps)
        return audio.duration
    return run_features


def _diarization(ctx: BenchContext) -> TimedFn:
    diarize = require_module("openinfp.audio.diarize", "diarization")
    audio = conversation(ctx)
    mix = np.clip(audio.agent + audio.partner, -1.0, 1.0).astype(np.float32)

    def run() -> float:
        diarize.diarize_frames(mix)
        return audio.duration
    return run


def _slice_tokens(tokens: list, frames: int) -> list:
    from openinfp.core.conditions import ConditionTokens

    out = []
    for c in tokens:
        if c.kind == "frame":
            mask = None if c.mask is None else c.mask[:frames]
            out.append(ConditionTokens(c.name, c.tokens[:frames], c.kind, mask, c.role))
        else:
            out.append(c)
    return out


def _generator_window(ctx: BenchContext) -> TimedFn:
    gen = generator(ctx, "guider+DiT window")
    window = gen.dit.config.window
    if ctx.clip_frames < window:
        raise StageUnavailable(f"the clip ({ctx.clip_frames} frames) is shorter than one window ({window})")
    tokens = _slice_tokens(conditions(ctx, gen.guider.config.token_dims.get("audio", 0)), window)
    ctx.note("guider+DiT window", f"{window}-frame window, {gen.sampler.scheduler} with {gen.sampler.steps} steps")

    def run() -> float:
        with pipeline_threads(ctx, "guider+DiT window"):
            gen.generate(tokens, window, seed=ctx.settings.seed)
        return 1
    return run


def _generator_clip(ctx: BenchContext) -> TimedFn:
    gen = generator(ctx, "motion generation")
    tokens = conditions(ctx, gen.guider.config.token_dims.get("audio", 0))
    seconds = ctx.clip_frames / ctx.settings.fps

    def run() -> float:
        with pipeline_threads(ctx, "motion generation"):
            gen.generate(tokens, ctx.clip_frames, seed=ctx.settings.seed)
        return seconds
    return run


def _tracking(ctx: BenchContext) -> TimedFn:
    tracker_mod = require_module("openinfp.head.tracker", "the head tracker")
    from openinfp.eval.bench.inputs import bench_frames

    frames = ctx.cached(f"frames{ctx.settings.frames}", lambda: bench_frames(ctx.settings.frames, ctx.settings.size))
    tracker = tracker_mod.HeadTracker()

    def run() -> float:
        results = list(tracker.track_frames(iter(frames)))
        if "tracking" not in ctx.notes:
            found = sum(r is not None for r in results) / len(results)
            ctx.note("tracking", f"{len(frames)} frames {ctx.settings.size}x{ctx.settings.size}, "
                                 f"face found in {found:.0%}")
        return len(results)
    return run


def _encoding(ctx: BenchContext) -> TimedFn:
    from openinfp.core.video import VideoWriter
    from openinfp.eval.bench.inputs import bench_frames

    s = ctx.settings
    frames = ctx.cached(f"frames{s.frames}", lambda: bench_frames(s.frames, s.size))
    audio = conversation(ctx)
    tmp = Path(ctx.cached("tmpdir", lambda: tempfile.mkdtemp(prefix="openinfp-bench-")))

    def run() -> float:
        with VideoWriter(tmp / "encode.mp4", fps=s.fps, audio=audio.stereo(), sample_rate=audio.sample_rate) as w:
            for frame in itertools.islice(itertools.cycle(frames), ctx.clip_frames):
                w.write(frame)
        return ctx.clip_frames
    ctx.note("video encoding", f"{ctx.clip_frames} frames {s.size}x{s.size} + stereo AAC, libx264 veryfast crf 20")
    return run


def _end_to_end(ctx: BenchContext) -> TimedFn:
    require_module("openinfp.pipeline.pipeline", "the end-to-end pipeline")
    import soundfile as sf

    from openinfp.eval.bench.inputs import bench_portrait
    from openinfp.pipeline.pipeline import AnimateInputs, AnimateOutputs, ConversationPipeline

    s = ctx.settings
    audio = conversation(ctx)
    tmp = Path(ctx.cached("tmpdir", lambda: tempfile.mkdtemp(prefix="openinfp-bench-")))
    wav = tmp / "conversation.wav"
    sf.write(wav, audio.stereo(), audio.sample_rate)
    overrides = [f"output.size={s.size}", f"device={s.device}", f"seed={s.seed}"]
    gen = generator(ctx, "end-to-end")
    if any("untrained" in n for n in ctx.notes.get("end-to-end", [])):
        # No shipped model yet: the same architecture with untrained weights costs the same.
        gen.save_pretrained(tmp / "untrained-checkpoint")
        overrides.append(f"model.checkpoint={tmp / 'untrained-checkpoint'}")
    pipeline = ConversationPipeline.from_preset("default", overrides, registry=ctx.registry(), show_progress=False)
    inputs = AnimateInputs(portrait=bench_portrait(), audio=str(wav))
    ctx.note("end-to-end", f"{audio.duration:g} s stereo conversation + astronaut portrait -> "
                           f"{s.size}x{s.size} MP4, default preset")

    runs: list[dict[str, float]] = []

    def run() -> float:
        result = pipeline.run(inputs, AnimateOutputs(video=tmp / "e2e.mp4"))
        runs.append(dict(result.timings))
        # Breakdown of the median timed run so far (the pipeline's own stage timer).
        timed = runs[ctx.settings.warmup:] or runs
        median = sorted(timed, key=lambda t: t.get("total", 0.0))[len(timed) // 2]
        notes = [n for n in ctx.notes.get("end-to-end", []) if not n.startswith("pipeline stages")]
        parts = ", ".join(f"{k} {v:.1f} s" + (f" (CPU {median[f'cpu {k}']:.1f} s)" if f"cpu {k}" in median else "")
                          for k, v in median.items() if k != "total" and not k.startswith("cpu"))
        ctx.notes["end-to-end"] = notes + [f"pipeline stages (median run): {parts}"]
        return audio.duration
    return run


def _per_second(ctx: BenchContext) -> float:
    return 1.0


def _per_frame(ctx: BenchContext) -> float:
    return ctx.settings.fps


def _per_window(ctx: BenchContext) -> float:
    gen, _ = ctx.peek("generator")
    return ctx.settings.fps / gen.dit.config.window


def builtin_stages(ctx: BenchContext) -> list[BenchStage]:
    """Every built-in stage, with one ``renderer:<name>`` row per registered renderer."""
    stages = [
        BenchStage("audio features", "audio s", _audio_features, "audio conditioner, both tracks", _per_second),
        BenchStage("diarization", "audio s", _diarization, "segmentation-3.0 + CAM++ + clustering of a mix",
                   _per_second),
        BenchStage("guider+DiT window", "window", _generator_window, "guider + one DiT window (sampler steps)",
                   _per_window),
        BenchStage("motion generation", "audio s", _generator_clip, "guider + chained DiT windows, whole clip",
                   _per_second),
        BenchStage("tracking", "frame", _tracking, "head tracker, video mode", _per_frame),
    ]
    try:
        renderers = ctx.registry().entries("renderers")
    except Exception:  # a broken plugin must not hide the other stages
        renderers = {}
    for name in sorted(renderers):
        stages.append(renderer_stage(name, renderers[name].spec))
    for name in sorted(renderers):
        if "smplx" in renderers[name].spec.motion_spaces:
            stages.append(scene_stage(name, renderers[name].spec))
    if not renderers:
        def none_registered(_: BenchContext) -> TimedFn:
            raise StageUnavailable("no renderer is registered")
        stages.append(BenchStage("renderer:*", "frame", none_registered, "registered renderers", _per_frame))
    stages += [
        BenchStage("video encoding", "frame", _encoding, "VideoWriter, the clip's frames with audio", _per_frame),
        BenchStage("end-to-end", "audio s", _end_to_end, "ConversationPipeline.run on the clip", _per_second),
    ]
    return stages


def plugin_stages() -> tuple[list[BenchStage], dict[str, str]]:
    """Stages from :data:`PLUGIN_BENCH_MODULES`; and, per module not used, why."""
    stages: list[BenchStage] = []
    skipped: dict[str, str] = {}
    for module in PLUGIN_BENCH_MODULES:
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                skipped[module] = "not present"
                continue
            skipped[module] = f"import failed: {exc}"
            continue
        except Exception as exc:
            skipped[module] = f"import failed: {exc}"
            continue
        fn = getattr(mod, "bench_stages", None)
        if fn is None:
            skipped[module] = "adds no stages (it defines no bench_stages())"
            continue
        try:
            found = [s for s in fn() if isinstance(s, BenchStage)]
        except Exception as exc:
            skipped[module] = f"bench_stages() failed: {exc}"
            continue
        stages.extend(found)
    return stages, skipped


def all_stages(ctx: BenchContext) -> tuple[list[BenchStage], dict[str, str]]:
    """Built-in and plugin stages, filtered by ``settings.stages`` (name prefixes)."""
    extra, skipped = plugin_stages()
    stages = builtin_stages(ctx)
    names = {s.name for s in stages}
    stages += [s for s in extra if s.name not in names]
    wanted = ctx.settings.stages
    if wanted:
        stages = [s for s in stages if any(s.name.startswith(w) for w in wanted)]
    return stages, skipped

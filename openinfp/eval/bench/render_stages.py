"""Benchmark stages of the renderers: one ``renderer:<name>`` row per registered renderer
(frames of a demo motion, after the renderer's setup) and one ``scene:<name>`` row per body
renderer (two bodies facing each other)."""

from __future__ import annotations

import dataclasses
from typing import Any

from openinfp.eval.bench.core import BenchContext, BenchStage, TimedFn, require_module


def renderer_stage(name: str, spec: Any) -> BenchStage:
    """Frames per second of renderer ``name`` (``spec``: its registry spec) on a demo motion."""
    stage_name = f"renderer:{name}"

    def prepare(ctx: BenchContext) -> TimedFn:
        import time

        from openinfp.core.interfaces import RenderSource
        from openinfp.eval.bench.inputs import bench_portrait, demo_motion

        registry = ctx.registry()
        space = spec.motion_spaces[0] if spec.motion_spaces else "head"
        renderer = registry.renderer(name, _renderer_options(spec, ctx.settings.size))
        portrait = bench_portrait() if "head" in spec.motion_spaces and "smplx" not in spec.motion_spaces else None
        t0 = time.perf_counter()
        renderer.setup(RenderSource(portrait=portrait, label="agent"))
        ctx.note(stage_name, f"setup {time.perf_counter() - t0:.2f} s (not in the per-frame time)")
        motion = demo_motion(registry.motion_space(space), ctx.settings.frames, ctx.settings.fps)
        shape: list = []

        def run() -> float:
            n = 0
            for frame in renderer.render(motion):
                if not shape:
                    shape.append(frame.shape)
                n += 1
            return n
        run()  # learn the frame size for the note (untimed)
        ctx.note(stage_name, f"frames {shape[0][1]}x{shape[0][0]}, {space} motion")
        return run

    return BenchStage(stage_name, "frame", prepare, f"renderer {name!r}: {spec.description}",
                      real_time_units=lambda ctx: ctx.settings.fps)


def _renderer_options(spec: Any, size: int) -> dict[str, Any]:
    """``{"size": size}`` for renderers whose options have a ``size`` field."""
    if spec.config_cls is not None and dataclasses.is_dataclass(spec.config_cls):
        if "size" in {f.name for f in dataclasses.fields(spec.config_cls)}:
            return {"size": size}
    return {}


def scene_stage(name: str, spec: Any) -> BenchStage:
    """Two bodies facing each other, both drawn by renderer ``name``, per output frame."""
    stage_name = f"scene:{name}"

    def prepare(ctx: BenchContext) -> TimedFn:
        scene_mod = require_module("openinfp.body.scene", "the two-person scene")
        from openinfp.core.motion import MotionSequence
        from openinfp.eval.bench.inputs import demo_motion

        registry = ctx.registry()
        scene = scene_mod.TwoPersonScene(registry.renderer(name, _renderer_options(spec, ctx.settings.size)))
        agent = demo_motion(registry.motion_space("smplx"), ctx.settings.frames, ctx.settings.fps)
        partner = MotionSequence(agent.motion.flip(0), agent.space, agent.fps)  # the same moves, time-reversed
        shape: list = []

        def run() -> float:
            n = 0
            for frame in scene.render_pair(agent, partner):
                if not shape:
                    shape.append(frame.shape)
                n += 1
            return n
        run()  # loads the body model (untimed) and learns the frame size
        ctx.note(stage_name, f"two bodies facing each other, frames {shape[0][1]}x{shape[0][0]}")
        return run

    return BenchStage(stage_name, "frame", prepare, f"two-person scene drawn with {name!r}",
                      real_time_units=lambda ctx: ctx.settings.fps)

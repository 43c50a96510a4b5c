"""Timing of the body renderers and the two-person scene (``docs/BODY.md`` figures).

:func:`bench_body` renders a moving test motion with each body renderer and the scene
and reports frames per second (wall clock) and the CPU time per frame of this process
(``time.process_time``), which stays meaningful when other jobs share the CPU; the
1-minute load average at the end of each run says how busy the machine was.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Callable, Iterable, Iterator, Optional

import numpy as np
import torch

from openinfp.body.convert import neutral_smplx_motion
from openinfp.body.motion_space import joint_position, joint_rotmats, set_joint_rotations, smplx_motion_space
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import axis_angle_to_matrix


@dataclass
class BodyBenchResult:
    """One timed run.

    Attributes:
        name: what was timed (e.g. ``"anny 512x512 upper_body"``).
        frames: frames rendered (after a short warm-up that is not timed).
        width, height: frame size.
        fps: frames per second, wall clock.
        cpu_ms_per_frame: CPU time of this process per frame.
        load_avg: the machine's 1-minute load average after the run (CPU contention).
        threads: torch CPU threads used while rendering.
    """

    name: str
    frames: int
    width: int
    height: int
    fps: float
    cpu_ms_per_frame: float
    load_avg: float
    threads: int


def bench_motion(num_frames: int, fps: float = 25.0, seed: int = 0) -> MotionSequence:
    """A talking-like ``smplx`` motion: relaxed body, head nodding and turning, arms
    gesturing, jaw and smile moving (``[T, 385]``)."""
    rng = np.random.default_rng(seed)
    base = neutral_smplx_motion(num_frames, fps)
    space = smplx_motion_space()
    t = torch.arange(num_frames, dtype=torch.float32) / fps
    phase = float(rng.uniform(0, 2 * math.pi))

    def rot(axis: int, angle: torch.Tensor) -> torch.Tensor:
        aa = torch.zeros(num_frames, 3)
        aa[:, axis] = angle
        return axis_angle_to_matrix(aa)

    rel = base.motion
    current = joint_rotmats(rel)
    rel = set_joint_rotations(rel, {
        "head": rot(1, 0.35 * torch.sin(0.9 * t + phase)) @ rot(0, 0.12 * torch.sin(2.1 * t)),
        "neck": rot(0, 0.08 * torch.sin(1.3 * t)),
        "right_shoulder": current[:, joint_position("right_shoulder")] @ rot(1, -0.5 - 0.3 * torch.sin(1.7 * t)),
        "right_elbow": rot(1, 0.6 + 0.4 * torch.sin(2.3 * t)),
        "spine2": rot(1, 0.1 * torch.sin(0.5 * t)),
    })
    expr = space.get(rel, "expression").clone()
    names = space.part("expression").component_names
    expr[:, names.index("jawOpen")] = (0.5 + 0.5 * torch.sin(9.0 * t)).clamp(0, 1) * 0.6
    expr[:, names.index("mouthSmileLeft")] = 0.4
    expr[:, names.index("mouthSmileRight")] = 0.4
    blink = ((t * 0.3) % 1.0 < 0.05).float()
    expr[:, names.index("eyeBlinkLeft")] = blink
    expr[:, names.index("eyeBlinkRight")] = blink
    rel = space.set(rel, "expression", expr)
    return MotionSequence(rel, space, fps)


def _time(frames: Callable[[], Iterator[np.ndarray]], count: int) -> tuple[float, float, tuple[int, int]]:
    wall, cpu = time.perf_counter(), time.process_time()
    shape = (0, 0)
    n = 0
    for frame in frames():
        shape = frame.shape[:2]
        n += 1
    if n != count:
        raise RuntimeError(f"expected {count} frames, got {n}")
    return time.perf_counter() - wall, time.process_time() - cpu, shape


def _load() -> float:
    try:
        return float(os.getloadavg()[0])
    except OSError:  # not available on every platform
        return float("nan")


def bench_body(renderers: Iterable[str] = ("skeleton", "anny"), frames: int = 50, size: int = 512,
               cameras: Iterable[str] = ("upper_body",), scene: bool = True, threads: int = 1,
               smplx_model_dir: Optional[str] = None) -> list[BodyBenchResult]:
    """Time body renderers (and the two-person scene with each) at ``size`` x ``size``.

    Args:
        renderers: names among ``skeleton``, ``anny``, ``smplx``.
        frames: frames timed per run (a 4-frame warm-up runs first, untimed, so
            model loading and first-call costs are excluded).
        size: frame height (and width for single bodies).
        cameras: camera presets to time.
        scene: also time :class:`~openinfp.body.scene.TwoPersonScene` (facing layout).
        threads: torch CPU threads while rendering.
        smplx_model_dir: model folder for the ``smplx`` renderer.

    Returns:
        One :class:`BodyBenchResult` per run.
    """
    from openinfp.body.anny_renderer import AnnyRenderer
    from openinfp.body.config import AnnyRenderOptions, SkeletonRenderOptions, SmplxRenderOptions
    from openinfp.body.scene import TwoPersonScene
    from openinfp.body.skeleton_renderer import SkeletonRenderer
    from openinfp.body.smplx_renderer import SmplxRenderer
    from openinfp.core.interfaces import RenderSource

    makers = {
        "skeleton": lambda cam: SkeletonRenderer(SkeletonRenderOptions(camera=cam, size=size, threads=threads)),
        "anny": lambda cam: AnnyRenderer(AnnyRenderOptions(camera=cam, size=size, threads=threads)),
        "smplx": lambda cam: SmplxRenderer(SmplxRenderOptions(camera=cam, size=size, threads=threads,
                                                              model_dir=smplx_model_dir or "")),
    }
    motion_a = bench_motion(frames, seed=0)
    motion_b = bench_motion(frames, seed=1)
    warm_a, warm_b = bench_motion(4, seed=0), bench_motion(4, seed=1)
    results = []
    for name in renderers:
        if name not in makers:
            raise ValueError(f"unknown body renderer {name!r}; choose from {', '.join(makers)}")
        for cam in cameras:
            renderer = makers[name](cam)
            renderer.setup(RenderSource(label="agent"))
            list(renderer.render(warm_a))
            wall, cpu, (h, w) = _time(lambda: renderer.render(motion_a), frames)
            results.append(BodyBenchResult(f"{name} {w}x{h} {cam}", frames, w, h, frames / wall,
                                           1000.0 * cpu / frames, _load(), threads))
            if scene:
                sc = TwoPersonScene(renderer, layout="facing")
                list(sc.render_pair(warm_a, warm_b))
                wall, cpu, (h, w) = _time(lambda: sc.render_pair(motion_a, motion_b), frames)
                results.append(BodyBenchResult(f"scene ({name} x2, facing) {w}x{h} {cam}", frames, w, h,
                                               frames / wall, 1000.0 * cpu / frames, _load(), threads))
    return results


def results_markdown(results: Iterable[BodyBenchResult]) -> str:
    """A markdown table of bench results."""
    lines = ["| run | frames | fps (wall) | CPU ms / frame | load avg | threads |",
             "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r.name} | {r.frames} | {r.fps:.1f} | {r.cpu_ms_per_frame:.1f} | {r.load_avg:.1f} "
                     f"| {r.threads} |")
    return "\n".join(lines)


def results_dicts(results: Iterable[BodyBenchResult]) -> list[dict]:
    """Plain dicts (for JSON)."""
    return [asdict(r) for r in results]


if __name__ == "__main__":  # pragma: no cover - manual use: python -m openinfp.body.bench
    import argparse

    parser = argparse.ArgumentParser(description="time the body renderers")
    parser.add_argument("--frames", type=int, default=50, help="frames per timed run")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--renderers", nargs="+", default=["skeleton", "anny"], help="renderers to time")
    parser.add_argument("--cameras", nargs="+", default=["upper_body"], help="camera presets")
    parser.add_argument("--smplx-model-dir", default=None, help="model folder for the smplx renderer")
    a = parser.parse_args()
    print(results_markdown(bench_body(a.renderers, a.frames, cameras=a.cameras, threads=a.threads,
                                      smplx_model_dir=a.smplx_model_dir)))

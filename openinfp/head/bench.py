"""Speed of the head tracker and the portrait renderer (``python -m openinfp.head.bench``).

The project-wide ``openinfp bench`` times the same stages; this module is the head
stage's own quick check, and :func:`bench_renderer` / :func:`bench_tracker` can be called
from elsewhere.
"""

from __future__ import annotations

import argparse
import time
from typing import Optional

import numpy as np


def _astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


def bench_renderer(frames: int = 100, size: int = 512, portrait: Optional[np.ndarray] = None) -> float:
    """Frames per second of the ``portrait`` renderer at ``size`` x ``size`` on moving motion
    (pose sweep, jaw, blinks), after setup."""
    import torch

    from openinfp.core.interfaces import RenderSource
    from openinfp.head.closed_loop import make_motion
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig

    renderer = PortraitRenderer(PortraitRendererConfig(size=size))
    renderer.setup(RenderSource(portrait=_astronaut() if portrait is None else portrait))
    t = np.linspace(0, 2 * np.pi, frames)
    motions = torch.stack([make_motion((15 * np.sin(x), 8 * np.sin(2 * x), 5 * np.sin(3 * x)),
                                       jawOpen=0.4 * (1 + np.sin(5 * x)), eyeBlinkLeft=float(i % 20 == 0),
                                       eyeBlinkRight=float(i % 20 == 0)) for i, x in enumerate(t)])
    renderer.render_frame(motions[0])  # warm-up
    start = time.perf_counter()
    for m in motions:
        renderer.render_frame(m)
    return frames / (time.perf_counter() - start)


def bench_tracker(frames: int = 60, size: int = 512) -> tuple[float, float]:
    """(video-mode fps, still-image fps) of the head tracker on ``size`` px frames of the
    astronaut rendered with small head motion."""
    import torch

    from openinfp.core.interfaces import RenderSource
    from openinfp.head.closed_loop import make_motion
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig
    from openinfp.head.tracker import HeadTracker

    renderer = PortraitRenderer(PortraitRendererConfig(size=size))
    renderer.setup(RenderSource(portrait=_astronaut()))
    t = np.linspace(0, 2 * np.pi, frames)
    clip = [renderer.render_frame(make_motion((10 * np.sin(x), 0, 0), jawOpen=0.3 * (1 + np.sin(3 * x))))
            for x in t]
    with HeadTracker() as tracker:
        start = time.perf_counter()
        results = list(tracker.track_frames(iter(clip)))
        video_fps = len(results) / (time.perf_counter() - start)
        tracker.track_image(clip[0])  # warm-up of the still-image graph
        n = min(20, frames)
        start = time.perf_counter()
        for frame in clip[:n]:
            tracker.track_image(frame)
        image_fps = n / (time.perf_counter() - start)
    del torch
    return video_fps, image_fps


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Time the head tracker and the portrait renderer.")
    ap.add_argument("--frames", type=int, default=100, help="frames to render / track")
    ap.add_argument("--size", type=int, default=512, help="frame size in px")
    args = ap.parse_args(argv)
    render_fps = bench_renderer(args.frames, args.size)
    video_fps, image_fps = bench_tracker(min(args.frames, 60), args.size)
    print(f"portrait renderer {args.size}x{args.size}: {render_fps:.1f} frames/s")
    print(f"head tracker (video mode, {args.size}px): {video_fps:.1f} frames/s; still images: {image_fps:.1f}/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

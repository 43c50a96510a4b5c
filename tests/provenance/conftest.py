"""Shared clips for the provenance tests: real photos, written once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FRAMES = 20


@pytest.fixture(scope="session")
def portrait_frames() -> list[np.ndarray]:
    """A real photo (astronaut) with a moving head region: 20 frames of 512x512 RGB."""
    from openinfp.provenance.clips import load_photo, portrait_clip

    return list(portrait_clip(load_photo("astronaut"), 512, 512, FRAMES, np.random.default_rng(0)))


@pytest.fixture(scope="session")
def videos(tmp_path_factory, portrait_frames) -> dict[str, Path]:
    """``marked``/``unmarked`` MP4s of :func:`portrait_frames` written by VideoWriter."""
    from openinfp.core.video import VideoWriter

    folder = tmp_path_factory.mktemp("provenance")
    out = {}
    for name, marked in (("marked", True), ("unmarked", False)):
        out[name] = folder / f"{name}.mp4"
        with VideoWriter(out[name], fps=25, watermark=marked) as writer:
            writer.write_all(portrait_frames)
    return out

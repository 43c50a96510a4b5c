"""Fixtures of the demo tests: one served demo per module, on a free local port."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest


def http_get(url: str, timeout: float = 30.0) -> tuple[int, bytes]:
    """``(status, body)`` of a GET, also for HTTP errors."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


DEMO_EXAMPLE_SECONDS = 4.0
"""The example conversation is cut to this length so a demo run takes seconds."""


@pytest.fixture(scope="session")
def demo_overrides(tmp_path_factory) -> tuple[str, ...]:
    """Small and fast: 256 px; the shipped model, or an untrained smoke model until it ships."""
    from openinfp.core.generator import default_checkpoint
    from openinfp.core.registry import Registry
    from openinfp.pipeline.smoke import save_untrained_generator

    overrides = ["output.size=256"]
    try:
        default_checkpoint("head")
    except Exception:
        ckpt = save_untrained_generator(tmp_path_factory.mktemp("model") / "head", Registry.create(), "head")
        overrides.append(f"model.checkpoint={ckpt}")
    return tuple(overrides)


@pytest.fixture(scope="session")
def served_demo(tmp_path_factory, demo_overrides):
    """``(url, blocks, backend)`` of one demo served in this process for the whole session."""
    from openinfp.pipeline.demo import DemoSettings, launch_demo

    settings = DemoSettings(port=0, workdir=tmp_path_factory.mktemp("demo"), max_upload_mb=5.0,
                            max_audio_s=60.0, overrides=tuple(demo_overrides), example_seconds=DEMO_EXAMPLE_SECONDS)
    blocks, backend = launch_demo(settings, block=False)
    try:
        yield blocks.local_url.rstrip("/"), blocks, backend
    finally:
        blocks.close()
        backend.close()
        os.environ.pop("GRADIO_TEMP_DIR", None)

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


@pytest.fixture(scope="module")
def demo_overrides() -> tuple[str, ...]:
    """Pipeline config overrides of the served demo (modules override this fixture)."""
    return ()


@pytest.fixture(scope="module")
def served_demo(tmp_path_factory, request, demo_overrides):
    """``(url, blocks, backend)`` of a demo served in this process (closed afterwards).

    Modules may set ``DEMO_EXAMPLE_SECONDS`` to shorten the example conversation.
    """
    from openinfp.pipeline.demo import DemoSettings, launch_demo

    settings = DemoSettings(port=0, workdir=tmp_path_factory.mktemp("demo"), max_upload_mb=5.0,
                            max_audio_s=60.0, overrides=tuple(demo_overrides),
                            example_seconds=getattr(request.module, "DEMO_EXAMPLE_SECONDS", 0.0))
    blocks, backend = launch_demo(settings, block=False)
    try:
        yield blocks.local_url.rstrip("/"), blocks, backend
    finally:
        blocks.close()
        backend.close()
        os.environ.pop("GRADIO_TEMP_DIR", None)

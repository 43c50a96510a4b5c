"""The demo driven by a real browser: Playwright with the system's headless Chromium.

Loads the page, uploads a portrait and a conversation, runs, waits for the video
element, checks that it plays (duration > 0 and time advances), and saves a
screenshot (to ``$OPENINFP_TEST_ARTIFACTS`` when set, else the test's tmp folder).
Skipped with the reason when Chromium or Playwright is missing; ``.ci/run`` installs
Debian's ``chromium`` so CI runs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .conftest import DEMO_EXAMPLE_SECONDS

CHROMIUM = os.environ.get("OPENINFP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
RUN_TIMEOUT_MS = 300_000

pytestmark = pytest.mark.browser


def _chromium() -> str:
    path = CHROMIUM if Path(CHROMIUM).is_file() else shutil.which("chromium")
    if not path:
        pytest.skip(f"Chromium not found at {CHROMIUM} or on PATH: install the Debian 'chromium' package "
                    "(CI does) or set OPENINFP_CHROMIUM")
    return path


def test_demo_in_a_real_browser(served_demo, tmp_path):
    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install "
                                                       "playwright; the browser itself comes from the system)")
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    url, _, backend = served_demo
    ex = backend.examples()
    shot_dir = Path(os.environ.get("OPENINFP_TEST_ARTIFACTS", tmp_path))
    shot_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1100})
            page.goto(url, wait_until="domcontentloaded", timeout=60_000)
            page.locator("#run").wait_for(timeout=60_000)
            page.locator("#portrait input[type=file]").set_input_files(str(ex["portrait"]))
            page.locator("#audio input[type=file]").set_input_files(str(ex["conversation"]))
            page.locator("#steps input[type=number]").fill("2")
            page.locator("#portrait img").first.wait_for(timeout=60_000)
            page.locator("#audio audio, #audio .waveform-container, #audio [data-testid=waveform-x]") \
                .first.wait_for(state="attached", timeout=60_000)
            page.locator("#run").click()
            video = page.locator("#result-video video")
            video.wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
            page.wait_for_function("() => { const v = document.querySelector('#result-video video');"
                                   " return v && v.currentSrc && v.readyState >= 1; }", timeout=60_000)
            duration = video.evaluate("v => v.duration")
            played = video.evaluate(
                "v => { v.muted = true; return v.play().then(() => new Promise(r => setTimeout("
                "() => { const t = v.currentTime; v.pause(); r(t); }, 1500))); }")
            summary = page.locator("#summary").inner_text(timeout=30_000)
            downloads = page.locator("#downloads").inner_text(timeout=30_000)
            page.screenshot(path=str(shot_dir / "demo_browser.png"), full_page=True)
        finally:
            browser.close()
    assert abs(duration - DEMO_EXAMPLE_SECONDS) < 0.2, duration
    assert played > 0.2, f"video did not advance when played (currentTime {played})"
    assert "real-time factor" in summary
    names = downloads.replace("\n", "")  # Gradio shows name and extension in separate elements
    assert all(n in names for n in ("motion.npz", "timeline.png", "arkit.csv", "openinfp.mp4")), downloads
    assert (shot_dir / "demo_browser.png").stat().st_size > 10_000

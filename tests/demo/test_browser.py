"""The demo driven by a real browser: Playwright with the system's headless Chromium.

At the size of a laptop screen (1280 x 1000) it checks what a person sees: only the
inputs the chosen mode uses; short messages in their own terms (their file names, no
server paths, errno numbers, config keys or tracebacks) for a non-image with an image
name, an audio file that is not audio, a photo without a face and an over-long
conversation, with one log line each on the server; and a good run whose progress shows
next to the Animate button and whose video ends up in view and plays. Screenshots go to
``$OPENINFP_TEST_ARTIFACTS`` when set, else the test's tmp folder.
Skipped with the reason when Chromium or Playwright is missing; ``.ci/run`` installs
Debian's ``chromium`` so CI runs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from ..conftest import BROWSER_FLAGS
from .conftest import DEMO_EXAMPLE_SECONDS

CHROMIUM_FLAGS = list(BROWSER_FLAGS)
RUN_TIMEOUT_MS = 300_000
VIEWPORT = {"width": 1280, "height": 1000}
LEAKS = re.compile(r"/tmp/|/gradio/|Errno|Traceback|ComponentProcessingError|max_duration_s|--set|\.py\b")

pytestmark = pytest.mark.browser




@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    """A text file named .png, a text file named .wav, a real photo with no face, a 70 s WAV."""
    import soundfile as sf
    from PIL import Image
    from skimage import data

    d = tmp_path_factory.mktemp("bad_uploads")
    (d / "holiday.png").write_text("this is a shopping list, not a picture\n" * 20)
    (d / "talk.wav").write_text("this is a letter, not a recording\n" * 20)
    Image.fromarray(data.coffee()).save(d / "coffee.png")  # a real photo, no face in it
    t = np.arange(16_000 * 70) / 16_000
    sf.write(d / "long_talk.wav", (0.1 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16_000)
    return d


def _open(page, url):
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.locator("#run").wait_for(timeout=60_000)


def _upload(page, elem_id: str, path) -> None:
    page.locator(f"#{elem_id} input[type=file]").set_input_files(str(path))


def _error_after_run(page) -> str:
    """Press Animate; the refusal shows in the status right under the button."""
    page.locator("#run").click()
    page.wait_for_function("() => document.querySelector('#status').innerText.includes('Could not animate')",
                           timeout=120_000)
    return " ".join(page.locator("#status").inner_text(timeout=10_000).split())


def test_demo_in_a_real_browser(chromium, served_demo, bad_files, tmp_path, capfd):
    from playwright.sync_api import sync_playwright

    executable = chromium
    url, _, backend = served_demo
    ex = backend.examples()
    shot_dir = Path(os.environ.get("OPENINFP_TEST_ARTIFACTS", tmp_path))
    shot_dir.mkdir(parents=True, exist_ok=True)
    errors: dict[str, str] = {}
    capfd.readouterr()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            _open(page, url)
            # only the inputs the chosen mode uses
            shown = lambda: {k: page.locator(f"#{k}").is_visible() for k in ("partner-portrait", "body-model")}  # noqa: E731
            assert shown() == {"partner-portrait": False, "body-model": False}
            page.get_by_label("Two portraits side by side").check()
            page.locator("#partner-portrait").wait_for(state="visible", timeout=10_000)
            assert shown() == {"partner-portrait": True, "body-model": False}
            page.get_by_label("Full body").check()
            page.locator("#body-model").wait_for(state="visible", timeout=10_000)
            assert shown() == {"partner-portrait": False, "body-model": True}

            cases = {"not an image": ("holiday.png", ex["conversation"]),
                     "not audio": (ex["portrait"], bad_files / "talk.wav"),
                     "no face": (bad_files / "coffee.png", ex["conversation"]),
                     "too long": (ex["portrait"], bad_files / "long_talk.wav")}
            for case, (photo, sound) in cases.items():
                _open(page, url)
                _upload(page, "portrait", photo if isinstance(photo, Path) else bad_files / photo)
                _upload(page, "audio", sound)
                page.wait_for_timeout(1500)  # let both uploads finish
                errors[case] = _error_after_run(page)
                page.screenshot(path=str(shot_dir / f"demo_error_{case.replace(' ', '_')}.png"))

            # a good run: progress next to the button, then the video in view
            _open(page, url)
            _upload(page, "portrait", ex["portrait"])
            _upload(page, "audio", ex["conversation"])
            page.get_by_text("Style and generation (optional)").click()
            page.locator("#steps input[type=number]").fill("2")
            page.locator("#portrait img").first.wait_for(timeout=60_000)
            page.locator("#audio audio, #audio .waveform-container, #audio [data-testid=waveform-x]") \
                .first.wait_for(state="attached", timeout=60_000)
            button = page.locator("#run")
            button.click()
            progress = page.locator("#status .progress-text, #status .eta-bar, #status .progress-level").first
            progress.wait_for(state="visible", timeout=60_000)
            page.screenshot(path=str(shot_dir / "demo_progress.png"))
            b, s = button.bounding_box(), page.locator("#status").bounding_box()
            video = page.locator("#result-video video")
            video.wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
            page.wait_for_function("() => { const v = document.querySelector('#result-video video');"
                                   " return v && v.currentSrc && v.readyState >= 1; }", timeout=60_000)
            duration = video.evaluate("v => v.duration")
            played = video.evaluate(
                "v => { v.muted = true; return v.play().then(() => new Promise(r => setTimeout("
                "() => { const t = v.currentTime; v.pause(); r(t); }, 1500))); }")
            vbox = page.locator("#result-video").bounding_box()
            status = page.locator("#status").inner_text(timeout=30_000)
            downloads = page.locator("#downloads").inner_text(timeout=30_000)
            page.screenshot(path=str(shot_dir / "demo_browser.png"))
        finally:
            browser.close()
    log = capfd.readouterr().err

    assert "holiday.png" in errors["not an image"] and "not a picture" in errors["not an image"], errors
    assert "talk.wav" in errors["not audio"] and "not a sound file" in errors["not audio"], errors
    assert "no face" in errors["no face"].lower() and "coffee.png" in errors["no face"], errors
    assert "long_talk.wav" in errors["too long"] and "70 s" in errors["too long"] and "60 s" in errors["too long"]
    for case, text in errors.items():
        assert not LEAKS.search(text), (case, text)
        assert len(text) < 300, (case, text)
    refused = [ln for ln in log.splitlines() if ln.startswith("openinfp demo: refused")]
    assert len(refused) == len(errors), log[-3000:]
    assert "Traceback" not in log and not any(LEAKS.search(ln) for ln in refused), log[-3000:]

    # progress appeared right under the button, inside the first screen; the result too
    assert 0 <= s["y"] - (b["y"] + b["height"]) < 120 and abs(s["x"] - b["x"]) < 50, (b, s)
    assert s["y"] + 40 < VIEWPORT["height"] and vbox["y"] < VIEWPORT["height"] - 100, (s, vbox)
    assert abs(duration - DEMO_EXAMPLE_SECONDS) < 0.2, duration
    assert played > 0.2, f"video did not advance when played (currentTime {played})"
    assert "real-time factor" in status and "Done" in status
    names = downloads.replace("\n", "")  # Gradio shows name and extension in separate elements
    assert all(n in names for n in ("motion.npz", "timeline.png", "arkit.csv", "openinfp.mp4")), downloads
    assert (shot_dir / "demo_browser.png").stat().st_size > 10_000

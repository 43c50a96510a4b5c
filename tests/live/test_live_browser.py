"""``openinfp live`` in a real browser: Chromium's fake microphone plays a real voice.

Starts the server in a subprocess on a free port, opens the page in headless Chromium
with a fake microphone fed from a WAV file (``--use-file-for-fake-audio-capture``),
presses Start, and checks that frames arrive while the audio is still being sent and
that they show the portrait. Skipped with the reason when Chromium or Playwright is
missing; ``.ci/run`` installs Debian's ``chromium``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from ..conftest import BROWSER_FLAGS

pytestmark = pytest.mark.browser

FLAGS = [*BROWSER_FLAGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
         "--autoplay-policy=no-user-gesture-required"]


@pytest.fixture()
def live_server(tmp_path, astronaut):
    from PIL import Image

    portrait = tmp_path / "portrait.png"
    Image.fromarray(astronaut).save(portrait)
    env = {**os.environ, "OPENINFP_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "openinfp", "live", str(portrait), "--port", "0", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.time() + 240
        url = None
        while time.time() < deadline and url is None:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("openinfp live: http"):
                url = line.split(": ", 1)[1].strip()
        if url is None:
            proc.kill()
            pytest.fail(f"the live server did not start: {proc.stderr.read()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_frames_arrive_while_the_microphone_still_sends(chromium, live_server, realdata, tmp_path):
    from playwright.sync_api import sync_playwright

    executable = chromium
    speech, rate = sf.read(realdata / "speech" / "librispeech" / "533-1066-0001.flac", dtype="float32")
    mic = tmp_path / "mic.wav"
    sf.write(mic, np.tile(speech, 3), rate, subtype="PCM_16")
    shots = Path(os.environ.get("OPENINFP_TEST_ARTIFACTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True,
                                    args=FLAGS + [f"--use-file-for-fake-audio-capture={mic}"])
        try:
            page = browser.new_page()
            page.goto(live_server, wait_until="domcontentloaded", timeout=60_000)
            page.locator("#start").click()
            page.wait_for_function("window.liveStats.framesReceived >= 10", timeout=180_000)
            before = page.evaluate("({...window.liveStats})")
            page.wait_for_timeout(2000)
            after = page.evaluate("({...window.liveStats})")
            assert after["chunksSent"] > before["chunksSent"], "the microphone stopped sending"
            assert after["framesReceived"] > before["framesReceived"], "frames stopped while audio was sent"
            assert not after["errors"], after["errors"]
            spread = page.evaluate("""() => {
                const c = document.getElementById('view');
                const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let lo = 255, hi = 0;
                for (let i = 0; i < d.length; i += 4 * 97) { lo = Math.min(lo, d[i]); hi = Math.max(hi, d[i]); }
                return hi - lo; }""")
            assert spread > 60, "the canvas does not show a picture"
            page.screenshot(path=str(shots / "live_page.png"))
        finally:
            browser.close()

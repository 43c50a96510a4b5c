"""The demo's safety defaults, checked against a running server (no browser needed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openinfp.core.errors import InputError
from openinfp.pipeline.demo import AUDIO_TYPES, IMAGE_TYPES, DemoBackend, DemoSettings, _check_upload

from .conftest import http_get


def test_served_on_localhost_with_analytics_off_and_a_bounded_queue(served_demo):
    url, blocks, _ = served_demo
    assert url.startswith("http://127.0.0.1:")
    assert blocks.server_name == "127.0.0.1"
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False" and blocks.analytics_enabled is False
    assert blocks._queue.max_size == 8
    runs = [fn for fn in blocks.fns.values() if fn.name == "on_run"]
    assert len(runs) == 1 and runs[0].concurrency_limit == 1
    status, body = http_get(url + "/")
    assert status == 200 and b"openinfp" in body


def test_serves_only_its_own_files(served_demo, tmp_path):
    url, _, backend = served_demo
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the browser")
    for path in ("/etc/passwd", str(secret), str(Path(__file__).resolve()), str(Path.cwd() / "pyproject.toml")):
        status, _ = http_get(f"{url}/gradio_api/file={path}")
        assert status in (403, 404), path
    example = backend.examples()["portrait"]
    status, body = http_get(f"{url}/gradio_api/file={example}")
    assert status == 200 and body[:8] == b"\x89PNG\r\n\x1a\n"


def test_examples_are_real_inputs(served_demo):
    import soundfile as sf
    from PIL import Image

    _, _, backend = served_demo
    ex = backend.examples()
    assert Image.open(ex["portrait"]).size == (512, 512)
    assert Image.open(ex["partner_portrait"]).size == (512, 600)
    wave, sr = sf.read(ex["conversation"])
    assert wave.ndim == 2 and wave.shape[1] == 2 and sr == 16_000 and wave.shape[0] >= 3.9 * sr
    # two people, one per channel, taking turns: each channel is loud where the other is quiet somewhere
    assert abs(wave[:, 0]).max() > 0.05 and abs(wave[:, 1]).max() > 0.05
    assert ex["script"].read_text().startswith("A: ")


def test_upload_type_and_size_limits(tmp_path):
    assert ".png" in IMAGE_TYPES and ".wav" in AUDIO_TYPES
    exe = tmp_path / "portrait.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(InputError, match="unsupported type"):
        _check_upload(str(exe), IMAGE_TYPES, "portrait", 1.0)
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * 2_100_000)
    with pytest.raises(InputError, match="limit is 2 MB"):
        _check_upload(str(big), AUDIO_TYPES, "conversation audio", 2.0)
    with pytest.raises(InputError, match="not received"):
        _check_upload(str(tmp_path / "gone.png"), IMAGE_TYPES, "portrait", 1.0)
    assert _check_upload(None, IMAGE_TYPES, "portrait", 1.0) is None


def test_bad_requests_fail_before_any_work(tmp_path):
    backend = DemoBackend(DemoSettings(workdir=tmp_path))
    args = dict(portrait=None, audio=None, partner_audio=None, mono_meaning="", script="", prompt="",
                style_image=None, mode="Head", partner_portrait=None, body_model="anny", seed=0, steps=4)
    with pytest.raises(InputError, match="upload a portrait"):
        backend.run(**args)
    png = tmp_path / "p.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n")
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    with pytest.raises(InputError, match="either conversation audio or a script"):
        backend.run(**{**args, "portrait": str(png), "audio": str(wav), "script": "A: hi"})
    with pytest.raises(InputError, match="partner's portrait"):
        backend.run(**{**args, "portrait": str(png), "mode": "Two portraits side by side"})
    with pytest.raises(InputError, match="unknown mode"):
        backend.run(**{**args, "mode": "Hologram"})
    assert list((tmp_path / "runs").iterdir()) == []  # nothing was started, nothing left behind


def test_backend_turns_a_script_into_a_two_person_body_scene(served_demo):
    from openinfp.core.video import probe_video

    _, _, backend = served_demo
    out = backend.run(portrait=None, audio=None, partner_audio=None, mono_meaning="", prompt="",
                      script="A: Hi there, nice to meet you.\nB: Hello! Nice to meet you too.", style_image=None,
                      mode="Two-person body scene", partner_portrait=None, body_model="skeleton", seed=0, steps=2)
    info = probe_video(out["video"])
    assert info["width"] > info["height"] == 256 and info["has_audio"]
    names = sorted(Path(f).name for f in out["files"])
    assert names == ["arkit.csv", "motion.npz", "motion.partner.npz", "openinfp.mp4", "timeline.png"]
    assert "pair layout" in out["summary"]


def test_gradio_refuses_uploads_over_the_limit(served_demo):
    import httpx

    url, _, _ = served_demo  # served with max_upload_mb=5
    small = httpx.post(f"{url}/gradio_api/upload", files={"files": ("a.wav", b"RIFF" + b"\0" * 1000)}, timeout=60)
    assert small.status_code == 200
    big = httpx.post(f"{url}/gradio_api/upload", files={"files": ("b.wav", b"\0" * 6_000_000)}, timeout=60)
    assert big.status_code == 413, (big.status_code, big.text[:200])

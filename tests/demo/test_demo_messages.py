"""Messages a web user sees: their own file names, no server paths, errno numbers or config keys."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from openinfp.pipeline.demo import DemoBackend, DemoSettings
from openinfp.pipeline.demo_inputs import DemoInputError, Upload, user_message

LEAKS = re.compile(r"/tmp/|/gradio/|Errno|max_duration_s|--set|--[a-z]")


def test_messages_from_deeper_down_are_put_in_the_users_terms():
    up = Upload(Path("/tmp/gradio/3f2a/talk.wav"), "talk.wav")
    raw = ("cannot decode audio file /tmp/gradio/3f2a/talk.wav: [Errno 1094995529] Invalid data found when "
           "processing input: '/tmp/gradio/3f2a/talk.wav' (libsndfile: Error opening '/tmp/gradio/3f2a/talk.wav': "
           "Format not recognised.)")
    msg = user_message(raw, [up])
    assert "“talk.wav”" in msg and not LEAKS.search(msg), msg
    msg = user_message("audio file /srv/up/x/long.wav is 130.0 s long, over the limit of 120 s "
                       "(raise audio.max_duration_s or cut the file)")
    assert msg == "Audio file long.wav is 130.0 s long, over the limit of 120 s"
    assert not LEAKS.search(user_message("needs the partner's portrait (--partner-portrait)"))


def _args(**kw):
    base = dict(portrait=None, audio=None, partner_audio=None, mono_meaning="", script="", prompt="",
                style_image=None, mode="Head", partner_portrait=None, body_model="anny", seed=0, steps=4)
    return {**base, **kw}


def test_uploads_are_checked_before_anything_decodes_them(tmp_path):
    import soundfile as sf
    from PIL import Image
    from skimage import data

    backend = DemoBackend(DemoSettings(workdir=tmp_path / "w", max_audio_s=5.0))
    up = tmp_path / "gradio" / "abc"
    up.mkdir(parents=True)
    (up / "x.png").write_text("not a picture")
    (up / "x.wav").write_text("not a sound")
    Image.fromarray(data.astronaut()).save(up / "ok.png")
    sf.write(up / "long.wav", np.zeros((16_000 * 8, 2), np.float32), 16_000)
    payload = lambda name, orig: {"path": str(up / name), "orig_name": orig}  # noqa: E731  (Gradio's raw payload)
    cases = [
        (_args(portrait=payload("x.png", "holiday.png"), script="A: hi"), "“holiday.png” is not a picture"),
        (_args(portrait=payload("ok.png", "me.png"), audio=payload("x.wav", "talk.wav")), "“talk.wav” is not a sound"),
        (_args(portrait=payload("ok.png", "me.png"), audio=payload("long.wav", "call.wav")),
         "“call.wav” is 8 s long; this demo takes conversations of up to 5 s"),
        (_args(portrait=payload("ok.png", "me.png"), script="A: hi", seed=99999999999999999999), "seed must be"),
        (_args(portrait=payload("ok.png", "me.png"), script="A: hi", steps=float("nan")), "sampling steps"),
    ]
    for args, expected in cases:
        with pytest.raises(DemoInputError) as exc:
            backend.run(**args)
        assert expected in str(exc.value) and not LEAKS.search(str(exc.value)), str(exc.value)
    assert list((tmp_path / "w" / "runs").iterdir()) == []  # nothing was started

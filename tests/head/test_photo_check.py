"""``openinfp check-photos``: the real-photo checks on any folder of photos."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openinfp.cli import main
from openinfp.core.errors import InputError
from openinfp.head.photo_check import check_photo, photo_paths, stripe_score

SCREAM = "18_woman_scream_hands_on_head.jpg"
LINCOLN = "02_bw_lincoln_small_beard.jpg"


@pytest.fixture(scope="module")
def tracker():
    from openinfp.head.tracker import HeadTracker

    with HeadTracker() as t:
        yield t


def test_check_photos_command_on_real_photos(realdata, tmp_path, capsys):
    from PIL import Image

    folder = tmp_path / "photos"
    folder.mkdir()
    for name in (SCREAM, LINCOLN):
        (folder / name).symlink_to(realdata / "portraits" / name)
    Image.fromarray(np.full((120, 160, 3), 128, np.uint8)).save(folder / "wall.png")
    out = tmp_path / "report.json"
    assert main(["check-photos", str(folder), "--no-smear", "--json", str(out), "-q"]) == 0
    table = capsys.readouterr().out
    assert "wall.png | no face found" in table and "2 of 2 photos with a face pass (1 without a face)" in table
    (folder / "broken.png").write_bytes(b"not an image")
    assert main(["check-photos", str(folder / "broken.png"), str(folder / "wall.png"), "--no-smear", "-q"]) == 1
    table = capsys.readouterr().out
    assert "broken.png | unreadable" in table and "1 unreadable" in table and "is not an image file" in table
    rows = {r["name"]: r for r in json.loads(out.read_text())}
    scream, lincoln = rows[SCREAM], rows[LINCOLN]
    assert scream["own_gap"] > 0.3 and scream["listening_gap"] < 0.1 and scream["passed"]
    assert lincoln["gray_chroma"] is not None and lincoln["gray_chroma"] <= 3 and lincoln["passed"]
    assert rows["wall.png"]["face_found"] is False


def test_checks_fail_on_a_renderer_that_keeps_the_photo(realdata, tracker, monkeypatch):
    """The old behaviour (the photo drawn as it is: a scream that never closes, plus a red
    mouth painted on a grayscale photo) fails the mouth and grayscale checks."""
    from openinfp.head.renderer import PortraitRenderer

    monkeypatch.setattr(PortraitRenderer, "render_frame", lambda self, motion: self.photo_canvas.copy())
    scream = check_photo(realdata / "portraits" / SCREAM, tracker, smear=False)
    assert not scream.passed and any(f.startswith("mouth:") for f in scream.failures), scream.failures

    def red_mouth(self, motion):
        frame = self.photo_canvas.copy()
        frame[250:270, 240:280] = (200, 30, 30)
        return frame

    monkeypatch.setattr(PortraitRenderer, "render_frame", red_mouth)
    lincoln = check_photo(realdata / "portraits" / LINCOLN, tracker, smear=False)
    assert any(f.startswith("grayscale:") for f in lincoln.failures), lincoln.failures


def test_stripe_score_tells_stripes_from_texture():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (64, 64, 3)).astype(np.uint8)
    stripes = np.repeat(rng.integers(0, 255, (64, 1, 1)), 64, axis=1).repeat(3, axis=2).astype(np.uint8)
    region = np.ones((64, 64), bool)
    assert stripe_score(noise, region) < 0.1 and stripe_score(stripes, region) > 0.9


def test_photo_paths_says_what_is_wrong(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        photo_paths([tmp_path / "missing"])
    with pytest.raises(InputError, match="no photos to check"):
        photo_paths([tmp_path])

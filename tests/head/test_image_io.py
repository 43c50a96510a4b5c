import numpy as np
import pytest
from PIL import Image

from openinfp.core.errors import InputError
from openinfp.head.image_io import load_portrait


def test_exif_rotated_jpeg_is_upright(tmp_path):
    img = np.zeros((40, 80, 3), np.uint8)
    img[:, :40] = 255  # left half white
    path = tmp_path / "rot.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    Image.fromarray(img).save(path, exif=exif, quality=95)
    out = load_portrait(path)
    assert out.shape == (80, 40, 3)
    assert out[:30].mean() > 200 and out[50:].mean() < 50  # the white half is now on top


def test_rgba_grayscale_16bit_and_arrays(tmp_path):
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:, :16, 3] = 255  # right half transparent -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = load_portrait(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (32, 32, 3)
    assert tuple(out[5, 5]) == (200, 0, 0) and tuple(out[5, 30]) == (255, 255, 255)
    Image.fromarray(np.full((20, 30), 77, np.uint8), "L").save(tmp_path / "g.png")
    assert load_portrait(tmp_path / "g.png").shape == (20, 30, 3)
    Image.fromarray(np.full((20, 30), 65535, np.uint16)).save(tmp_path / "w.png")
    assert load_portrait(tmp_path / "w.png").min() == 255
    assert load_portrait(np.ones((20, 20), np.float32)).max() == 255
    assert load_portrait(np.zeros((20, 20, 1), np.uint8)).shape == (20, 20, 3)


def test_huge_images_are_downscaled():
    out = load_portrait(np.zeros((3000, 6000, 3), np.uint8), max_side=1000)
    assert out.shape == (500, 1000, 3)


@pytest.mark.parametrize("content, match", [
    (b"this is not an image", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "corrupt|not an image"),
])
def test_bad_files_name_the_file(tmp_path, content, match):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(InputError, match=match) as err:
        load_portrait(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_truncated_jpeg_missing_and_tiny(tmp_path):
    path = tmp_path / "cut.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(path)
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(InputError, match=str(path)):
        load_portrait(path)
    with pytest.raises(InputError, match="does not exist"):
        load_portrait(tmp_path / "nope.jpg")
    with pytest.raises(InputError, match="at least"):
        load_portrait(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(InputError, match="shape"):
        load_portrait(np.zeros((8, 8, 2), np.uint8))

"""`python -m openinfp.head.gallery DIR -o sheet.png` on a real photo and a broken file."""

from __future__ import annotations

import numpy as np


def test_gallery_sheet_of_a_folder(realdata, tmp_path):
    from PIL import Image

    from openinfp.head.gallery import MOMENTS, main

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "02.jpg").symlink_to(realdata / "portraits" / "02_bw_lincoln_small_beard.jpg")
    (photos / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "sheet.png"
    assert main([str(photos), "-o", str(out), "--tile", "64", "--columns", "1"]) == 0
    sheet = np.asarray(Image.open(out).convert("RGB"))
    assert sheet.shape == (2 * 64, 64 * (1 + len(MOMENTS)), 3)
    lincoln, broken = sheet[18:64], sheet[64 + 18:]  # below the labels
    assert lincoln.std() > 20 and broken.std() < 5  # the photo's row is drawn; the broken file's is blank
    # The rendered moments differ from the photo (the renderer ran), and stay grayscale.
    tiles = [lincoln[:, i * 64:(i + 1) * 64].astype(int) for i in range(1 + len(MOMENTS))]
    assert all(np.abs(t - tiles[0]).mean() > 0.5 for t in tiles[1:])
    assert np.ptp(lincoln.astype(int), axis=2).max() <= 3


def test_gallery_needs_a_folder(tmp_path, capsys):
    from openinfp.head.gallery import main

    assert main([str(tmp_path / "missing"), "-o", str(tmp_path / "s.png")]) == 2
    assert "not a folder" in capsys.readouterr().out

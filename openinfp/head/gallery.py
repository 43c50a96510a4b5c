"""Contact sheet of the portrait renderer on a folder of photos (for people to look at).

``python -m openinfp.head.gallery DIR -o sheet.png``: one row per photo: the photo as
framed, then the renderer at moments of a conversation (listening: mouth
closed, a nod and a slight smile; speaking: jaw 0.35 and a turn; the widest mouth the
motion space's jawOpen allows, 1.0; a 20-degree turn, and the same turn the other way,
which turns a photo taken turned back towards the camera). Photos without a trackable
face get a row that says so.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
MOMENTS = (
    ("listening", (0.0, 6.0, 0.0), {"mouthSmileLeft": 0.2, "mouthSmileRight": 0.2}),
    ("speaking", (8.0, -3.0, 2.0), {"jawOpen": 0.35}),
    ("widest", (0.0, 0.0, 0.0), {"jawOpen": 1.0}),
    ("turned", (20.0, 8.0, 6.0), {}),
    ("turned back", (-20.0, -8.0, -6.0), {}),
)
"""(label, (yaw, pitch, roll) degrees, ARKit weights) of each column after the photo."""


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    out = tile.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 16), (0, 0, 0), -1)
    cv2.putText(out, text[:32], (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def gallery_rows(paths: list[Path], tile: int = 192, options: dict | None = None) -> list[np.ndarray]:
    """One ``[tile, tile * (1 + len(MOMENTS)), 3]`` uint8 RGB row per photo."""
    from openinfp.core.errors import InputError
    from openinfp.head.closed_loop import make_motion
    from openinfp.head.image_io import load_portrait
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig
    from openinfp.head.tracker import HeadTracker

    rows = []
    with HeadTracker() as tracker:
        for path in paths:
            blank = np.full((tile, tile, 3), 40, np.uint8)
            try:
                image = load_portrait(path)
                face = tracker.track_image(image, name=str(path))
            except InputError as exc:
                tiles = [_label(blank, path.name)] + [_label(blank, "no face" if "face" in str(exc) else "unreadable")
                                                      for _ in MOMENTS]
                rows.append(np.concatenate(tiles, 1))
                continue
            renderer = PortraitRenderer(PortraitRendererConfig(**(options or {})))
            renderer.setup_tracked(image, face)
            frames = [renderer.photo_canvas] + [renderer.render_frame(make_motion(ypr, **w)) for _, ypr, w in MOMENTS]
            tiles = [cv2.resize(f, (tile, tile), interpolation=cv2.INTER_AREA) for f in frames]
            labels = [path.name] + [m[0] for m in MOMENTS]
            rows.append(np.concatenate([_label(t, s) for t, s in zip(tiles, labels)], 1))
    return rows


def main(argv: list[str] | None = None) -> int:
    from openinfp.core.errors import InputError

    ap = argparse.ArgumentParser(description="Contact sheet of the portrait renderer on every photo in a folder.")
    ap.add_argument("folder", type=Path, help="folder of photos (jpg, png, webp, ...)")
    ap.add_argument("-o", "--output", type=Path, required=True, help="sheet to write (.png or .jpg)")
    ap.add_argument("--tile", type=int, default=192, help="tile side in px")
    ap.add_argument("--columns", type=int, default=2, help="photos side by side")
    args = ap.parse_args(argv)
    try:
        if not args.folder.is_dir():
            raise InputError(f"{args.folder} is not a folder; pass a folder of photos")
        paths = sorted(p for p in args.folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not paths:
            raise InputError(f"{args.folder} holds no photos ({', '.join(IMAGE_SUFFIXES)})")
        rows = gallery_rows(paths, args.tile)
    except InputError as exc:
        print(f"error: {exc}")
        return 2
    cols = max(1, args.columns)
    while len(rows) % cols:
        rows.append(np.zeros_like(rows[0]))
    gap = np.full((rows[0].shape[0], 8, 3), 255, np.uint8)
    lines = []
    for i in range(0, len(rows), cols):
        parts = []
        for r in rows[i:i + cols]:
            parts += [r, gap]
        lines.append(np.concatenate(parts[:-1], 1))
    sheet = np.concatenate(lines, 0)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.output), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR)):
        print(f"error: cannot write {args.output}")
        return 2
    print(f"wrote {args.output} ({len(paths)} photos)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

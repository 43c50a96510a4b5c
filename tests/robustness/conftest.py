"""Bad inputs, made once per session: corrupt, truncated, empty, mislabelled, absurd."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png() -> bytes:
    """A tiny PNG whose header claims 100000 x 100000 pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 16))
            + _png_chunk(b"IEND", b""))


class Payload:
    """Unpickling this creates a directory: proof that a loader executed pickled code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


@pytest.fixture(scope="session")
def bad(tmp_path_factory) -> Path:
    """A folder of good and bad inputs (see the names below)."""
    import soundfile as sf
    import torch
    from PIL import Image
    from skimage import data

    from openinfp.core.motion import MotionSequence
    from openinfp.core.registry import Registry

    d = tmp_path_factory.mktemp("bad_inputs")
    # images
    Image.fromarray(data.astronaut()).save(d / "astronaut.png")
    Image.fromarray(data.coffee()).save(d / "coffee.png")  # a real photo without a face
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(d / "tiny.png")
    (d / "empty.png").write_bytes(b"")
    (d / "text.png").write_text("this is not a picture\n")
    png = (d / "astronaut.png").read_bytes()
    (d / "truncated.png").write_bytes(png[: len(png) // 3])
    (d / "bomb.png").write_bytes(bomb_png())
    # audio
    t = np.arange(32000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    sf.write(d / "stereo.wav", np.stack([tone, 0.5 * tone], 1), 16000)
    nan = np.stack([tone, tone], 1)
    nan[100, 0] = np.nan
    sf.write(d / "nan.wav", nan, 16000, subtype="FLOAT")
    sf.write(d / "nodata.wav", np.zeros((0, 2), np.float32), 16000)
    (d / "empty.wav").write_bytes(b"")
    (d / "text.wav").write_text("not audio " * 100)
    (d / "truncated.wav").write_bytes((d / "stereo.wav").read_bytes()[:30])
    (d / "image.wav").write_bytes(png)
    # scripts
    (d / "empty.txt").write_bytes(b"")
    (d / "nolabel.txt").write_text("hello there\nhow are you\n")
    (d / "binary.txt").write_bytes(bytes(range(256)) * 8)
    (d / "silent.txt").write_text("A:\nB:\n")
    # configs
    (d / "bad.yaml").write_text("model: [1, 2\n")
    (d / "list.yaml").write_text("- 1\n- 2\n")
    # motion files
    registry = Registry.create(autoload=False)
    head = registry.motion_space("head")
    MotionSequence(torch.zeros(10, head.dim), head, 25.0).save(d / "good.npz")
    smplx = registry.motion_space("smplx")
    MotionSequence(torch.zeros(5, smplx.dim), smplx, 25.0).save(d / "smplx.npz")
    good = dict(np.load(d / "good.npz", allow_pickle=False))

    def variant(name: str, **changes) -> None:
        arrays = {**good, **changes}
        np.savez(d / name, **{k: v for k, v in arrays.items() if v is not None})

    variant("object.npz", motion=np.array([Payload(d / "PWNED_motion"), 1.0], dtype=object))
    motion = good["motion"].copy()
    motion[3, 2] = np.nan
    variant("nan.npz", motion=motion)
    variant("nonames.npz", names=None)
    variant("unknown_space.npz", space=np.asarray("tentacles"))
    variant("fewdims.npz", motion=good["motion"][:, :10], names=good["names"][:10])
    variant("negfps.npz", fps=np.asarray(-1.0))
    variant("int.npz", motion=good["motion"].astype(np.int32))
    raw = (d / "good.npz").read_bytes()
    (d / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    (d / "text.npz").write_text("not an archive\n")
    # checkpoints
    (d / "pickle_ckpt").mkdir()
    (d / "pickle_ckpt" / "config.json").write_text('{"format": "openinfp-motion-generator", "components": []}')
    (d / "pickle_ckpt" / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    # folders standing where an output file should go
    (d / "dir.wav").mkdir()
    return d


def _run_cli(argv: list[str]) -> tuple[int, str]:
    from openinfp.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
    return int(code), err.getvalue()


@pytest.fixture()
def run_cli():
    """``run_cli(argv) -> (exit code, stderr)``: the CLI run in-process."""
    return _run_cli

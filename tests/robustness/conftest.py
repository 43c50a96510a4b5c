"""Bad inputs, made once per session: corrupt, truncated, empty, mislabelled, absurd."""

from __future__ import annotations

import contextlib
import io
import os
import struct
import types
import zipfile
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


# --------------------------------------------------------------------------------------
# Tiny files that claim to be huge: absurd headers and size bombs, written in a streaming
# way so that making them costs little memory and time.
# --------------------------------------------------------------------------------------


def wav_with_rate(path: Path, rate: int, seconds: float = 0.25, channels: int = 1) -> Path:
    """A 16-bit WAV of a quiet tone whose header claims ``rate`` Hz."""
    import soundfile as sf

    n = int(16000 * seconds)
    tone = (0.2 * np.sin(2 * np.pi * 220 * np.arange(n) / 16000)).astype(np.float32)
    sf.write(path, np.repeat(tone[:, None], channels, 1), 16000, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    raw[24:28] = struct.pack("<I", rate)
    raw[28:32] = struct.pack("<I", min(rate * 2 * channels, 2**32 - 1))
    path.write_bytes(bytes(raw))
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def flat_png(path: Path, width: int, height: int, bit_depth: int = 16, color_type: int = 0) -> Path:
    """A valid PNG of one grey level, ``width`` x ``height`` (color type 0 gray, 2 RGB,
    6 RGBA), whose pixel data compresses to almost nothing."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = b"\0" + b"\x80" * (width * channels * bit_depth // 8)
    comp = zlib.compressobj(1)
    data = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
                     + _png_chunk(b"IEND", b""))
    return path


def motion_npz(path: Path, frames: int, fps: float = 25.0, space: str = "head", value: float = 0.0,
               declared_frames: int | None = None) -> Path:
    """A motion file of ``frames`` constant frames, streamed into a compressed archive
    (10 million frames cost seconds, not gigabytes). ``declared_frames`` makes the
    ``motion`` header claim more frames than the data holds."""
    from openinfp.core.registry import Registry

    ms = Registry.create(autoload=False).motion_space(space)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as zf:
        with zf.open("motion.npy", "w", force_zip64=True) as fh:
            header = {"descr": "<f4", "fortran_order": False, "shape": (declared_frames or frames, ms.dim)}
            np.lib.format.write_array_header_1_0(fh, header)
            block = np.full((min(frames, 65536), ms.dim), value, np.float32).tobytes()
            left = frames
            while left > 0:
                take = min(left, 65536)
                fh.write(block[: take * ms.dim * 4])
                left -= take
        for key, arr in (("fps", np.asarray(fps)), ("space", np.asarray(space)), ("names", np.asarray(ms.names)),
                         ("format_version", np.asarray(1))):
            with zf.open(f"{key}.npy", "w") as fh:
                np.lib.format.write_array(fh, arr, allow_pickle=False)
    return path


@pytest.fixture()
def hostile():
    """Writers of hostile files: ``wav_with_rate``, ``flat_png``, ``motion_npz``."""
    return types.SimpleNamespace(wav_with_rate=wav_with_rate, flat_png=flat_png, motion_npz=motion_npz)


def run_measured(argv: list[str], env_extra: dict | None = None, timeout: float = 120.0,
                 preexec=None) -> tuple[int, str, float]:
    """Run ``python -m openinfp ARGV`` in a subprocess: ``(exit code, stderr, peak RSS in MB)``.

    The peak is the child's own high-water mark ``VmHWM``, polled from ``/proc`` while it
    runs: ``ru_maxrss`` from ``os.wait4`` also counts the forked copy of this (pytest)
    process, which late in a full run is itself over 2 GB. Where ``/proc`` is missing,
    ``ru_maxrss`` is used.
    """
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    env = {**os.environ, **(env_extra or {})}
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "openinfp", *argv], stdout=subprocess.DEVNULL,
                                stderr=err, env=env, preexec_fn=preexec)
        deadline = time.monotonic() + timeout
        hwm_kb = 0
        while True:
            hwm_kb = max(hwm_kb, _vm_hwm_kb(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.send_signal(signal.SIGKILL)
                os.wait4(proc.pid, 0)
                raise TimeoutError(f"openinfp {' '.join(argv)} ran over {timeout} s")
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode("utf-8", "replace")
    return proc.returncode, text, (hwm_kb or usage.ru_maxrss) / 1024.0


def _vm_hwm_kb(pid: int) -> int:
    """Peak resident size (kB) of process ``pid`` since its last exec; 0 if unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@pytest.fixture()
def run_measured_cli():
    """``run_measured_cli(argv, ...) -> (exit code, stderr, peak MB)`` in a subprocess."""
    return run_measured

"""Writes: the destination is checked before the work, a failed write is one line, nothing
is left behind (no temporary file, no folder created for the run), SIGTERM cleans up
like Ctrl-C, and finished files get the permissions a plain write would give them."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from openinfp.core.errors import OutputError

FRAME = np.zeros((32, 32, 3), np.uint8)


def _write_video(path):
    from openinfp.core.video import VideoWriter

    with VideoWriter(path, fps=25) as writer:
        writer.write(FRAME)


def _write_motion(path):
    from openinfp.core.motion import MotionSequence
    from openinfp.head.motion_space import head_motion_space

    space = head_motion_space()
    MotionSequence(space.neutral(3), space).save(path)


def _write_wav(path):
    from openinfp.audio.io import write_audio

    write_audio(path, np.zeros(1600, np.float32), 16000)


def _write_text(path):
    from openinfp.core.io import atomic_output

    with atomic_output(path) as tmp:
        tmp.write_text("x\n")


WRITERS = {"mp4": _write_video, "npz": _write_motion, "wav": _write_wav, "csv": _write_text}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --------------------------------------------------------------------------------------
# Permissions
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", sorted(WRITERS))
@pytest.mark.parametrize("umask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_outputs_get_the_permissions_of_a_normal_write(tmp_path, suffix, umask, expected):
    old = os.umask(umask)
    try:
        target = tmp_path / f"out.{suffix}"
        WRITERS[suffix](target)
    finally:
        os.umask(old)
    assert _mode(target) == expected, oct(_mode(target))


def test_an_existing_output_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    _write_text(target)
    assert target.read_text() == "x\n" and _mode(target) == 0o640


# --------------------------------------------------------------------------------------
# Destination checks
# --------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_parent_that_is_a_file_is_refused_up_front(tmp_path, suffix):
    (tmp_path / "file").write_text("I am a file\n")
    with pytest.raises(OutputError, match="is a file, not a folder") as exc:
        WRITERS[suffix](tmp_path / "file" / "sub" / f"out.{suffix}")
    assert "\n" not in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_longest_legal_name_works_despite_the_temporary_suffix(tmp_path, suffix):
    from openinfp.core.io import name_max

    limit = name_max(tmp_path)
    target = tmp_path / ("n" * (limit - len(suffix) - 1) + "." + suffix)
    assert len(target.name) == limit
    WRITERS[suffix](target)
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_name_over_the_limit_is_refused_up_front(tmp_path):
    from openinfp.core.io import name_max

    target = tmp_path / ("n" * (name_max(tmp_path) + 1) + ".mp4")
    with pytest.raises(OutputError, match="over this file system's limit"):
        _write_video(target)
    assert list(tmp_path.iterdir()) == []


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create files in (root ignores mode bits: use /sys)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        (folder / ".probe").touch()
    except OSError:
        return folder
    (folder / ".probe").unlink()
    try:
        Path("/sys/.openinfp-probe").touch()
    except OSError:
        return Path("/sys")
    Path("/sys/.openinfp-probe").unlink()
    pytest.skip("no unwritable folder available (running as root without a read-only /sys)")


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_unwritable_folder_is_refused_up_front(tmp_path, suffix):
    folder = _unwritable_folder(tmp_path)
    try:
        with pytest.raises(OutputError, match="is not writable") as exc:
            WRITERS[suffix](folder / "sub" / f"out.{suffix}")
        assert "\n" not in str(exc.value)
    finally:
        if folder != Path("/sys"):
            folder.chmod(0o755)


def test_cli_checks_the_destination_before_any_work(bad, tmp_path, run_cli):
    (tmp_path / "file").write_text("x")
    t0 = time.monotonic()
    code, err = run_cli(["animate", str(bad / "astronaut.png"), str(bad / "stereo.wav"), "-o",
                         str(tmp_path / "file" / "v.mp4"), "-q"])
    assert code == 2 and "is a file, not a folder" in err and len(err.strip().splitlines()) == 1, err
    code, err = run_cli(["animate", str(bad / "astronaut.png"), str(bad / "stereo.wav"), "-o",
                         str(tmp_path / "v.mp4"), "--timeline", str(tmp_path / "file" / "t.png"), "-q"])
    assert code == 2 and "timeline output" in err and "is a file, not a folder" in err, err
    assert time.monotonic() - t0 < 20  # refused before audio, models and rendering
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


# --------------------------------------------------------------------------------------
# Full disk (a file-size limit makes writes fail with EFBIG, as a full disk does with ENOSPC)
# --------------------------------------------------------------------------------------

_FULL_DISK = """
import resource, signal, sys
import numpy as np
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
out, kind = sys.argv[1], sys.argv[2]
from openinfp.core.errors import OutputError
try:
    if kind == "mp4":
        from openinfp.core.video import VideoWriter
        rng = np.random.default_rng(0)
        with VideoWriter(out + "/new/v.mp4", fps=25) as w:
            for i in range(50):
                w.write(rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
    elif kind == "wav":
        from openinfp.audio.io import write_audio
        write_audio(out + "/new/a.wav", np.zeros(100000, np.float32), 16000)
    elif kind == "npz":
        from openinfp.core.motion import MotionSequence
        from openinfp.head.motion_space import head_motion_space
        space = head_motion_space()
        MotionSequence(space.neutral(2000), space).save(out + "/new/m.npz")
    elif kind == "png":
        from openinfp.core.io import atomic_output
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=(8, 8))
        plt.imshow(np.random.default_rng(0).random((300, 300)))
        with atomic_output(out + "/new/t.png") as tmp:
            fig.savefig(tmp)
except OutputError as exc:
    print(exc, file=sys.stderr)
    sys.exit(2)
"""


@pytest.mark.parametrize("kind", ["mp4", "wav", "npz", "png"])
def test_full_disk_is_one_line_and_leaves_nothing(tmp_path, kind):
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run([sys.executable, "-c", _FULL_DISK, str(tmp_path), kind], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cannot write") and "free some space" in lines[0], proc.stderr
    assert list(tmp_path.iterdir()) == [], "a temporary file or the folder made for the output was left"


def test_side_output_folders_are_removed_when_the_run_fails(tmp_path):
    from openinfp.core.io import atomic_output

    with pytest.raises(RuntimeError):
        with atomic_output(tmp_path / "a" / "b" / "motion.npz") as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("the video failed later")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# SIGTERM
# --------------------------------------------------------------------------------------

def test_sigterm_removes_the_temporary_video_like_ctrl_c(tmp_path):
    from openinfp.core.motion import MotionSequence
    from openinfp.core.registry import Registry

    space = Registry.create(autoload=False).motion_space("smplx")
    MotionSequence(space.neutral(3000), space, 25.0).save(tmp_path / "long.npz")
    out = tmp_path / "out"
    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "openinfp", "render", str(tmp_path / "long.npz"), "--renderer",
                             "skeleton", "-o", str(out / "v.mp4"), "-q"], stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 90
    while not (out.is_dir() and any(p.name.startswith(".v.") for p in out.iterdir())):
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "the temporary video never appeared"
        time.sleep(0.05)
    time.sleep(0.3)  # let it write some frames
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert err.decode().strip() == "openinfp: terminated"
    assert not out.exists(), list(out.iterdir())


def test_atomically_written_folders_get_normal_permissions(tmp_path):
    """Checkpoint folders are written under a temporary name too (mkdtemp makes 0700)."""
    from openinfp.core.checkpoint import write_folder_atomically

    old = os.umask(0o022)
    try:
        target = write_folder_atomically(tmp_path / ("c" * 255), lambda d: (d / "config.json").write_text("{}"))
    finally:
        os.umask(old)
    assert _mode(target) == 0o755 and _mode(target / "config.json") == 0o644
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_file_system_errors_of_any_command_are_one_line(tmp_path, run_cli):
    """The CLI's safety net: a command whose outputs are not yet checked up front still
    ends with one line (here `synth` into a folder below a file)."""
    (tmp_path / "file").write_text("x")
    code, err = run_cli(["synth", "--hours", "0.001", "--out", str(tmp_path / "file" / "corpus"), "--quiet"])
    assert code == 2 and err.startswith("openinfp: error: ") and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]

"""File helpers shared by every stage: atomic outputs, output-path checks, input-path checks.

Outputs are written to a hidden temporary file beside the target
(``.NAME.XXXXXXXX.ext``, the name shortened when needed so that any legal target name
works) and moved into place only when the writer succeeded. The finished file gets the
permissions a plain ``open(path, "w")`` would give it (``0666 & ~umask``: 0644 under
umask 022; an existing file keeps its own), not the 0600 of a temporary file.

Failures become one-line :class:`~openinfp.core.errors.OutputError` messages naming the
output: a read-only folder, a parent that is a file, a name over the file system's
limit, a full disk. :func:`check_output_path` finds the first three before any work is
done; folders created for an output are removed again when writing it fails.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Union

from openinfp.core.errors import InputError, OutputError

PathLike = Union[str, os.PathLike]

MIN_FREE_BYTES = 1 << 20
"""An output folder with less free space than this (1 MiB) is refused up front."""

_TEMP_RANDOM = 8
"""Length of the random part :func:`tempfile.mkstemp` puts into a temporary name."""

_WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM,
                           errno.EIO, errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EEXIST})


# --------------------------------------------------------------------------------------
# Permissions and names
# --------------------------------------------------------------------------------------


def current_umask() -> int:
    """The process's umask, read without changing it where the OS allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not atomic, but brief)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """Permission bits a plain ``open(path, "w")`` gives a new file: ``0o666 & ~umask``."""
    return 0o666 & ~current_umask()


def new_dir_mode() -> int:
    """Permission bits a plain ``mkdir`` gives a new folder: ``0o777 & ~umask``."""
    return 0o777 & ~current_umask()


def name_max(folder: PathLike) -> int:
    """Longest file name (bytes) the file system of ``folder`` allows (255 if unknown)."""
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return 255


def _shorten(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` bytes of UTF-8 (whole characters only)."""
    raw = os.fsencode(text)
    if len(raw) <= max_bytes:
        return text
    return raw[:max(0, max_bytes)].decode("utf-8", errors="ignore")


def _exists(p: Path) -> bool:
    try:
        return p.exists()
    except OSError:  # e.g. a name over the file system's limit
        return False


def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except OSError:
        return False


def _existing_ancestor(folder: Path) -> Path:
    p = folder
    while not _exists(p) and p != p.parent:
        p = p.parent
    return p


# --------------------------------------------------------------------------------------
# Up-front checks and error wording
# --------------------------------------------------------------------------------------


def check_output_path(path: PathLike, what: str = "output") -> Path:
    """Check that ``path`` can be written (before the work that produces it starts).

    Refused: a folder standing at ``path``; a parent path that passes through a file;
    a file name longer than the file system allows; a folder that cannot be written
    (permissions, read-only file system) or has less than 1 MiB free.

    Returns:
        ``path`` as a :class:`Path`.

    Raises:
        OutputError: one line naming the output and what to do.
    """
    target = Path(path)
    if not target.name or target.name in (".", ".."):
        raise OutputError(f"{what} {str(target)!r} has no file name; give a file name")
    folder = target.parent
    ancestor = _existing_ancestor(folder)
    if not _is_dir(ancestor):
        raise OutputError(f"cannot write {what} {target}: {ancestor} is a file, not a folder; choose another path")
    limit = name_max(ancestor)
    for part in [target.name] + [p.name for p in _missing_folders(folder)]:
        size = len(os.fsencode(part))
        if size > limit:
            raise OutputError(f"cannot write {what} {_shorten(str(target), 80)}...: a name in it is {size} bytes, "
                              f"over this file system's limit of {limit}; choose a shorter name")
    if _is_dir(target):
        raise OutputError(f"{what} {target} is a directory; give a file name")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {what} {target}: folder {ancestor} is not writable; choose another folder")
    try:  # root passes os.access even where the file system refuses: try it
        fd, probe = tempfile.mkstemp(prefix=".openinfp-probe.", dir=ancestor)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"cannot write {what} {target}: folder {ancestor} is not writable "
                          f"({exc.strerror or exc}); choose another folder") from None
    free = _free_bytes(ancestor)
    if free is not None and free < MIN_FREE_BYTES:
        raise OutputError(f"cannot write {what} {target}: the disk holding {ancestor} is full "
                          f"({free // 1024} KiB free); free some space or choose another folder")
    return target


def _free_bytes(folder: Path) -> Optional[int]:
    try:
        st = os.statvfs(folder)
    except (OSError, AttributeError):
        return None
    return int(st.f_bavail) * int(st.f_frsize)


def _missing_folders(folder: Path) -> list[Path]:
    """Folders of ``folder``'s chain that do not exist yet, outermost first."""
    missing = []
    p = folder
    while not _exists(p) and p != p.parent:
        missing.append(p)
        p = p.parent
    return list(reversed(missing))


def is_write_failure(exc: BaseException, *paths: PathLike) -> bool:
    """True when ``exc`` is an OS error of writing (disk full, read-only, no permission,
    name too long, ...) that concerns one of ``paths`` (or names no file at all)."""
    if not isinstance(exc, OSError) or exc.errno not in _WRITE_ERRNOS:
        return False
    if exc.filename is None:
        return True
    named = {os.path.abspath(os.fsdecode(exc.filename))}
    if getattr(exc, "filename2", None):
        named.add(os.path.abspath(os.fsdecode(exc.filename2)))
    wanted = set()
    for p in paths:
        p = Path(os.path.abspath(p))
        wanted.update({str(p), *map(str, p.parents)})
    return bool(named & wanted)


def write_error(exc: BaseException, target: PathLike, what: str = "output") -> OutputError:
    """A one-line :class:`OutputError` for a failed write of ``target``."""
    code = getattr(exc, "errno", None)
    text = str(exc).strip()
    reason = getattr(exc, "strerror", None) or (text.splitlines()[0] if text else type(exc).__name__)
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        hint = "free some space or choose another folder"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        hint = "choose a folder you can write to"
    else:
        hint = "choose another path"
    return OutputError(f"cannot write {what} {target}: {reason}; {hint}")


# --------------------------------------------------------------------------------------
# Temporary files and atomic replacement
# --------------------------------------------------------------------------------------


def make_folders(folder: PathLike) -> list[Path]:
    """Create ``folder`` and its missing parents; return the folders created, outermost first."""
    created = []
    for p in _missing_folders(Path(folder)):
        try:
            p.mkdir()
        except FileExistsError:
            continue
        created.append(p)
    return created


def remove_folders(created: list[Path]) -> None:
    """Remove folders made by :func:`make_folders` again, innermost first, if empty."""
    for p in reversed(created):
        with contextlib.suppress(OSError):
            p.rmdir()


def temporary_sibling(target: PathLike, suffix: Optional[str] = None) -> Path:
    """Create an empty hidden file ``.STEM.XXXXXXXX<suffix>`` beside ``target``.

    ``STEM`` is shortened so the temporary name fits the file system's limit even when
    ``target``'s own name uses all of it. ``suffix`` defaults to ``target``'s (writers
    that choose a format by extension still work).
    """
    target = Path(target)
    suffix = target.suffix if suffix is None else suffix
    budget = name_max(target.parent) - len(os.fsencode(suffix)) - _TEMP_RANDOM - 2
    stem = _shorten(target.stem, min(budget, 100))
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    return Path(name)


def temporary_sibling_dir(target: PathLike) -> Path:
    """Create an empty hidden folder ``.NAME.XXXXXXXX`` beside ``target`` (name shortened
    to fit), with the permissions of a plain ``mkdir`` (not ``mkdtemp``'s 0700)."""
    target = Path(target)
    budget = name_max(target.parent) - _TEMP_RANDOM - 2
    folder = Path(tempfile.mkdtemp(prefix=f".{_shorten(target.name, min(budget, 100))}.", dir=target.parent))
    os.chmod(folder, new_dir_mode())
    return folder


def publish(tmp: PathLike, target: PathLike) -> None:
    """Give ``tmp`` normal permissions (those of an existing ``target``, else
    ``0666 & ~umask``) and move it over ``target`` atomically."""
    target = Path(target)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = new_file_mode()
    os.chmod(tmp, mode)
    os.replace(tmp, target)


@contextlib.contextmanager
def atomic_output(path: PathLike, suffix: str | None = None, what: str = "output") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    The destination is checked first (:func:`check_output_path`). A failure (exception,
    Ctrl-C, SIGTERM via the CLI) removes the temporary file and any folder created for
    it, so no half-written output is ever left. The temporary file keeps ``path``'s
    suffix (or ``suffix``) so encoders that pick a format by extension still work.

    Raises:
        OutputError: the destination cannot be written, or writing failed (disk full,
            read-only file system, ...).
    """
    target = check_output_path(path, what)
    created: list[Path] = []
    tmp: Optional[Path] = None
    done = False
    try:
        created = make_folders(target.parent)
        tmp = temporary_sibling(target, suffix)
        yield tmp
        publish(tmp, target)
        done = True
    except OSError as exc:
        if is_write_failure(exc, target, *([tmp] if tmp else [])):
            raise write_error(exc, target, what) from None
        raise
    finally:
        if not done:
            _collect_quietly()
            if tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            remove_folders(created)


def _collect_quietly() -> None:
    """Close writers a library left open when it failed (``np.savez``'s zip file, ...).

    Their ``__del__`` would otherwise retry the failed write later and print an
    "Exception ignored" traceback on stderr; the failure is already being reported.
    """
    hook = sys.unraisablehook
    sys.unraisablehook = lambda *_: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


def write_npz(file: Any, arrays: Mapping[str, Any], compress: bool = False) -> None:
    """``np.savez(file, **arrays)`` (``np.savez_compressed`` with ``compress``), in the
    same format, but closing the archive even when a write fails (numpy leaves it to the
    garbage collector, which retries the failed write and prints a traceback)."""
    import zipfile

    import numpy as np

    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(file, mode="w", compression=mode, allowZip64=True) as zf:
        for key, value in arrays.items():
            with zf.open(f"{key}.npy", mode="w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def require_file(path: PathLike, what: str = "input file") -> Path:
    """Return ``path`` as a :class:`Path`, or raise a clear :class:`InputError`."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} {p} does not exist")
    if p.is_dir():
        raise InputError(f"{what} {p} is a directory, not a file")
    if p.stat().st_size == 0:
        raise InputError(f"{what} {p} is empty (0 bytes)")
    return p

"""File helpers shared by every stage: atomic outputs and input-path checks."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator, Union

from openinfp.core.errors import InputError

PathLike = Union[str, os.PathLike]


@contextlib.contextmanager
def atomic_output(path: PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    A failure (exception, Ctrl-C) removes the temporary file, so no half-written output
    is ever left at ``path``. The temporary file keeps ``path``'s suffix (or ``suffix``)
    so encoders that pick a format by extension still work.
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"output path {target} is a directory; give a file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=(suffix if suffix is not None else target.suffix) + ".part",
        dir=target.parent,
    )
    os.close(fd)
    # Some writers refuse unknown suffixes such as ".part": hand them a clean suffix.
    tmp = Path(tmp_name[: -len(".part")])
    os.replace(tmp_name, tmp)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


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

"""`MotionSequence`: motion in a motion space over time, with ``.npz`` I/O.

File layout (``numpy.savez``, loaded with ``allow_pickle=False``):

* ``motion``: float32 ``[T, D]``
* ``fps``: float scalar
* ``space``: the motion space's name (unicode scalar)
* ``names``: unicode ``[D]``, per-dimension names (detects mismatched layouts)
* ``format_version``: int scalar
* ``annotation.<key>``: optional per-frame arrays ``[T, ...]`` (e.g. ``agent_speaking``)

Limits checked from the zip directory and the arrays' ``.npy`` headers before anything
is loaded: at most :data:`MAX_MOTION_BYTES` of arrays, ``fps`` in :data:`MOTION_FPS_RANGE`,
at most ``max_duration_s`` of motion (the audio limit, ``audio.max_duration_s``), and
every value finite with magnitude at most :data:`MAX_ABS_VALUE`.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output, require_file, write_npz
from openinfp.core.motion_space import MotionSpace

FORMAT_VERSION = 1
_ANNOTATION_PREFIX = "annotation."

MOTION_FPS_RANGE = (1.0, 240.0)
"""Frame rates accepted from a motion file (they become the video's frame rate)."""
DEFAULT_MAX_DURATION_S = 7200.0
"""Longest motion read by default (seconds): the default ``audio.max_duration_s``."""
MAX_MOTION_BYTES = 1 << 30
"""Most bytes of arrays a motion file may declare (1 GiB), checked before loading."""
MAX_ABS_VALUE = 1e3
"""Largest magnitude of any motion value (rotations, inter-ocular distances, metres and
weights are all far below it); larger values mean a damaged or hostile file."""


@dataclass
class MotionSequence:
    """Motion ``[T, D]`` in ``space`` at ``fps``, with optional per-frame annotations.

    Attributes:
        motion: float32 tensor ``[T, D]`` (un-normalised, physical units of the space).
        space: the :class:`MotionSpace` describing the ``D`` dimensions.
        fps: frames per second.
        annotations: per-frame numpy arrays with first dim ``T`` (e.g. the inferred
            ``agent_speaking`` state, for plots and evaluation).
    """

    motion: torch.Tensor
    space: MotionSpace
    fps: float = 25.0
    annotations: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.motion, np.ndarray):
            self.motion = torch.from_numpy(self.motion)
        self.space.check(self.motion)
        self.motion = self.motion.float()
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise InputError(f"fps must be a positive number, got {self.fps}")
        for key, value in self.annotations.items():
            value = np.asarray(value)
            if value.shape[:1] != (self.num_frames,):
                raise InputError(
                    f"annotation {key!r} has {value.shape[:1]} frames, motion has {self.num_frames}"
                )
            self.annotations[key] = value

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_frames / self.fps

    def get(self, name: str) -> torch.Tensor:
        """Named slice of the motion, ``[T, size]``."""
        return self.space.get(self.motion, name)

    def save(self, path: PathLike) -> None:
        """Write the ``.npz`` layout described in the module docstring (atomically)."""
        arrays: dict[str, np.ndarray] = {
            "motion": self.motion.detach().cpu().numpy().astype(np.float32),
            "fps": np.asarray(float(self.fps)),
            "space": np.asarray(self.space.name),
            "names": np.asarray(self.space.names),
            "format_version": np.asarray(FORMAT_VERSION),
        }
        for key, value in self.annotations.items():
            if np.asarray(value).dtype == object:
                raise InputError(f"annotation {key!r} must be a numeric or string array, not objects")
            arrays[_ANNOTATION_PREFIX + key] = np.asarray(value)
        with atomic_output(path, suffix=".npz", what="motion file") as tmp:
            write_npz(tmp, arrays)

    @classmethod
    def load(
        cls,
        path: PathLike,
        spaces: Optional[Mapping[str, MotionSpace] | Callable[[str], MotionSpace]] = None,
        max_duration_s: float = DEFAULT_MAX_DURATION_S,
    ) -> "MotionSequence":
        """Read a motion file written by :meth:`save`.

        Args:
            path: the ``.npz`` file.
            spaces: how to find the motion space by name: a mapping or a function
                (the CLI and the pipeline pass ``registry.motion_space``); by default
                the spaces of :func:`~openinfp.core.registry.default_registry` (built-in
                plus installed plugins, scanned once per process).
            max_duration_s: refuse longer motion (checked from the array header).

        Raises:
            InputError: the file is missing, not an npz, pickled, lacks keys, over a
                limit (see the module docstring), or its per-dimension names do not
                match the named space.
        """
        p = require_file(path, "motion file")
        _check_npz_headers(p, max_duration_s)
        try:
            with np.load(p, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except ValueError as exc:
            raise InputError(f"motion file {p} {_load_problem(exc)}") from None
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(f"motion file {p} is not a readable .npz archive ({exc})") from None
        if "motion" not in arrays:  # another layout (e.g. BEAT2): the motion spaces that read one
            foreign = _read_foreign_layout(arrays, f"motion file {p}", spaces)
            if foreign is not None:
                return foreign
        missing = [k for k in ("motion", "fps", "space", "names") if k not in arrays]
        if missing:
            raise InputError(f"motion file {p} lacks {', '.join(missing)}: it is neither an openinfp motion file "
                             "(motion, fps, space, names) nor a BEAT2/EMAGE SMPL-X file (poses T x 165, "
                             f"mocap_frame_rate); its keys: {', '.join(sorted(arrays)) or 'none'}")
        for key, ndim in (("space", 0), ("names", 1)):
            if arrays[key].dtype.kind not in "US" or arrays[key].ndim != ndim:
                what = "a single string" if ndim == 0 else "a 1-D array of strings"
                raise InputError(f"motion file {p}: {key!r} must be {what}, got {arrays[key].dtype} "
                                 f"with shape {arrays[key].shape}")
        if arrays["fps"].ndim != 0 or arrays["fps"].dtype.kind not in "iuf":
            raise InputError(f"motion file {p}: 'fps' must be a single number, got {arrays['fps'].dtype} "
                             f"with shape {arrays['fps'].shape}")
        space_name = str(arrays["space"])
        space = _resolve_space(space_name, spaces, p)
        names = [str(n) for n in arrays["names"].tolist()]
        if names != space.names:
            raise InputError(
                f"motion file {p}: its {len(names)} dimension names do not match motion space "
                f"{space_name!r} ({space.dim} dims); it was written with a different layout"
            )
        motion = arrays["motion"]
        if motion.dtype.kind != "f":
            raise InputError(f"motion file {p}: 'motion' must be floating point, got {motion.dtype}")
        annotations = {k[len(_ANNOTATION_PREFIX):]: v for k, v in arrays.items() if k.startswith(_ANNOTATION_PREFIX)}
        fps = float(arrays["fps"])
        lo, hi = MOTION_FPS_RANGE
        if not lo <= fps <= hi:  # also NaN
            raise InputError(f"motion file {p}: fps is {fps:g}; it must be between {lo:g} and {hi:g}")
        finite = np.isfinite(motion)
        if finite.all() and motion.size and float(np.abs(motion).max()) > MAX_ABS_VALUE:
            raise InputError(f"motion file {p}: values up to {float(np.abs(motion).max()):.3g}, beyond the "
                             f"plausible {MAX_ABS_VALUE:g}; the file is damaged")
        try:
            return cls(torch.from_numpy(np.ascontiguousarray(motion, dtype=np.float32)), space, fps, annotations)
        except (InputError, TypeError, ValueError) as exc:
            raise InputError(f"motion file {p}: {exc}") from None


def _load_problem(exc: ValueError) -> str:
    """What a ``ValueError`` of ``np.load`` means, as the end of a sentence."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "allow_pickle" in text or "pickle" in text.lower():
        return "holds pickled objects, which are refused"
    return f"is damaged ({text}); write it again"


def _read_npy_header(fh) -> tuple[tuple[int, ...], np.dtype]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:  # (3, 0): a UTF-8 header; numpy has no public reader for it
        shape, _fortran, dtype = np.lib.format._read_array_header(fh, version)
    return tuple(int(n) for n in shape), np.dtype(dtype)


def check_npz_archive(path: PathLike, what: str = "motion file",
                      max_bytes: int = MAX_MOTION_BYTES) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Check an ``.npz`` from its zip directory and ``.npy`` headers, reading no array.

    Refused: more than ``max_bytes`` of arrays (a few MB of zeros can declare
    gigabytes), object arrays (pickles), damaged headers, and arrays that declare more
    data than the archive holds. Use it before ``np.load`` on any user ``.npz``.

    Returns:
        ``{key: (shape, dtype)}`` of every array (empty when ``path`` is not a zip file:
        ``np.load`` then reports what it is).

    Raises:
        InputError: one line naming ``what`` and the problem.
    """
    p = Path(path)
    try:
        zf = zipfile.ZipFile(p)
    except (OSError, zipfile.BadZipFile, EOFError):
        return {}  # not an archive: np.load says what it is (a pickle, a lone .npy, junk)
    headers: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    with zf:
        total = sum(info.file_size for info in zf.infolist())
        if total > max_bytes:
            raise InputError(f"{what} {p} holds {total / 2**20:.0f} MB of arrays, more than the "
                             f"{max_bytes / 2**20:.0f} MB a {what} may hold")
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            key = info.filename[:-4]
            try:
                with zf.open(info) as fh:
                    shape, dtype = _read_npy_header(fh)
                    header_bytes = fh.tell()
            except (ValueError, OSError, zipfile.BadZipFile, EOFError, SyntaxError) as exc:
                raise InputError(f"{what} {p}: the header of array {key!r} is damaged ({exc})") from None
            if dtype.hasobject:
                raise InputError(f"{what} {p} holds pickled objects, which are refused (array {key!r})")
            declared = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if declared > info.file_size - header_bytes:
                raise InputError(f"{what} {p}: array {key!r} declares {shape} {dtype} ({declared} bytes) but the "
                                 f"archive holds {max(0, info.file_size - header_bytes)} bytes; the file is damaged "
                                 "or truncated")
            headers[key] = (shape, dtype)
    return headers


def _check_npz_headers(p: Path, max_duration_s: float) -> None:
    """:func:`check_npz_archive`, then the motion's fps and duration (only ``fps`` is read)."""
    headers = check_npz_archive(p)
    if "motion" not in headers or "fps" not in headers or headers["fps"][0] != ():
        return  # reported with the other layout problems after loading
    try:
        with zipfile.ZipFile(p) as zf, zf.open("fps.npy") as fh:
            fps = float(np.lib.format.read_array(fh, allow_pickle=False))
    except (ValueError, TypeError, OSError, zipfile.BadZipFile, EOFError):
        return
    shape = headers["motion"][0]
    lo, hi = MOTION_FPS_RANGE
    if not lo <= fps <= hi:
        raise InputError(f"motion file {p}: fps is {fps:g}; it must be between {lo:g} and {hi:g}")
    frames = shape[0] if shape else 0
    if frames / fps > max_duration_s + 1e-6:
        raise InputError(f"motion file {p} is {frames / fps:.0f} s long ({frames} frames at {fps:g} fps), over the "
                         f"limit of {max_duration_s:g} s (audio.max_duration_s); cut it or raise the limit")


def _read_foreign_layout(arrays: dict, where: str, spaces) -> Optional["MotionSequence"]:
    """The first motion space whose ``file_reader`` takes ``arrays``, or ``None``."""
    owner = getattr(spaces, "__self__", None)  # a registry's bound motion_space lookup
    if isinstance(spaces, dict):
        candidates = list(spaces.values())
    else:
        if owner is None or not hasattr(owner, "choices"):
            from openinfp.core.registry import default_registry  # lazy: builds a plugin manager once

            owner = default_registry()  # a bare lookup function cannot be listed: the installed spaces
        candidates = [owner.motion_space(name) for name in owner.choices("motion_spaces")]
    for space in candidates:
        if getattr(space, "file_reader", None) is not None:
            motion = space.file_reader(arrays, where)
            if motion is not None:
                return motion
    return None


def _resolve_space(name: str, spaces, path) -> MotionSpace:
    if spaces is None:
        from openinfp.core.registry import default_registry  # lazy: builds a plugin manager once

        return default_registry().motion_space(name)
    if callable(spaces):
        return spaces(name)
    if name not in spaces:
        raise InputError(f"motion file {path} uses motion space {name!r}; known: {', '.join(sorted(spaces))}")
    return spaces[name]

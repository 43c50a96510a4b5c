"""`MotionSequence`: motion in a motion space over time, with ``.npz`` I/O.

File layout (``numpy.savez``, loaded with ``allow_pickle=False``):

* ``motion``: float32 ``[T, D]``
* ``fps``: float scalar
* ``space``: the motion space's name (unicode scalar)
* ``names``: unicode ``[D]``, per-dimension names (detects mismatched layouts)
* ``format_version``: int scalar
* ``annotation.<key>``: optional per-frame arrays ``[T, ...]`` (e.g. ``agent_speaking``)
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output, require_file
from openinfp.core.motion_space import MotionSpace

FORMAT_VERSION = 1
_ANNOTATION_PREFIX = "annotation."


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
        with atomic_output(path, suffix=".npz") as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)

    @classmethod
    def load(
        cls,
        path: PathLike,
        spaces: Optional[Mapping[str, MotionSpace] | Callable[[str], MotionSpace]] = None,
    ) -> "MotionSequence":
        """Read a motion file written by :meth:`save`.

        Args:
            path: the ``.npz`` file.
            spaces: how to find the motion space by name: a mapping or a function; by
                default the built-in spaces (``head``, ``smplx``) plus any from plugins.

        Raises:
            InputError: the file is missing, not an npz, pickled, lacks keys, or its
                per-dimension names do not match the named space.
        """
        p = require_file(path, "motion file")
        try:
            with np.load(p, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
        except ValueError as exc:  # object arrays need pickle, which we refuse
            raise InputError(f"motion file {p} holds pickled objects, which are refused: {exc}") from None
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise InputError(f"motion file {p} is not a readable .npz archive ({exc})") from None
        if "motion" not in arrays and "poses" in arrays:  # a BEAT2/EMAGE/AMASS SMPL-X file
            from openinfp.body.beat2 import motion_from_beat2_arrays  # lazy: the body layer builds on core

            return motion_from_beat2_arrays(arrays, f"motion file {p} (BEAT2 layout)")
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
        try:
            fps = float(arrays["fps"])
            return cls(torch.from_numpy(np.ascontiguousarray(motion, dtype=np.float32)), space, fps, annotations)
        except (InputError, TypeError, ValueError) as exc:
            raise InputError(f"motion file {p}: {exc}") from None


def _resolve_space(name: str, spaces, path) -> MotionSpace:
    if spaces is None:
        from openinfp.core.registry import Registry  # lazy: builds a plugin manager

        return Registry.create().motion_space(name)
    if callable(spaces):
        return spaces(name)
    if name not in spaces:
        raise InputError(f"motion file {path} uses motion space {name!r}; known: {', '.join(sorted(spaces))}")
    return spaces[name]

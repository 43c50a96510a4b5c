"""`MotionSpace`: a named layout of a motion vector.

A motion vector of width ``D`` is a concatenation of named slices (head rotation,
translation, ARKit blendshapes, SMPL-X joints, ...). Code addresses parts by name
(``space.get(motion, "jaw")``), never by index, so layouts can change without
touching consumers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Optional, Sequence

import torch

from openinfp.core.errors import InputError

ROT6D_IDENTITY = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
"""6D encoding of the identity rotation (first two columns of I)."""


@dataclass(frozen=True)
class MotionSlice:
    """One named part of a motion vector.

    Attributes:
        name: unique name inside the space (e.g. ``"head_rotation"``, ``"arkit"``).
        size: number of dimensions.
        unit: physical unit of the values (``"rot6d"``, ``"metre"``, ``"weight"``,
            ``"ratio"``, ...).
        rotation: ``"6d"`` when the slice holds rotations in 6D form (``size`` is then a
            multiple of 6, one block per joint); ``None`` otherwise.
        component_names: one name per dimension (length ``size``).
        neutral: one rest value per dimension (identity rotation, zero, scale 1, ...).
        low, high: valid range of every value, or ``None`` when unbounded.
        description: one line for docs and ``openinfp plugins``.
    """

    name: str
    size: int
    unit: str
    component_names: tuple[str, ...]
    neutral: tuple[float, ...]
    rotation: Optional[str] = None
    low: Optional[float] = None
    high: Optional[float] = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.size <= 0:
            raise ValueError(f"slice {self.name!r}: size must be positive")
        if len(self.component_names) != self.size or len(self.neutral) != self.size:
            raise ValueError(
                f"slice {self.name!r}: need {self.size} component names and neutral values, "
                f"got {len(self.component_names)} and {len(self.neutral)}"
            )
        if self.rotation not in (None, "6d"):
            raise ValueError(f"slice {self.name!r}: rotation must be None or '6d'")
        if self.rotation == "6d" and self.size % 6:
            raise ValueError(f"slice {self.name!r}: a 6d rotation slice needs a multiple of 6 dims")

    @property
    def num_rotations(self) -> int:
        """Number of 6D rotation blocks (0 for non-rotation slices)."""
        return self.size // 6 if self.rotation == "6d" else 0


def rotation_slice(name: str, joints: Sequence[str], description: str = "") -> MotionSlice:
    """A slice of ``len(joints)`` rotations in 6D form, components named ``joint.r6d{i}``."""
    comps = tuple(f"{j}.r6d{i}" for j in joints for i in range(6))
    return MotionSlice(name, 6 * len(joints), "rot6d", comps, ROT6D_IDENTITY * len(joints), "6d",
                       description=description)


@dataclass(frozen=True)
class MotionSpace:
    """A named layout of a motion vector plus optional normalisation statistics.

    Attributes:
        name: registered name (``"head"``, ``"smplx"``, ...).
        slices: the parts in order; their sizes add up to :attr:`dim`.
        description: one line.
        mean, std: optional ``[D]`` normalisation statistics (from training data).
        groups: named groups of slice names (e.g. ``"upper_body"``) for losses/masks.
        file_reader: optional ``f(arrays, where) -> MotionSequence | None`` that reads a
            foreign ``.npz`` layout into this space (the ``smplx`` space reads
            BEAT2/EMAGE files); ``None`` from it means "not my layout". Lets
            :meth:`MotionSequence.load` accept such files without core importing the
            stage that knows them.
    """

    name: str
    slices: tuple[MotionSlice, ...]
    description: str = ""
    mean: Optional[torch.Tensor] = field(default=None, compare=False, repr=False)
    std: Optional[torch.Tensor] = field(default=None, compare=False, repr=False)
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    file_reader: Optional[Callable[..., Any]] = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = [s.name for s in self.slices]
        if len(set(names)) != len(names):
            raise ValueError(f"motion space {self.name!r}: duplicate slice names in {names}")
        for group, members in self.groups:
            unknown = set(members) - set(names)
            if unknown:
                raise ValueError(f"motion space {self.name!r}: group {group!r} names unknown slices {sorted(unknown)}")
        for stat_name, stat in (("mean", self.mean), ("std", self.std)):
            if stat is not None and tuple(stat.shape) != (self.dim,):
                raise ValueError(f"motion space {self.name!r}: {stat_name} must have shape ({self.dim},)")

    # ----- layout -------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Total width ``D`` of the motion vector."""
        return sum(s.size for s in self.slices)

    @property
    def slice_names(self) -> list[str]:
        return [s.name for s in self.slices]

    @property
    def names(self) -> list[str]:
        """Per-dimension names, length ``D`` (stored in motion files to detect mismatches)."""
        return [f"{s.name}:{c}" for s in self.slices for c in s.component_names]

    def part(self, name: str) -> MotionSlice:
        """The :class:`MotionSlice` called ``name``."""
        for s in self.slices:
            if s.name == name:
                return s
        raise KeyError(f"motion space {self.name!r} has no slice {name!r}; slices: {', '.join(self.slice_names)}")

    def index(self, name: str) -> slice:
        """Python ``slice`` of the part ``name`` along the last dimension."""
        start = 0
        for s in self.slices:
            if s.name == name:
                return slice(start, start + s.size)
            start += s.size
        raise KeyError(f"motion space {self.name!r} has no slice {name!r}; slices: {', '.join(self.slice_names)}")

    def component_index(self, slice_name: str, component: str) -> int:
        """Index along ``D`` of one named component, e.g. ``("arkit", "jawOpen")``."""
        part = self.part(slice_name)
        try:
            return self.index(slice_name).start + part.component_names.index(component)
        except ValueError:
            raise KeyError(f"slice {slice_name!r} of space {self.name!r} has no component {component!r}") from None

    def group(self, group: str) -> tuple[str, ...]:
        """Slice names of a named group."""
        for g, members in self.groups:
            if g == group:
                return members
        raise KeyError(f"motion space {self.name!r} has no group {group!r}; groups: {[g for g, _ in self.groups]}")

    def mask(self, slice_names: Iterable[str]) -> torch.Tensor:
        """Bool ``[D]`` selecting the given slices."""
        m = torch.zeros(self.dim, dtype=torch.bool)
        for n in slice_names:
            m[self.index(n)] = True
        return m

    # ----- access -------------------------------------------------------------------
    def get(self, motion: torch.Tensor, name: str) -> torch.Tensor:
        """``motion[..., slice]`` for the part ``name``: ``[..., D]`` -> ``[..., size]``."""
        return motion[..., self.index(name)]

    def get_component(self, motion: torch.Tensor, slice_name: str, component: str) -> torch.Tensor:
        """One named component: ``[..., D]`` -> ``[...]``."""
        return motion[..., self.component_index(slice_name, component)]

    def set(self, motion: torch.Tensor, name: str, value: torch.Tensor) -> torch.Tensor:
        """A copy of ``motion`` with part ``name`` replaced by ``value`` ``[..., size]``."""
        out = motion.clone()
        out[..., self.index(name)] = value
        return out

    def neutral(self, num_frames: Optional[int] = None) -> torch.Tensor:
        """The rest motion vector ``[D]`` (or ``[T, D]`` with ``num_frames``)."""
        vec = torch.tensor([v for s in self.slices for v in s.neutral], dtype=torch.float32)
        return vec if num_frames is None else vec.expand(num_frames, -1).clone()

    def check(self, motion: torch.Tensor, what: str = "motion") -> None:
        """Raise :class:`InputError` unless ``motion`` is a finite ``[T, D]`` float tensor."""
        if not isinstance(motion, torch.Tensor) or motion.ndim != 2 or motion.shape[1] != self.dim:
            shape = tuple(getattr(motion, "shape", ()))
            raise InputError(f"{what}: expected a [T, {self.dim}] tensor for motion space {self.name!r}, got {shape}")
        if not torch.isfinite(motion).all():
            raise InputError(f"{what}: motion contains NaN or infinite values")

    def clamp(self, motion: torch.Tensor) -> torch.Tensor:
        """Clip bounded slices to their range (e.g. blendshapes to [0, 1])."""
        out = motion.clone()
        for s in self.slices:
            if s.low is not None or s.high is not None:
                idx = self.index(s.name)
                out[..., idx] = out[..., idx].clamp(s.low, s.high)
        return out

    # ----- normalisation ------------------------------------------------------------
    def with_stats(self, mean: torch.Tensor, std: torch.Tensor, min_std: float = 1e-3) -> "MotionSpace":
        """A copy carrying normalisation statistics (``std`` floored at ``min_std``)."""
        return replace(self, mean=mean.detach().float().clone(), std=std.detach().float().clamp_min(min_std).clone())

    def normalize(self, motion: torch.Tensor) -> torch.Tensor:
        """``(motion - mean) / std`` over the last dim; identity when no stats are set."""
        if self.mean is None or self.std is None:
            return motion
        return (motion - self.mean.to(motion)) / self.std.to(motion)

    def denormalize(self, motion: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`normalize`."""
        if self.mean is None or self.std is None:
            return motion
        return motion * self.std.to(motion) + self.mean.to(motion)

    def describe(self) -> str:
        """Multi-line human description of the layout (for ``openinfp plugins -v``)."""
        lines = [f"{self.name} (D={self.dim}): {self.description}"]
        start = 0
        for s in self.slices:
            rng = "" if s.low is None and s.high is None else f" range [{s.low}, {s.high}]"
            rotation = ", " + s.rotation if s.rotation else ""
            lines.append(f"  [{start}:{start + s.size}] {s.name} ({s.unit}{rotation}){rng}")
            start += s.size
        return "\n".join(lines)

"""Explicit behaviour control: a prompt's "barely moves" / "nods a lot" applied to the motion.

The shipped motion models were trained with each side's style prompt as a ``text`` token,
but they hardly respond to it (issue 14: "nods a lot while listening" and "barely moves"
gave the same nod count on real audio, even with a text-only classifier-free guidance of
scale 6). Two reasons were measured (docs/MODELS.md "Prompts"): the synthetic rules
themselves barely tied the nod clauses of the prompts to the motion, and a global token
that modulates the memory banks is a weak path for a 1 M parameter model trained for a
few thousand steps. Until a model learns the mapping, this module makes the behaviour a
prompt describes an explicit, documented control on top of the generated motion:

* a ``behaviour`` global token ``[1, K]`` holds one value in ``[-1, 1]`` per axis of
  :data:`BEHAVIOUR_AXES` (``0`` = as the model generates it); the ``text`` conditioner
  computes it from the prompt (:mod:`openinfp.conditioners.behaviour`, MiniLM similarity
  to described behaviour levels), and anyone may build one by hand
  (:func:`behaviour_token`);
* :class:`BehaviourControl` applies it to each frame of the ``head_rotation`` slice:
  the head's deviation from its own slow average (a causal exponential average over
  :data:`CENTRE_TIME_S`) is multiplied by ``head_gain`` (axis ``head_motion``:
  ``0.35 .. 1 .. 1.65``, the range of the synthetic people's ``head_motion_scale``), and
  while the agent is silent the pitch deviation additionally by ``nod_gain`` (axis
  ``nodding``: ``0.35 .. 1 .. 2.5``): small listening bobs of the model become visible
  nods, or nods shrink below what reads as a nod. Nods stay where the model put them
  (at the partner's phrase ends); none are added.

The control is causal and keeps its state between calls, so motion produced in chunks
(streaming) is controlled exactly as the same motion produced at once. It runs before the
physical speed limits (:mod:`openinfp.core.motion_limits`), which still bound the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Sequence

import numpy as np
import torch

from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError
from openinfp.core.motion_space import MotionSpace
from openinfp.core.rotations import euler_ypr_to_matrix, matrix_to_euler_ypr, matrix_to_rot6d, rot6d_to_matrix

BEHAVIOUR_TOKEN_NAME = "behaviour"
"""Name of the global behaviour token (consumed by the generator, never by the guider)."""

BEHAVIOUR_AXES: tuple[str, ...] = ("head_motion", "nodding")
"""Controlled axes, in token order: how much the head moves; how much it nods while listening."""

HEAD_GAIN_RANGE = (0.35, 1.65)
"""Head-motion gain at axis value -1 and +1 (the synthetic ``head_motion_scale`` range, 0.3-1.7)."""

NOD_GAIN_RANGE = (0.35, 2.5)
"""Extra pitch gain while the agent is silent, at axis value -1 and +1."""

CENTRE_TIME_S = 2.0
"""Time constant of the causal average the head deviates from (slow posture shifts pass)."""

LISTEN_TIME_S = 0.3
"""Time constant smoothing the agent-silent weight that switches the nod gain."""

ROTATION_SLICE = "head_rotation"


@dataclass(frozen=True)
class BehaviourSettings:
    """Axis values in ``[-1, 1]`` (``0`` = the model's own behaviour).

    Attributes:
        head_motion: how much the head moves overall (-1 barely .. +1 a lot).
        nodding: how much the head nods while listening (-1 rarely .. +1 a lot).
    """

    head_motion: float = 0.0
    nodding: float = 0.0

    def __post_init__(self) -> None:
        for name in BEHAVIOUR_AXES:
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and -1.0 <= v <= 1.0):
                raise InputError(f"behaviour {name} must be a number in [-1, 1], got {v!r}")

    @property
    def is_neutral(self) -> bool:
        return all(getattr(self, n) == 0.0 for n in BEHAVIOUR_AXES)

    @staticmethod
    def _gain(value: float, lo: float, hi: float) -> float:
        """Log-linear: ``lo`` at -1, 1 at 0, ``hi`` at +1."""
        return float(hi ** value if value >= 0 else lo ** -value)

    @property
    def head_gain(self) -> float:
        return self._gain(self.head_motion, *HEAD_GAIN_RANGE)

    @property
    def nod_gain(self) -> float:
        return self._gain(self.nodding, *NOD_GAIN_RANGE)

    def as_vector(self) -> torch.Tensor:
        """``[K]`` float32 in :data:`BEHAVIOUR_AXES` order."""
        return torch.tensor([float(getattr(self, n)) for n in BEHAVIOUR_AXES], dtype=torch.float32)

    @classmethod
    def from_vector(cls, vector: torch.Tensor | Sequence[float]) -> "BehaviourSettings":
        v = torch.as_tensor(vector, dtype=torch.float32).reshape(-1)
        if v.numel() != len(BEHAVIOUR_AXES):
            raise InputError(f"a behaviour vector has {len(BEHAVIOUR_AXES)} values "
                             f"({', '.join(BEHAVIOUR_AXES)}), got {v.numel()}")
        return cls(**{n: float(x) for n, x in zip(BEHAVIOUR_AXES, v.tolist())})


def behaviour_token(settings: BehaviourSettings) -> ConditionTokens:
    """The global ``behaviour`` token ``[1, K]`` for ``settings``."""
    return ConditionTokens(BEHAVIOUR_TOKEN_NAME, settings.as_vector()[None], kind="global")


def split_behaviour(conditions: Sequence[ConditionTokens]) -> tuple[list[ConditionTokens],
                                                                      Optional[BehaviourSettings]]:
    """``(other tokens, settings or None)``; several behaviour tokens are averaged.

    Raises:
        InputError: a behaviour token of the wrong width or kind.
    """
    rest, found = [], []
    for c in conditions:
        if c.name != BEHAVIOUR_TOKEN_NAME:
            rest.append(c)
            continue
        if c.kind != "global" or c.dim != len(BEHAVIOUR_AXES):
            raise InputError(f"the behaviour token must be global [N, {len(BEHAVIOUR_AXES)}], "
                             f"got {c.kind} width {c.dim}")
        found.append(c.tokens.float()[c.valid_mask()])
    if not found:
        return rest, None
    settings = BehaviourSettings.from_vector(torch.cat(found).mean(0).clamp(-1.0, 1.0))
    return rest, (None if settings.is_neutral else settings)


class BehaviourControl:
    """Causal, stateful application of :class:`BehaviourSettings` to motion chunks.

    Args:
        space: the motion space; only its ``head_rotation`` slice (6D) is changed. A
            space without one is returned unchanged.
        fps: frame rate (the time constants are in seconds).
        settings: the axis values.
    """

    def __init__(self, space: MotionSpace, fps: float, settings: BehaviourSettings) -> None:
        self.space = space
        self.settings = settings
        self.enabled = ROTATION_SLICE in space.slice_names
        self._a_centre = 1.0 - math.exp(-1.0 / (CENTRE_TIME_S * fps))
        self._a_listen = 1.0 - math.exp(-1.0 / (LISTEN_TIME_S * fps))
        self._centre: Optional[np.ndarray] = None  # [3] yaw, pitch, roll (radians)
        self._listen: float = 1.0

    def __call__(self, motion: torch.Tensor, agent_speaking: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Control ``motion [T, D]`` (physical units); ``agent_speaking [T]`` in [0, 1]
        (the guider's read-out; ``None``: the nod gain applies everywhere)."""
        if not self.enabled or motion.shape[0] == 0:
            return motion
        rot = self.space.get(motion, ROTATION_SLICE)
        ypr = matrix_to_euler_ypr(rot6d_to_matrix(rot.double())).numpy()
        silent = (np.ones(len(ypr)) if agent_speaking is None
                  else 1.0 - np.clip(agent_speaking.double().cpu().numpy().reshape(-1), 0.0, 1.0))
        out = np.empty_like(ypr)
        gh, gn = self.settings.head_gain, self.settings.nod_gain
        centre = ypr[0].copy() if self._centre is None else self._centre
        listen = self._listen
        for t in range(len(ypr)):
            centre = centre + self._a_centre * (ypr[t] - centre)
            listen = listen + self._a_listen * (silent[t] - listen)
            gain = np.array([gh, gh * (1.0 + (gn - 1.0) * listen), gh])
            out[t] = centre + gain * (ypr[t] - centre)
        self._centre, self._listen = centre, listen
        new = matrix_to_rot6d(euler_ypr_to_matrix(torch.from_numpy(out))).to(motion.dtype)
        return self.space.set(motion, ROTATION_SLICE, new)

"""Physical speed limits on generated motion: no jaw that snaps open, no head that jumps.

A diffusion model trained on a few hours of synthetic motion can, on unfamiliar (real)
audio, output a frame that differs from the previous one by more than a face can move
in 40 ms. :class:`MotionLimiter` bounds the frame-to-frame change of the motion by
rates measured on real people, expressed **per second** so that they mean the same at
any frame rate:

* ``jaw_open_rise_per_s``: how fast ``jawOpen`` may increase (mouth opening);
* ``jaw_open_fall_per_s``: how fast it may decrease (closing);
* ``rotation_deg_per_s``: the angular speed of every 6D rotation block (for the
  ``head`` space, the head; for ``smplx``, each joint's local rotation).

The defaults come from the project's tracker on the 17 real talking videos of
``../shared/realdata/talking_video`` (``python -m openinfp.eval.real_stats``,
docs/MODELS.md "Evaluation on real data"), at 25 fps: ``jawOpen`` rises by at most
0.10 per frame in 95 % of frames, the largest rise of a clip is 0.11-0.32 (median
0.19); the largest fall 0.35; head speed 95th percentile 69 deg/s, largest single-frame
head step of a clip 1.6-11 degrees (median 5.1; the large ones on small, full-body
faces where tracking is noisy). The limits (jaw opening 0.26 and closing 0.36 per frame,
6 degrees per frame for rotations) let through all but the extreme real steps and stay inside the
issue's bounds (0.3 and 8 degrees).

The limiter is causal and keeps the last frame it returned, so motion produced in
chunks (streaming) is limited exactly as the same motion produced at once (offline):
``limiter(a) ++ limiter(b) == limiter(a ++ b)``. Slices and components are found by
name (the ARKit ``jawOpen`` component of the space's face slice, every slice whose
rotation format is ``6d``); a space without them is left alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch

from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.motion_space import MotionSpace
from openinfp.core.rotations import matrix_to_rot6d, rot6d_to_matrix

JAW_COMPONENT = "jawOpen"


@dataclass(frozen=True)
class MotionLimits:
    """Largest physical rates of change (per second); ``0`` switches a limit off.

    Attributes:
        jaw_open_rise_per_s: ``jawOpen`` increase per second (6.5/s = 0.26 per frame at 25 fps).
        jaw_open_fall_per_s: ``jawOpen`` decrease per second (9/s = 0.36 per frame at 25 fps;
            a tighter closing limit kept the mouth open into pauses: jaw AUC on the real
            talking videos 0.924 at 6.5/s, 0.939 at 9/s).
        rotation_deg_per_s: angular speed of each rotation, degrees per second
            (150 deg/s = 6 degrees per frame at 25 fps).
    """

    jaw_open_rise_per_s: float = 6.5
    jaw_open_fall_per_s: float = 9.0
    rotation_deg_per_s: float = 150.0

    def per_frame(self, fps: float) -> tuple[float, float, float]:
        """``(jaw rise, jaw fall, rotation radians)`` allowed in one frame at ``fps``."""
        return (self.jaw_open_rise_per_s / fps, self.jaw_open_fall_per_s / fps,
                math.radians(self.rotation_deg_per_s) / fps)


def _face_slice(space: MotionSpace) -> Optional[str]:
    for part in space.slices:
        if part.component_names == ARKIT_NAMES:
            return part.name
    return None


class MotionLimiter:
    """Applies :class:`MotionLimits` to consecutive chunks of physical motion.

    Args:
        space: the motion space of the frames.
        fps: their frame rate.
        limits: the rates (default :class:`MotionLimits`).
    """

    def __init__(self, space: MotionSpace, fps: float, limits: Optional[MotionLimits] = None) -> None:
        self.space = space
        self.fps = float(fps)
        self.limits = limits or MotionLimits()
        face = _face_slice(space)
        self._jaw = space.component_index(face, JAW_COMPONENT) if face is not None else None
        self._rotations = [space.index(p.name) for p in space.slices if p.rotation == "6d"]
        self._last: Optional[np.ndarray] = None  # [D] the last frame returned

    def reset(self) -> None:
        """Forget the previous frame (a new, unrelated sequence follows)."""
        self._last = None

    def __call__(self, motion: torch.Tensor) -> torch.Tensor:
        """Limit ``[T, D]`` physical motion (continuing from the previous call); returns a new tensor."""
        if motion.shape[0] == 0:
            return motion.clone()
        rise, fall, max_angle = self.limits.per_frame(self.fps)
        x = motion.detach().cpu().double().numpy().copy()
        if self._jaw is not None and (rise > 0 or fall > 0):
            x[:, self._jaw] = _limit_scalar(x[:, self._jaw], None if self._last is None else self._last[self._jaw],
                                            rise if rise > 0 else math.inf, fall if fall > 0 else math.inf)
        if max_angle > 0:
            for idx in self._rotations:
                x[:, idx] = _limit_rotations(x[:, idx], None if self._last is None else self._last[idx], max_angle)
        self._last = x[-1].copy()
        return torch.from_numpy(x).to(motion.dtype)


def _limit_scalar(x: np.ndarray, prev: Optional[float], rise: float, fall: float) -> np.ndarray:
    """``[T]`` with each step bounded to ``[-fall, +rise]`` (causal, from ``prev``)."""
    out = x.copy()
    last = prev
    for t in range(out.size):
        if last is not None:
            out[t] = min(max(out[t], last - fall), last + rise)
        last = out[t]
    return out


def _angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angles (radians) between rotation matrices ``[..., 3, 3]``."""
    cos = (np.einsum("...ij,...ij->...", a, b) - 1.0) / 2.0  # trace(a^T b) = sum of elementwise products
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _limit_rotations(x6d: np.ndarray, prev6d: Optional[np.ndarray], max_angle: float) -> np.ndarray:
    """``[T, 6k]`` 6D rotation blocks, each frame moved back towards the previous output
    along the shortest arc until the angle between them is at most ``max_angle``."""
    t_len, k = x6d.shape[0], x6d.shape[1] // 6
    mats = rot6d_to_matrix(torch.from_numpy(x6d).reshape(t_len, k, 6)).numpy()
    ok = np.ones(t_len, bool)
    ok[1:] = (_angles(mats[:-1], mats[1:]) <= max_angle).all(-1)  # input steps already within the limit
    prev = None if prev6d is None else rot6d_to_matrix(torch.from_numpy(prev6d).reshape(k, 6)).numpy()
    changed = False  # whether the previous output frame differs from its input
    out = x6d.copy()
    for t in range(t_len):
        if prev is None or (t > 0 and ok[t] and not changed):
            prev, changed = mats[t], False
            continue
        angle = _angles(prev, mats[t])
        if (angle <= max_angle).all():
            prev, changed = mats[t], False
            continue
        limited = np.where((angle > max_angle)[:, None, None], prev @ _towards(prev, mats[t], angle, max_angle),
                           mats[t])
        out[t] = matrix_to_rot6d(torch.from_numpy(limited)).reshape(-1).numpy()
        prev, changed = limited, True
    return out


def _towards(a: np.ndarray, b: np.ndarray, angle: np.ndarray, max_angle: float) -> np.ndarray:
    """The rotation ``[k, 3, 3]`` that turns ``a`` by ``min(angle, max_angle)`` about the
    axis of ``a^T b`` (Rodrigues' formula)."""
    rel = np.swapaxes(a, -1, -2) @ b
    axis = np.stack([rel[:, 2, 1] - rel[:, 1, 2], rel[:, 0, 2] - rel[:, 2, 0], rel[:, 1, 0] - rel[:, 0, 1]], -1)
    axis = axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-12)
    theta = np.minimum(angle, max_angle)
    kx = np.zeros((a.shape[0], 3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -axis[:, 2], axis[:, 1], -axis[:, 0]
    kx = kx - np.swapaxes(kx, -1, -2)
    return np.eye(3) + np.sin(theta)[:, None, None] * kx + (1 - np.cos(theta))[:, None, None] * (kx @ kx)

"""Helpers: head motion built from named curves (no magic indices)."""

from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import pytest
import torch

from openinfp.core.motion import MotionSequence
from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler


def build_head_motion(num_frames: int, fps: float = 25.0, jaw: Optional[np.ndarray] = None,
                      yaw: Optional[np.ndarray] = None, pitch: Optional[np.ndarray] = None,
                      roll: Optional[np.ndarray] = None, blendshapes: Optional[dict] = None) -> MotionSequence:
    space = head_motion_space()
    motion = space.neutral(num_frames)
    zeros = np.zeros(num_frames)
    ypr = np.stack([zeros if a is None else a for a in (yaw, pitch, roll)], axis=1)
    motion = space.set(motion, "head_rotation", head_rotation_from_euler(torch.tensor(ypr, dtype=torch.float32)))
    shapes = dict(blendshapes or {})
    if jaw is not None:
        shapes["jawOpen"] = jaw
    for name, values in shapes.items():
        motion[:, space.component_index("arkit", name)] = torch.as_tensor(np.asarray(values), dtype=torch.float32)
    return MotionSequence(motion, space, fps)


@pytest.fixture()
def make_head() -> Callable[..., MotionSequence]:
    return build_head_motion

"""Per-photo turn limits, measured at setup: how far each way a photo's warp turns the head
without smearing or tearing (used by :class:`openinfp.head.renderer.PortraitRenderer`).

The largest turn towards each direction (at most ``max_turn``, with a roll of up to 8
degrees on top) and roll each way (:func:`openinfp.head.pose_limit.measured_limits`)
whose warp smears at most ``SMEAR_MAX`` per mille of the face
(:func:`openinfp.head.warp_quality.forward_smear`, on the warp's forward field: no
inversion) and, with a still background, tears at most ``TEAR_MAX``
(:func:`openinfp.head.warp_quality.tear`: a crack of background plate under the jaw,
where the photo's jaw lay over the collar; that needs the backward map, taken only where
the smear passes). Turned photos get smaller limits towards one side or both (the hidden
far side, or the near side's ear and hair), photos looking up further up; frontal photos
keep ``max_turn`` or close to it for turns to the side. Setup: 1-3 s in all.
"""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np
import torch

from openinfp.core.rotations import matrix_to_rot6d
from openinfp.head.landmarks import polygon_area
from openinfp.head.motion_space import head_motion_space
from openinfp.head.pose_limit import TurnLimits, measured_limits
from openinfp.head.warp import ControlWarp
from openinfp.head.warp_quality import SMEAR_MAX, TEAR_MAX, carried, forward_smear, near_face, tear

Displacements = Callable[[torch.Tensor], tuple[np.ndarray, np.ndarray]]
"""motion ``[62]`` -> (control-point displacements ``[K, 2]`` of the warp, target face outline ``[N, 2]``)."""


def measure_turn_limits(warp: ControlWarp, outline: np.ndarray, mask: np.ndarray, still_background: bool,
                        max_turn: float, displacements: Displacements) -> TurnLimits:
    """Turn limits of one photo.

    Args:
        warp: the photo's control-point warp.
        outline: ``[N, 2]`` the photo's face outline on the canvas (pixels).
        mask: ``[H, W]`` float32 person alpha on the canvas.
        still_background: whether the frame has a still background (then the tear counts).
        max_turn: the renderer's largest turn (degrees).
        displacements: the warp's displacements and target outline for a head motion,
            drawn unlimited.
    """
    space = head_motion_space()
    person = cv2.remap(mask, warp.grid, None, cv2.INTER_LINEAR) > 0.5
    near, _ = near_face(outline, person.shape, warp.step)

    def drawn(rot: np.ndarray) -> float:
        """The worse of smear and tear, each relative to its bar (passes at <= 1)."""
        motion = space.set(space.neutral(), "head_rotation", matrix_to_rot6d(torch.from_numpy(rot).float()))
        disp, target = displacements(motion)
        score = forward_smear(warp.forward_field(disp), warp.step, person, near, polygon_area(target)) / SMEAR_MAX
        if score > 1.0 or not still_background:
            return score
        return max(score, tear(carried(mask, warp.backward_map_xy(disp)), mask, target) / TEAR_MAX)

    return measured_limits(drawn, max_turn, 1.0)

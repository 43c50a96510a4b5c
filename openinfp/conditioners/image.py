"""The ``image`` conditioner: a reference photo's expression and head pose as a style token.

"Talk with the expression in this photo": the head tracker
(:class:`openinfp.head.tracker.HeadTracker`, MediaPipe face mesh) reads the photo's
head pose and ARKit-52 expression weights as one vector of the ``head`` motion space,
which becomes one global token ``[1, 62]``. Either part can be switched off, in which
case it is set to the space's neutral value (identity rotation, zero expression).
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from openinfp.conditioners.options import ImageConditionerOptions
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.interfaces import ConditionInputs


class ImageConditioner:
    """Reference photo -> one global token ``[1, 62]`` (head pose + ARKit-52).

    Attributes:
        name: ``"image"``.
        feature_dim: 62 (the ``head`` motion space's width).
    """

    name = "image"

    def __init__(self, options: Optional[ImageConditionerOptions] = None) -> None:
        from openinfp.head.motion_space import head_motion_space

        self.options = options or ImageConditionerOptions()
        if not (self.options.pose or self.options.expression):
            raise ConfigError("image conditioner: pose and expression are both off; keep at least one")
        if self.options.face_index < 0:
            raise ConfigError(f"image conditioner: face_index must be >= 0, got {self.options.face_index}")
        self.space = head_motion_space()
        self.feature_dim = self.space.dim
        self._tracker = None

    def _track(self, image: np.ndarray):
        if self._tracker is None:
            from openinfp.head.config import HeadConfig
            from openinfp.head.tracker import HeadTracker

            self._tracker = HeadTracker(HeadConfig(face_index=self.options.face_index))
        return self._tracker.track_image(image, name="the style image")

    def encode(self, inputs: ConditionInputs, num_frames: int) -> list[ConditionTokens]:
        """``[ConditionTokens("image", [1, 62], kind="global")]``, or ``[]`` without an image.

        Raises:
            InputError: not an ``[H, W, 3]`` image, or no usable face in it.
        """
        image = inputs.image
        if image is None:
            return []
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"the style image must be [H, W, 3] RGB, got shape {image.shape}")
        motion = self._track(image).motion.detach().to("cpu").float().reshape(self.space.dim)
        neutral = self.space.neutral()
        for group, keep in (("pose", self.options.pose), ("face", self.options.expression)):
            if not keep:
                for part in self.space.group(group):
                    motion = self.space.set(motion, part, self.space.get(neutral, part))
        return [ConditionTokens(self.name, motion[None].clone(), kind="global")]

    def close(self) -> None:
        """Free the MediaPipe graph early (it is also freed with the object)."""
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None

"""The seams between stages: what a conditioner, a renderer and a motion generator
look like from the outside. Implementations live in their stages and are registered
as plugins; the pipeline only talks to these protocols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, Optional, Protocol, runtime_checkable

import numpy as np

from openinfp.core.audio import ConversationAudio
from openinfp.core.conditions import ConditionTokens
from openinfp.core.motion import MotionSequence


@dataclass
class ConditionInputs:
    """Everything a conditioner may read. Absent modalities are ``None``.

    Attributes:
        audio: both participants' tracks.
        text: a behaviour/style prompt ("calm, nods a lot while listening").
        image: a style reference photo, ``[H, W, 3]`` uint8 RGB.
        fps: motion frame rate that frame tokens must be aligned to.
        loud_db: per role (``"agent"``, ``"partner"``) the track's loud level in dBFS
            measured over more audio than ``audio`` holds (live mode keeps a running
            one, so a pause is not normalised up to speech level); ``None``: each
            track's own level.
    """

    audio: Optional[ConversationAudio] = None
    text: Optional[str] = None
    image: Optional[np.ndarray] = None
    fps: float = 25.0
    loud_db: Optional[dict[str, float]] = None


@runtime_checkable
class Conditioner(Protocol):
    """Turns one modality into :class:`ConditionTokens`.

    ``encode`` returns an empty list when its modality is absent from ``inputs``.
    Frame tokens must have exactly ``num_frames`` rows. The audio conditioner returns
    two token sets named ``"audio"``, one with ``role="agent"`` and one with
    ``role="partner"``; the guider routes them to its verbal / non-verbal banks.
    """

    name: str

    def encode(self, inputs: ConditionInputs, num_frames: int) -> list[ConditionTokens]: ...


@dataclass
class RenderSource:
    """What a renderer draws the motion onto.

    Attributes:
        portrait: ``[H, W, 3]`` uint8 RGB source photo (portrait renderers).
        betas: optional body shape coefficients (body renderers).
        label: a name for the participant ("agent", "partner") used in scenes.
    """

    portrait: Optional[np.ndarray] = None
    betas: Optional[np.ndarray] = None
    label: str = "agent"


@runtime_checkable
class Renderer(Protocol):
    """Draws a :class:`MotionSequence` as frames.

    ``setup`` is called once per participant before ``render``; ``render`` yields
    ``[H, W, 3]`` uint8 RGB frames (H, W even) one at a time, so long videos stream.
    """

    def setup(self, source: RenderSource) -> None: ...

    def render(self, motion: MotionSequence) -> Iterator[np.ndarray]: ...

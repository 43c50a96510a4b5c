"""The ``audio`` conditioner (both tracks, frame-aligned) and its learnable encoder.

:class:`AudioConditioner` turns a :class:`~openinfp.core.audio.ConversationAudio`
into two deterministic feature sequences, ``[T, F]`` each, one with ``role="agent"``
and one with ``role="partner"`` (both named ``"audio"``); the columns are described in
:mod:`openinfp.conditioners.audio_features` (``F = 49`` by default).

:class:`AudioFeatureEncoder` is the small learnable temporal encoder the motion
guider puts on top (``[B, T, F] -> [B, T, D]``); it lives inside the guider, so it is
trained and checkpointed with the motion model.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from openinfp.conditioners.audio_features import (
    AUDIO_FEATURE_DIM,
    FeatureOptions,
    feature_dim,
    feature_names,
    track_features,
)
from openinfp.conditioners.options import AudioConditionerOptions
from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.audio_encoder import AudioFeatureEncoder  # re-export: checkpoints and plugins use this path
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError
from openinfp.core.interfaces import ConditionInputs

__all__ = ["AudioConditioner", "AudioConditionerOptions", "AudioFeatureEncoder", "AUDIO_FEATURE_DIM"]


class AudioConditioner:
    """Frame-aligned features of both participants' tracks.

    Attributes:
        name: ``"audio"``.
        feature_dim: ``F``, the width of each token set (49 with the defaults).
        feature_names: the ``F`` column names.
    """

    name = "audio"

    def __init__(self, options: Optional[AudioConditionerOptions] = None) -> None:
        self.options = options or AudioConditionerOptions()
        if not 8 <= self.options.n_mels <= 128:
            raise InputError(f"audio conditioner: n_mels must be in 8..128, got {self.options.n_mels}")
        if not 0 <= self.options.fmin < self.options.fmax <= SAMPLE_RATE / 2:
            raise InputError(f"audio conditioner: need 0 <= fmin < fmax <= {SAMPLE_RATE // 2} Hz, "
                             f"got {self.options.fmin}..{self.options.fmax}")
        self._features = FeatureOptions(n_mels=self.options.n_mels, fmin=self.options.fmin, fmax=self.options.fmax)
        self.feature_dim = feature_dim(self.options.n_mels)
        self.feature_names = feature_names(self.options.n_mels)

    def encode(self, inputs: ConditionInputs, num_frames: int) -> list[ConditionTokens]:
        """Two token sets ``[num_frames, F]`` (agent, partner); ``[]`` without audio.

        Frame ``t`` covers ``[t / fps, (t + 1) / fps)`` of the audio; frames past its
        end hold silence and are marked invalid in ``mask``.
        """
        audio = inputs.audio
        if audio is None:
            return []
        if num_frames < 1:
            raise InputError(f"audio conditioner: num_frames must be at least 1, got {num_frames}")
        fps = float(inputs.fps)
        out = []
        for role, wave, act in (("agent", audio.agent, audio.agent_activity),
                                ("partner", audio.partner, audio.partner_activity)):
            activity = self._activity(wave, act, audio, fps, num_frames) if self.options.activity else None
            loud = None if inputs.loud_db is None else inputs.loud_db.get(role)
            feats = track_features(wave, num_frames, fps, activity, self._features, reference_db=loud)
            out.append(ConditionTokens(self.name, torch.from_numpy(feats), kind="frame",
                                       mask=_valid_mask(audio, fps, num_frames), role=role))
        return out

    @staticmethod
    def _activity(wave: np.ndarray, act: Optional[np.ndarray], audio: ConversationAudio, fps: float,
                  num_frames: int) -> np.ndarray:
        from openinfp.audio.activity import resample_steps, speech_activity

        if act is not None:
            if abs(audio.activity_fps - fps) < 1e-6:
                return act
            return resample_steps(act, audio.activity_fps, fps, num_frames)
        if not np.any(wave):
            return np.zeros(num_frames, np.float32)
        return speech_activity(wave, fps, num_frames)


def _valid_mask(audio: ConversationAudio, fps: float, num_frames: int) -> Optional[torch.Tensor]:
    covered = int(np.ceil(audio.duration * fps - 1e-6))
    if covered >= num_frames:
        return None
    mask = torch.zeros(num_frames, dtype=torch.bool)
    mask[:covered] = True
    return mask

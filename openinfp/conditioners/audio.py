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
from torch import nn

from openinfp.conditioners.audio_features import (
    AUDIO_FEATURE_DIM, FeatureOptions, feature_dim, feature_names, track_features,
)
from openinfp.conditioners.options import AudioConditionerOptions
from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
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


class AudioFeatureEncoder(nn.Module):
    """Learnable temporal encoder of audio features: ``[B, T, F] -> [B, T, D]``.

    A per-feature normalisation, a linear lift to ``hidden``, then residual blocks of
    (depthwise temporal convolution with growing dilation, pointwise MLP), each
    pre-normalised, and a linear projection to ``out_dim``. Non-causal with a bounded
    receptive field of ``receptive_field`` frames (29 = +-0.56 s at 25 fps with the
    defaults), so windows of a long sequence can be encoded independently given
    ``receptive_field // 2`` frames of context on each side.

    Args:
        in_dim: ``F`` (``AudioConditioner.feature_dim``, 49 by default).
        out_dim: ``D``, the width the guider works in.
        hidden: channel width inside (default ``max(64, out_dim)``).
        num_layers: residual blocks (dilations 1, 2, 4, ...).
        kernel_size: temporal kernel (odd).
        dropout: dropout inside the blocks (training only).
    """

    def __init__(self, in_dim: int, out_dim: int, hidden: Optional[int] = None, num_layers: int = 3,
                 kernel_size: int = 5, dropout: float = 0.0) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f"kernel_size must be odd, got {kernel_size}")
        hidden = hidden or max(64, out_dim)
        self.config = {"in_dim": in_dim, "out_dim": out_dim, "hidden": hidden, "num_layers": num_layers,
                       "kernel_size": kernel_size, "dropout": dropout}
        self.in_dim, self.out_dim = in_dim, out_dim
        self.input_norm = nn.LayerNorm(in_dim)
        self.lift = nn.Linear(in_dim, hidden)
        self.blocks = nn.ModuleList(
            _TemporalBlock(hidden, kernel_size, 2 ** i, dropout) for i in range(num_layers)
        )
        self.out_norm = nn.LayerNorm(hidden)
        self.proj = nn.Linear(hidden, out_dim)
        self.receptive_field = 1 + sum((kernel_size - 1) * 2 ** i for i in range(num_layers))

    def forward(self, features: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Encode features.

        Args:
            features: ``[B, T, F]`` float.
            mask: optional ``[B, T]`` bool, ``True`` = valid; invalid frames are zeroed
                before the convolutions so they do not leak into valid ones.

        Returns:
            ``[B, T, D]``.
        """
        if features.ndim != 3 or features.shape[-1] != self.in_dim:
            raise ValueError(f"AudioFeatureEncoder expects [B, T, {self.in_dim}], got {tuple(features.shape)}")
        x = self.lift(self.input_norm(features))
        keep = None if mask is None else mask.to(x.dtype).unsqueeze(-1)
        for block in self.blocks:
            if keep is not None:
                x = x * keep
            x = block(x)
        return self.proj(self.out_norm(x))


class _TemporalBlock(nn.Module):
    """Pre-norm residual block: depthwise dilated conv over time, then a pointwise MLP."""

    def __init__(self, width: int, kernel_size: int, dilation: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.conv = nn.Conv1d(width, width, kernel_size, padding=dilation * (kernel_size - 1) // 2,
                              dilation=dilation, groups=width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(2 * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(self.norm(x).transpose(1, 2)).transpose(1, 2)
        return x + self.mlp(h)

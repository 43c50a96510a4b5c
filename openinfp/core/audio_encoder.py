"""`AudioFeatureEncoder`: the learnable temporal encoder of audio features in the guider.

The audio conditioner (:mod:`openinfp.conditioners.audio`) turns both tracks into
deterministic features ``[T, F]``; this encoder (``[B, T, F] -> [B, T, D]``) lives inside
the interactive motion guider, so it is trained and checkpointed with the motion model.
It lives in core because the guider owns it; :mod:`openinfp.conditioners.audio`
re-exports it under its old name.
"""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn


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

"""A small learned frame-level viseme classifier over the acoustic feature columns.

PocketSphinx phone recognition (:mod:`openinfp.audio.phones`) makes hard decisions that
are often wrong on real voices; its visemes explain little of a real speaker's lip
motion (docs/MODELS.md, "Where the lip-sync ceiling lies"). :class:`VisemeNet` instead
reads the ``audio`` conditioner's per-frame features (:func:`openinfp.conditioners.
audio_features.track_features`, ``F = 49`` columns at the motion frame rate) and gives
soft posteriors over the ``V = 15`` visemes of :mod:`openinfp.data.visemes` plus a
jaw-opening estimate (the synthetic lip rules' ``jawOpen`` of the aligned visemes).

It is trained (:mod:`openinfp.audio.viseme_train`) on real speech with phone timings
from PocketSphinx forced alignment of transcripts (recognition where none) and on eSpeak
speech with exactly known phonemes; the weights ship in the package as a weights-only
safetensors file (``viseme_net.safetensors``, about 60k parameters).

Look-ahead is bounded: the first layer sees :data:`LOOKAHEAD` frames ahead (80 ms at
25 fps), every later layer is causal, so a streaming caller that holds back
``LOOKAHEAD`` frames gets exactly the offline output (given :data:`LEFT_CONTEXT` frames
of history).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import nn

from openinfp.core.errors import InputError

WEIGHTS_FILE = Path(__file__).resolve().parent / "viseme_net.safetensors"
"""The shipped weights (safetensors: tensors only, no code)."""

IN_FEATURES = 49
"""Input columns: the default ``audio`` conditioner's features (40 mels + 9)."""
NUM_VISEMES = 15
HIDDEN = 64
KERNEL_IN = 5
LOOKAHEAD = KERNEL_IN // 2
"""Frames of future audio one output frame depends on (the first layer only)."""
DILATIONS = (2, 4, 8)
LEFT_CONTEXT = LOOKAHEAD + sum(2 * d for d in DILATIONS)
"""Frames of past audio one output frame depends on (30 = 1.2 s at 25 fps)."""


def output_names() -> list[str]:
    """Names of the :class:`VisemeNet` output columns: ``vnet_<viseme>`` then ``vnet_jaw``."""
    from openinfp.data.visemes import VISEMES

    return [f"vnet_{v}" for v in VISEMES] + ["vnet_jaw"]


class _CausalBlock(nn.Module):
    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.pad = 2 * dilation
        self.conv = nn.Conv1d(channels, channels, 3, dilation=dilation)
        self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.act(self.conv(nn.functional.pad(x, (self.pad, 0))))


class VisemeNet(nn.Module):
    """Per-frame viseme logits and jaw opening from ``[B, T, 49]`` acoustic features.

    Input features are standardised with the training set's ``mean``/``std`` buffers
    (stored with the weights). Output: ``[B, T, V + 1]``: ``V`` viseme logits, then the
    jaw-opening estimate (rule ``jawOpen`` units, about 0..0.6).
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(IN_FEATURES))
        self.register_buffer("std", torch.ones(IN_FEATURES))
        self.inp = nn.Conv1d(IN_FEATURES, HIDDEN, KERNEL_IN)
        self.blocks = nn.ModuleList(_CausalBlock(HIDDEN, d) for d in DILATIONS)
        self.out = nn.Conv1d(HIDDEN, NUM_VISEMES + 1, 1)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        x = ((feats - self.mean) / self.std).transpose(1, 2)  # [B, F, T]
        x = nn.functional.gelu(self.inp(nn.functional.pad(x, (KERNEL_IN - 1 - LOOKAHEAD, LOOKAHEAD),
                                                          mode="replicate")))
        for block in self.blocks:
            x = block(x)
        return self.out(x).transpose(1, 2)


def load_viseme_net(path: Optional[Path] = None) -> VisemeNet:
    """The shipped (or given) weights in eval mode; a clear error if the file is missing."""
    from safetensors.torch import load_file

    path = Path(path) if path is not None else WEIGHTS_FILE
    if not path.is_file():
        raise InputError(f"viseme net: weights file {path} not found")
    net = VisemeNet()
    net.load_state_dict(load_file(str(path)))
    return net.eval()


@lru_cache(maxsize=1)
def _shipped() -> VisemeNet:
    return load_viseme_net()


def viseme_evidence(features: np.ndarray, net: Optional[VisemeNet] = None) -> np.ndarray:
    """``[T, 49]`` acoustic features -> ``[T, V + 1]`` float32: viseme posteriors and jaw opening.

    Posteriors (softmax) sum to 1 per frame; the last column is the jaw estimate.
    Deterministic (no dropout, float32 CPU).
    """
    feats = np.asarray(features, dtype=np.float32)
    if feats.ndim != 2 or feats.shape[1] != IN_FEATURES:
        raise InputError(f"viseme net: expected [T, {IN_FEATURES}] features, got {feats.shape}")
    if feats.shape[0] == 0:
        return np.zeros((0, NUM_VISEMES + 1), np.float32)
    net = net or _shipped()
    with torch.no_grad():
        out = net(torch.from_numpy(feats)[None])[0]
    post = torch.softmax(out[:, :NUM_VISEMES], dim=1)
    return torch.cat([post, out[:, NUM_VISEMES:]], dim=1).numpy().astype(np.float32)

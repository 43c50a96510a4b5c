"""The optional ``wav2vec2`` audio backend: hidden states of a local pretrained model.

Loads a wav2vec2-family model (``Wav2Vec2Model``, HuBERT, WavLM, ... anything
``transformers.AutoModel`` opens that takes 16 kHz ``input_values``) from a LOCAL folder
written by ``save_pretrained``; nothing is downloaded. Both tracks are encoded, the
chosen hidden layer (50 Hz) is averaged onto the motion frames, and two frame token
sets come back (``role="agent"`` and ``"partner"``), like the ``audio`` conditioner.

The tokens are named ``token_name`` (``"wav2vec2"`` by default) so both backends can be
used together; the guider routes frame tokens with a role to its memory banks.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from openinfp.conditioners.options import Wav2Vec2ConditionerOptions
from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import ConfigError, DependencyError, InputError
from openinfp.core.interfaces import ConditionInputs


@lru_cache(maxsize=2)
def _load(model_path: str, device: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from transformers import AutoModel
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise DependencyError("the wav2vec2 conditioner needs the transformers package") from exc
    try:
        model = AutoModel.from_pretrained(model_path, local_files_only=True)
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"wav2vec2 conditioner: cannot load a model from {model_path}: {first}") from None
    normalize = True
    try:
        from transformers import AutoFeatureExtractor

        extractor = AutoFeatureExtractor.from_pretrained(model_path, local_files_only=True)
        normalize = bool(getattr(extractor, "do_normalize", True))
    except (OSError, ValueError):
        pass  # no preprocessor_config.json: use the wav2vec2 default (zero mean, unit variance)
    return model.to(device).eval(), normalize


class Wav2Vec2Conditioner:
    """Frame tokens ``[T, H]`` for both tracks from a local wav2vec2-style model.

    Attributes:
        name: ``token_name`` (``"wav2vec2"``).
        feature_dim: the model's hidden size ``H`` (known after loading).
    """

    def __init__(self, options: Optional[Wav2Vec2ConditionerOptions] = None) -> None:
        self.options = options or Wav2Vec2ConditionerOptions()
        path = Path(self.options.model_path).expanduser() if self.options.model_path else None
        if path is None or not (path / "config.json").is_file():
            raise ConfigError(
                f"wav2vec2 conditioner: model_path {self.options.model_path!r} is not a folder with config.json; "
                "point it at a local save_pretrained() folder (nothing is downloaded)")
        if self.options.chunk_s < 1.0:
            raise ConfigError(f"wav2vec2 conditioner: chunk_s must be at least 1 s, got {self.options.chunk_s}")
        self.name = self.options.token_name
        self.model, self._normalize = _load(str(path.resolve()), self.options.device)
        self.feature_dim = int(self.model.config.hidden_size)
        n_states = int(getattr(self.model.config, "num_hidden_layers", 0)) + 1
        if not -n_states <= self.options.layer < n_states:
            raise ConfigError(f"wav2vec2 conditioner: layer {self.options.layer} does not exist; the model has "
                              f"{n_states} hidden states (0..{n_states - 1}, or negative from the end)")
        self.frame_rate = SAMPLE_RATE / float(np.prod(getattr(self.model.config, "conv_stride", [320])))

    def encode(self, inputs: ConditionInputs, num_frames: int) -> list[ConditionTokens]:
        """Two token sets ``[num_frames, H]`` (agent, partner); ``[]`` without audio."""
        audio = inputs.audio
        if audio is None:
            return []
        if num_frames < 1:
            raise InputError(f"wav2vec2 conditioner: num_frames must be at least 1, got {num_frames}")
        out = []
        for role, wave in (("agent", audio.agent), ("partner", audio.partner)):
            tokens = self.track_tokens(wave, float(inputs.fps), num_frames)
            out.append(ConditionTokens(self.name, tokens, kind="frame", role=role))
        return out

    def track_tokens(self, wave16k: np.ndarray, fps: float, num_frames: int) -> torch.Tensor:
        """One track -> ``[num_frames, H]`` float32 (hidden states averaged per motion frame)."""
        from openinfp.audio.activity import resample_steps

        wave = np.asarray(wave16k, dtype=np.float32)
        stride = int(round(SAMPLE_RATE / self.frame_rate))
        chunk = max(1, int(self.options.chunk_s * SAMPLE_RATE) // stride) * stride
        pieces = []
        with torch.inference_mode():
            for start in range(0, max(wave.shape[0], 1), chunk):
                seg = wave[start:start + chunk]
                # The CNN yields one state per `stride` samples minus its edge; repeat the
                # last state so every chunk spans its own duration and chunks stay aligned.
                expected = -(-max(seg.shape[0], 1) // stride)
                if seg.shape[0] < 400:  # shorter than the CNN's receptive field
                    seg = np.pad(seg, (0, 400 - seg.shape[0]))
                if self._normalize:
                    seg = (seg - seg.mean()) / np.sqrt(seg.var() + 1e-7)
                x = torch.from_numpy(np.ascontiguousarray(seg))[None].to(self.options.device)
                hidden = self.model(x, output_hidden_states=True).hidden_states[self.options.layer]
                states = hidden[0].float().cpu().numpy()
                if states.shape[0] < expected:
                    states = np.concatenate([states, np.repeat(states[-1:], expected - states.shape[0], 0)])
                pieces.append(states[:expected])
        states = np.concatenate(pieces, axis=0)
        return torch.from_numpy(resample_steps(states, self.frame_rate, fps, num_frames))

"""Interactive motion guider (INFP stage 2, first half).

Both people's frame-aligned audio features go through one shared audio encoder
(:class:`openinfp.core.audio_encoder.AudioFeatureEncoder`, trained with the guider); the
agent's track then queries a learnable *verbal* memory bank and the partner's track a
*non-verbal* memory bank by cross-attention. The two read-outs are added and passed
through an MLP into per-frame motion features for the DiT. No role label enters the
network: which bank a track reads from is the only thing that tells the tracks apart,
so speaking and listening behaviour emerge from which track is active.

Style tokens (text / image, global) are projected by name, pooled, and modulate both
banks (FiLM: ``bank * (1 + gamma) + beta``, zero-initialised so an absent style is a
no-op). ``use_memory_banks=False`` is the ablation: each track is projected by its own
linear layer instead of reading a bank.

Paper: INFP (Zhu et al., "INFP: Audio-Driven Interactive Head Generation in Dyadic Conversations", arXiv:2412.04037),
Method, second stage "Audio-Guided Motion Generation", its "interactive motion guider":
dual-track audio (the agent's and the partner's) reads verbal and non-verbal memory
banks, so the agent's role (speaking, listening) follows the audio with no role label.
Where this code departs from the paper:

* the motion it guides is an explicit motion space (head pose + ARKit-52, or SMPL-X),
  not the latent codes of INFP's first stage ("Motion-Based Head Imitation");
* the audio features are hand-made (log-mel, energy, voicing, pitch, onset, activity)
  through a small learned encoder (:mod:`openinfp.core.audio_encoder`), not a
  pretrained speech model;
* style prompts (text, image) modulate the banks FiLM-style: an openinfp extension;
* the speaking read-out (``speaking_logits``) is an auxiliary head for annotations and
  plots, trained with a small loss (``train.speaking_weight``): not in the paper.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import torch
from torch import nn

from openinfp.core.attention import MultiHeadAttention
from openinfp.core.audio_encoder import AudioFeatureEncoder
from openinfp.core.behaviour import BEHAVIOUR_TOKEN_NAME
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError
from openinfp.core.model_config import GuiderConfig

AUDIO_TOKEN_NAME = "audio"
"""Name of the audio conditioner's tokens (two sets: one per participant track)."""

StyleBatch = Mapping[str, tuple[torch.Tensor, torch.Tensor]]
"""Style tokens by name: ``(tokens [B, N, D], mask [B, N] bool)``."""


@dataclass
class GuiderInputs:
    """Batched guider inputs.

    Attributes:
        agent_audio: ``[B, T, F]`` features of the agent's own track, or ``None``.
        partner_audio: ``[B, T, F]`` features of the partner's track, or ``None``.
        style: global tokens by conditioner name, each ``(tokens [B, N, D], mask [B, N])``.
        num_frames: ``T``.
    """

    agent_audio: Optional[torch.Tensor]
    partner_audio: Optional[torch.Tensor]
    style: dict[str, tuple[torch.Tensor, torch.Tensor]]
    num_frames: int

    def to(self, device: torch.device | str) -> "GuiderInputs":
        mv = lambda x: None if x is None else x.to(device)  # noqa: E731
        return GuiderInputs(mv(self.agent_audio), mv(self.partner_audio),
                            {k: (t.to(device), m.to(device)) for k, (t, m) in self.style.items()},
                            self.num_frames)

    def crop(self, start: int, stop: int) -> "GuiderInputs":
        """Frames ``[start, stop)`` of the frame-aligned inputs (style unchanged)."""
        cut = lambda x: None if x is None else x[:, start:stop]  # noqa: E731
        return GuiderInputs(cut(self.agent_audio), cut(self.partner_audio), dict(self.style), stop - start)


@dataclass
class GuiderOutput:
    """Per-frame guider output.

    Attributes:
        features: ``[B, T, W]`` motion features for the DiT.
        speaking_logits: ``[B, T, 2]`` logits of (agent speaking, partner speaking),
            an auxiliary read-out used for annotations and plots.
    """

    features: torch.Tensor
    speaking_logits: torch.Tensor


class BankReadout(MultiHeadAttention):
    """Cross-attention of per-frame queries to a (style-modulated) memory bank
    (the shared :class:`~openinfp.core.attention.MultiHeadAttention` with query norm)."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        if width % heads:
            raise ValueError(f"guider width {width} must be divisible by heads {heads}")
        super().__init__(width, heads, dropout=dropout, query_norm=True)

    def forward(self, query: torch.Tensor, bank: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """``query [B, T, W]``, ``bank [B, K, W]`` -> ``[B, T, W]``."""
        return super().forward(query, self.keys_values(bank))


class InteractiveMotionGuider(nn.Module):
    """Verbal / non-verbal memory banks queried by the two audio tracks.

    Built from a :class:`GuiderConfig` (the registered ``interactive`` guider's factory).
    ``config.token_dims["audio"]`` must be set (> 0) before building.
    """

    def __init__(self, config: GuiderConfig) -> None:
        super().__init__()
        audio_dim = int(config.token_dims.get(AUDIO_TOKEN_NAME, 0))
        if audio_dim <= 0:
            raise InputError("guider: token_dims['audio'] must be the audio feature width (> 0); "
                             "training fills it in from the data")
        self.config = config
        w = config.width
        # shared by both tracks: the tracks differ only in which bank they read
        self.audio_encoder = AudioFeatureEncoder(audio_dim, w, num_layers=config.audio_layers,
                                                 kernel_size=config.audio_kernel, dropout=config.dropout)
        if config.use_memory_banks:
            self.verbal_bank = nn.Parameter(torch.randn(config.bank_size, w) * 0.5)
            self.nonverbal_bank = nn.Parameter(torch.randn(config.bank_size, w) * 0.5)
            self.verbal_read = BankReadout(w, config.heads, config.dropout)
            self.nonverbal_read = BankReadout(w, config.heads, config.dropout)
        else:
            self.verbal_proj = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, w))
            self.nonverbal_proj = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, w))
        self.style_proj = nn.ModuleDict({
            name: nn.Linear(dim, w) for name, dim in sorted(config.token_dims.items())
            if name not in (AUDIO_TOKEN_NAME, BEHAVIOUR_TOKEN_NAME) and dim > 0
        })
        self.style_film = nn.Linear(w, 4 * w)
        nn.init.zeros_(self.style_film.weight)
        nn.init.zeros_(self.style_film.bias)
        self.fuse = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, 2 * w), nn.GELU(), nn.Linear(2 * w, w))
        self.speaking_head = nn.Linear(w, 2)
        self._warned: set[str] = set()

    @property
    def width(self) -> int:
        return self.config.width

    @property
    def receptive_radius(self) -> int:
        """Frames on each side that one output frame depends on."""
        return self.audio_encoder.receptive_field // 2

    # ----- inputs ---------------------------------------------------------------------
    def prepare(self, conditions: Sequence[ConditionTokens], num_frames: int) -> GuiderInputs:
        """Route a list of :class:`ConditionTokens` into batched (B=1) inputs.

        Audio tokens go by the track they came from (``role``); global tokens are style
        tokens, projected by name. Tokens of a name this model was not trained with are
        skipped with a warning; ``behaviour`` tokens are skipped silently (the generator
        applies them to its output, :mod:`openinfp.core.behaviour`).

        Raises:
            InputError: frame tokens with the wrong length or width, duplicated tracks.
        """
        agent = partner = None
        style: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}
        for c in conditions:
            if c.name == AUDIO_TOKEN_NAME and c.kind == "frame":
                want = self.config.token_dims[AUDIO_TOKEN_NAME]
                if c.length != num_frames:
                    raise InputError(f"audio tokens ({c.role}) have {c.length} frames, expected {num_frames}")
                if c.dim != want:
                    raise InputError(f"audio tokens ({c.role}) have width {c.dim}; this model was trained "
                                     f"with {want} (use the same audio conditioner options)")
                feats = (c.tokens.float() * c.valid_mask()[:, None]).unsqueeze(0)
                if c.role == "agent":
                    if agent is not None:
                        raise InputError("two sets of agent audio tokens given")
                    agent = feats
                elif c.role == "partner":
                    if partner is not None:
                        raise InputError("two sets of partner audio tokens given")
                    partner = feats
                else:
                    raise InputError("audio tokens must come from the agent's or the partner's track (role)")
            elif c.kind == "global" and c.name in self.style_proj:
                want = self.config.token_dims[c.name]
                if c.dim != want:
                    raise InputError(f"{c.name!r} tokens have width {c.dim}; this model expects {want}")
                style[c.name] = (c.tokens.float().unsqueeze(0), c.valid_mask().unsqueeze(0))
            elif c.name == BEHAVIOUR_TOKEN_NAME:
                continue
            elif c.name not in self._warned:
                self._warned.add(c.name)
                warnings.warn(f"motion guider: ignoring {c.kind} tokens {c.name!r}, which this model "
                              "was not trained with", stacklevel=2)
        return GuiderInputs(agent, partner, style, num_frames)

    # ----- network --------------------------------------------------------------------
    def _style_vector(self, style: StyleBatch, batch: int, device: torch.device) -> Optional[torch.Tensor]:
        """Masked mean of all projected style tokens: ``[B, W]``, or ``None``."""
        total = None
        count = None
        for name, (tokens, mask) in sorted(style.items()):
            if name not in self.style_proj:
                continue
            proj = self.style_proj[name](tokens) * mask[..., None]
            s = proj.sum(1)
            n = mask.sum(1, keepdim=True).float()
            total = s if total is None else total + s
            count = n if count is None else count + n
        if total is None:
            return None
        return total / count.clamp_min(1.0)

    def _banks(self, style_vec: Optional[torch.Tensor], batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        verbal = self.verbal_bank.unsqueeze(0).expand(batch, -1, -1)
        nonverbal = self.nonverbal_bank.unsqueeze(0).expand(batch, -1, -1)
        if style_vec is not None:
            gv, bv, gn, bn = self.style_film(style_vec).unsqueeze(1).chunk(4, dim=-1)
            verbal = verbal * (1 + gv) + bv
            nonverbal = nonverbal * (1 + gn) + bn
        return verbal, nonverbal

    def forward(self, inputs: GuiderInputs) -> GuiderOutput:
        """Per-frame motion features ``[B, T, W]`` from both tracks (+ style)."""
        ref = inputs.agent_audio if inputs.agent_audio is not None else inputs.partner_audio
        if ref is None:
            raise InputError("the motion guider needs audio tokens of at least one participant")
        b, t = ref.shape[0], inputs.num_frames
        style_vec = self._style_vector(inputs.style, b, ref.device)
        fused = torch.zeros(b, t, self.width, device=ref.device, dtype=ref.dtype)
        if self.config.use_memory_banks:
            verbal, nonverbal = self._banks(style_vec, b)
            if inputs.agent_audio is not None:
                fused = fused + self.verbal_read(self.audio_encoder(inputs.agent_audio), verbal)
            if inputs.partner_audio is not None:
                fused = fused + self.nonverbal_read(self.audio_encoder(inputs.partner_audio), nonverbal)
        else:
            if inputs.agent_audio is not None:
                fused = fused + self.verbal_proj(self.audio_encoder(inputs.agent_audio))
            if inputs.partner_audio is not None:
                fused = fused + self.nonverbal_proj(self.audio_encoder(inputs.partner_audio))
            if style_vec is not None:
                gamma, beta = self.style_film(style_vec).unsqueeze(1).chunk(4, dim=-1)[:2]
                fused = fused * (1 + gamma) + beta
        features = fused + self.fuse(fused)
        return GuiderOutput(features, self.speaking_head(features))

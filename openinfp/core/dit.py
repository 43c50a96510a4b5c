"""Motion diffusion transformer (INFP stage 2, second half).

A small transformer denoiser over one window of motion frames. The token sequence is
``[context frames (clean, from the previous window) | window frames (noisy)]``; every
token gets a sinusoidal frame-position encoding, the guider's feature of its frame
(added), and attends to the guider features of the whole span by cross-attention.
The diffusion timestep modulates every block (adaptive layer norm, DiT-style). The
network predicts the clean window (``x0``), which keeps few-step DDIM sampling stable.

Classifier-free guidance: in training, the guider features of a whole sample are
replaced by a learned null feature with probability ``cond_dropout``; at sampling,
``guidance_scale != 1`` mixes the conditional and the null prediction.

Paper: INFP (Zhu et al., "INFP: Audio-Driven Interactive Head Generation in Dyadic Conversations", arXiv:2412.04037),
Method, second stage "Audio-Guided Motion Generation", its conditional diffusion
transformer that denoises motion given the guider's features. Where this code departs
from the paper or makes its own choices:

* it predicts the clean window ``x0`` (not the noise), for stable few-step DDIM;
* the timestep enters by adaptive layer norm (DiT-style shift/scale/gate);
* long sequences are chained windows with clean context frames and a cross-faded
  overlap (:mod:`openinfp.core.sampling`);
* attention is the shared :class:`~openinfp.core.attention.MultiHeadAttention`.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

from openinfp.core.attention import MultiHeadAttention
from openinfp.core.model_config import DiTConfig


def sinusoidal(positions: torch.Tensor, dim: int, max_period: float = 10_000.0) -> torch.Tensor:
    """``[...]`` positions/timesteps -> ``[..., dim]`` sin/cos features."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=positions.device) / half)
    args = positions.float()[..., None] * freqs
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


class DiTBlock(nn.Module):
    """Self-attention, cross-attention to guider features, MLP; adaLN from the timestep."""

    def __init__(self, width: int, heads: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width, elementwise_affine=False)
        self.self_attn = MultiHeadAttention(width, heads)
        self.norm2 = nn.LayerNorm(width)
        self.cross_attn = MultiHeadAttention(width, heads)
        self.norm3 = nn.LayerNorm(width, elementwise_affine=False)
        self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(4 * width, width))
        # shift/scale/gate for the self-attention and the MLP branches
        self.ada = nn.Linear(width, 6 * width)
        nn.init.zeros_(self.ada.weight)
        nn.init.zeros_(self.ada.bias)

    def forward(self, x: torch.Tensor, temb: torch.Tensor, cond_kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        s1, c1, g1, s2, c2, g2 = self.ada(temb).unsqueeze(1).chunk(6, dim=-1)
        h = self.norm1(x) * (1 + c1) + s1
        x = x + g1.add(1) * self.self_attn(h, self.self_attn.keys_values(h))
        x = x + self.cross_attn(self.norm2(x), cond_kv)
        h = self.norm3(x) * (1 + c2) + s2
        return x + g2.add(1) * self.mlp(h)


class MotionDiT(nn.Module):
    """Denoiser ``(noisy window, t, context, guider features) -> clean window``.

    Args:
        config: sizes and windowing (:class:`DiTConfig`).
        motion_dim: ``D`` of the motion space.
        cond_dim: width of the guider's features.
    """

    def __init__(self, config: DiTConfig, motion_dim: int, cond_dim: int) -> None:
        super().__init__()
        if config.width % config.heads:
            raise ValueError(f"DiT width {config.width} must be divisible by heads {config.heads}")
        if not 0 <= config.context <= config.window:
            raise ValueError(f"DiT context ({config.context}) must be between 0 and the window ({config.window})")
        self.config = config
        self.motion_dim = motion_dim
        self.cond_dim = cond_dim
        w = config.width
        self.in_proj = nn.Linear(motion_dim, w)
        self.ctx_proj = nn.Linear(motion_dim, w)
        self.role_embed = nn.Parameter(torch.zeros(3, w))  # 0: context, 1: missing context, 2: window frame
        self.null_context = nn.Parameter(torch.zeros(w))
        self.cond_proj = nn.Sequential(nn.LayerNorm(cond_dim), nn.Linear(cond_dim, w))
        self.null_cond = nn.Parameter(torch.zeros(cond_dim))
        self.t_mlp = nn.Sequential(nn.Linear(w, w), nn.SiLU(), nn.Linear(w, w))
        self.blocks = nn.ModuleList(DiTBlock(w, config.heads, config.dropout) for _ in range(config.depth))
        self.final_norm = nn.LayerNorm(w, elementwise_affine=False)
        self.final_ada = nn.Linear(w, 2 * w)
        nn.init.zeros_(self.final_ada.weight)
        nn.init.zeros_(self.final_ada.bias)
        self.out = nn.Linear(w, motion_dim)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        nn.init.normal_(self.role_embed, std=0.02)

    def encode_condition(self, cond: torch.Tensor, drop: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Guider features ``[B, S, C]`` -> condition tokens ``[B, S, W]`` (with positions).

        ``drop`` (bool ``[B]``) replaces a sample's features by the null feature.
        """
        if drop is not None:
            cond = torch.where(drop[:, None, None], self.null_cond.to(cond).expand_as(cond), cond)
        pos = sinusoidal(torch.arange(cond.shape[1], device=cond.device), self.config.width)
        return self.cond_proj(cond) + pos

    def cross_keys_values(self, cond_tokens: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per-block cross-attention keys/values; constant over the diffusion steps of a window."""
        return [blk.cross_attn.keys_values(cond_tokens) for blk in self.blocks]

    def forward(
        self,
        noisy: torch.Tensor,
        timesteps: torch.Tensor,
        context: Optional[torch.Tensor],
        cond_tokens: torch.Tensor,
        cross_kv: Optional[list[tuple[torch.Tensor, torch.Tensor]]] = None,
        context_valid: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Predict the clean window.

        Args:
            noisy: ``[B, N, D]`` noisy normalised motion of the window.
            timesteps: ``[B]`` diffusion timesteps.
            context: ``[B, C, D]`` clean normalised motion of the previous window's last
                frames, or ``None`` (first window).
            cond_tokens: ``[B, C + N, W]`` from :meth:`encode_condition` (frames of the
                context span then the window).
            cross_kv: cached :meth:`cross_keys_values` of ``cond_tokens`` (optional).
            context_valid: bool ``[B]``; ``False`` treats that sample as having no context.

        Returns:
            ``[B, N, D]`` predicted clean window.
        """
        b, n, _ = noisy.shape
        c = self.config.context
        w = self.config.width
        if cond_tokens.shape[1] != c + n:
            raise ValueError(f"cond_tokens must cover {c} context + {n} window frames, got {cond_tokens.shape[1]}")
        x_win = self.in_proj(noisy) + self.role_embed[2]
        missing = self.null_context + self.role_embed[1]
        if context is None:
            x_ctx = missing.expand(b, c, w)
        else:
            x_ctx = self.ctx_proj(context) + self.role_embed[0]
            if context_valid is not None:
                x_ctx = torch.where(context_valid[:, None, None], x_ctx, missing.expand(b, c, w))
        x = torch.cat([x_ctx, x_win], dim=1) + cond_tokens
        temb = self.t_mlp(sinusoidal(timesteps, w))
        if cross_kv is None:
            cross_kv = self.cross_keys_values(cond_tokens)
        for blk, kv in zip(self.blocks, cross_kv):
            x = blk(x, temb, kv)
        shift, scale = self.final_ada(temb).unsqueeze(1).chunk(2, dim=-1)
        h = self.final_norm(x[:, c:]) * (1 + scale) + shift
        return self.out(h)

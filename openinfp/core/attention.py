"""One multi-head attention block, shared by the motion DiT and the guider's bank look-ups.

Queries come from one sequence and keys/values from another (or the same one):
self-attention and cross-attention in the DiT (:mod:`openinfp.core.dit`), and the
per-frame queries of the interactive motion guider reading a memory bank
(:mod:`openinfp.core.guider`, INFP's "interactive motion guider"). The
parameter names (``q``, ``kv``, ``out`` and, with ``query_norm``, ``norm``) are
the checkpoints' own: do not rename them.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class MultiHeadAttention(nn.Module):
    """Multi-head scaled dot-product attention with separate query and key/value sources.

    Args:
        width: ``W``, the feature width of queries, keys and values (divisible by ``heads``).
        heads: attention heads.
        dropout: attention dropout, in training only.
        query_norm: layer-normalise the queries first (the guider's bank read-out).
    """

    def __init__(self, width: int, heads: int, dropout: float = 0.0, query_norm: bool = False) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"attention width {width} must be divisible by heads {heads}")
        self.heads = heads
        if query_norm:  # created first: the checkpoints' parameter order
            self.norm = nn.LayerNorm(width)
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)
        self.dropout = dropout
        self.query_norm = query_norm

    def keys_values(self, source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``source [B, S, W]`` -> keys and values, ``[B, heads, S, W / heads]`` each (reusable)."""
        b, s, w = source.shape
        k, v = self.kv(source).view(b, s, 2, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        return k, v

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """``x [B, T, W]`` queries attend to ``kv`` (from :meth:`keys_values`) -> ``[B, T, W]``."""
        b, t, w = x.shape
        if self.query_norm:
            x = self.norm(x)
        q = self.q(x).view(b, t, self.heads, w // self.heads).transpose(1, 2)
        if self.training and self.dropout > 0:
            o = F.scaled_dot_product_attention(q, kv[0], kv[1], dropout_p=self.dropout)
        else:
            o = F.scaled_dot_product_attention(q, kv[0], kv[1])
        return self.out(o.transpose(1, 2).reshape(b, t, w))

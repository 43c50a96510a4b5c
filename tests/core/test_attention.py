"""The shared attention block: the DiT and the guider use one implementation."""

from __future__ import annotations

import torch

from openinfp.core.attention import MultiHeadAttention
from openinfp.core.dit import DiTBlock
from openinfp.core.guider import BankReadout


def test_dit_and_guider_share_the_attention_block():
    block = DiTBlock(32, 4, 0.0)
    assert type(block.self_attn) is MultiHeadAttention and type(block.cross_attn) is MultiHeadAttention
    assert isinstance(BankReadout(32, 4, 0.0), MultiHeadAttention)


def test_parameter_names_match_the_checkpoints():
    assert list(dict(BankReadout(32, 4, 0.1).named_parameters())) == [
        "norm.weight", "norm.bias", "q.weight", "q.bias", "kv.weight", "kv.bias", "out.weight", "out.bias"]
    assert list(dict(MultiHeadAttention(32, 4).named_parameters())) == [
        "q.weight", "q.bias", "kv.weight", "kv.bias", "out.weight", "out.bias"]


def test_matches_a_written_out_attention():
    torch.manual_seed(0)
    att = MultiHeadAttention(16, 2).eval()
    x, src = torch.randn(3, 5, 16), torch.randn(3, 7, 16)
    q = att.q(x).view(3, 5, 2, 8).transpose(1, 2)
    k, v = att.kv(src).view(3, 7, 2, 2, 8).permute(2, 0, 3, 1, 4)
    weights = torch.softmax(q @ k.transpose(-1, -2) / 8 ** 0.5, dim=-1)
    expected = att.out((weights @ v).transpose(1, 2).reshape(3, 5, 16))
    torch.testing.assert_close(att(x, att.keys_values(src)), expected)

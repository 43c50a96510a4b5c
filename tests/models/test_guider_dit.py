"""The interactive motion guider and the motion DiT: shapes, routing, ablation switch."""

from __future__ import annotations

import pytest
import torch

from openinfp.core.conditions import ConditionTokens
from openinfp.core.dit import MotionDiT
from openinfp.core.errors import InputError
from openinfp.core.guider import InteractiveMotionGuider

from .conftest import FEAT, audio_tokens, tiny_configs


def _guider(banks: bool = True) -> InteractiveMotionGuider:
    torch.manual_seed(0)
    return InteractiveMotionGuider(tiny_configs(banks=banks)[0]).eval()


def test_guider_features_and_routing():
    g = _guider()
    T = 30
    toks = audio_tokens(T)
    inputs = g.prepare(toks, T)
    assert inputs.agent_audio.shape == (1, T, FEAT) and inputs.partner_audio.shape == (1, T, FEAT)
    out = g(inputs)
    assert out.features.shape == (1, T, 32) and out.speaking_logits.shape == (1, T, 2)
    # roles come only from which track is which: swapping the tracks changes the features
    swapped = [ConditionTokens("audio", toks[1].tokens, role="agent"),
               ConditionTokens("audio", toks[0].tokens, role="partner")]
    out2 = g(g.prepare(swapped, T))
    assert not torch.allclose(out.features, out2.features, atol=1e-4)
    # the agent track reads the verbal bank: changing the verbal bank changes the output
    with torch.no_grad():
        g.verbal_bank.add_(1.0)
    assert not torch.allclose(g(inputs).features, out.features, atol=1e-4)


def test_partner_only_audio_and_errors():
    g = _guider()
    T = 12
    only_partner = g.prepare(audio_tokens(T)[1:], T)
    assert only_partner.agent_audio is None
    assert g(only_partner).features.shape == (1, T, 32)
    with pytest.raises(InputError, match="frames"):
        g.prepare(audio_tokens(T), T + 1)
    with pytest.raises(InputError, match="width"):
        g.prepare(audio_tokens(T, dim=FEAT + 1), T)
    with pytest.raises(InputError, match="two sets of agent"):
        g.prepare(audio_tokens(T)[:1] * 2, T)
    with pytest.raises(InputError, match="at least one participant"):
        g(g.prepare([], T))


def test_style_tokens_modulate_banks_and_unknown_tokens_warn():
    g = _guider()
    T = 16
    toks = audio_tokens(T)
    base = g(g.prepare(toks, T)).features
    # FiLM is zero-initialised: a style token changes nothing until trained
    style = ConditionTokens("text", torch.randn(1, 8), kind="global")
    assert torch.allclose(g(g.prepare(toks + [style], T)).features, base, atol=1e-6)
    with torch.no_grad():
        g.style_film.weight.normal_(0, 0.2)
    assert not torch.allclose(g(g.prepare(toks + [style], T)).features, base, atol=1e-4)
    with pytest.warns(UserWarning, match="ignoring"):
        g.prepare(toks + [ConditionTokens("image", torch.randn(1, 5), kind="global")], T)


def test_memory_bank_ablation_switch():
    with_banks = _guider(True)
    without = _guider(False)
    names_with = {n for n, _ in with_banks.named_parameters()}
    names_without = {n for n, _ in without.named_parameters()}
    assert {"verbal_bank", "nonverbal_bank"} <= names_with
    assert not any("bank" in n for n in names_without)
    T = 10
    assert without(without.prepare(audio_tokens(T), T)).features.shape == (1, T, 32)


def test_dit_window_with_and_without_context():
    torch.manual_seed(0)
    _, d_cfg = tiny_configs()
    dit = MotionDiT(d_cfg, motion_dim=62, cond_dim=32).eval()
    with torch.no_grad():
        dit.out.weight.normal_(0, 0.1)
    b, c, n = 2, d_cfg.context, d_cfg.window
    cond = dit.encode_condition(torch.randn(b, c + n, 32))
    x = torch.randn(b, n, 62)
    t = torch.tensor([10, 900])
    ctx = torch.randn(b, c, 62)
    y1 = dit(x, t, ctx, cond)
    y0 = dit(x, t, None, cond)
    assert y1.shape == (b, n, 62)
    assert not torch.allclose(y1, y0)
    # context_valid=False is the same as no context
    y_masked = dit(x, t, ctx, cond, context_valid=torch.tensor([False, False]))
    assert torch.allclose(y_masked, y0, atol=1e-6)
    # the condition-dropout path replaces the guider features by the learned null feature
    dropped = dit.encode_condition(torch.randn(b, c + n, 32), drop=torch.tensor([True, True]))
    assert torch.allclose(dropped[0], dropped[1])
    with pytest.raises(ValueError, match="cover"):
        dit(x, t, ctx, cond[:, 1:])


def test_dit_rejects_context_longer_than_window():
    from openinfp.core.model_config import DiTConfig

    with pytest.raises(ValueError, match="context"):
        MotionDiT(DiTConfig(window=8, context=10, width=32, heads=2), 62, 32)

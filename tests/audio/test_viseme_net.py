"""The learned frame-level viseme classifier: shipped weights, shapes, streaming, what it hears."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.audio.viseme_net import (
    IN_FEATURES,
    LEFT_CONTEXT,
    LOOKAHEAD,
    NUM_VISEMES,
    WEIGHTS_FILE,
    VisemeNet,
    load_viseme_net,
    output_names,
    viseme_evidence,
)
from openinfp.core.errors import InputError
from openinfp.data.visemes import VISEMES


def _features(text: str, voice: str) -> np.ndarray:
    from openinfp.audio.espeak import synthesize
    from openinfp.audio.viseme_train import _features as track

    utt = synthesize(text, voice)
    return track(utt.wave, int(len(utt.wave) / 16000 * 25))


@pytest.fixture(scope="module")
def speech_features():
    return _features("Six spoons of fresh snow peas, and maybe a snack for her brother Bob.", "en-us")


def test_shipped_weights_are_tensors_only_and_small():
    from safetensors import safe_open

    with safe_open(str(WEIGHTS_FILE), framework="pt") as f:
        keys = set(f.keys())
    assert keys == set(VisemeNet().state_dict())
    net = load_viseme_net()
    assert sum(p.numel() for p in net.parameters()) < 150_000
    assert not net.training
    assert float(net.std.min()) > 0  # input statistics were stored with the weights


def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_viseme_net(tmp_path / "none.safetensors")


def test_shapes_posteriors_and_determinism(speech_features):
    out = viseme_evidence(speech_features)
    assert out.shape == (speech_features.shape[0], NUM_VISEMES + 1) == (speech_features.shape[0], len(output_names()))
    assert np.allclose(out[:, :NUM_VISEMES].sum(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(out, viseme_evidence(speech_features.copy()))
    assert viseme_evidence(np.zeros((0, IN_FEATURES), np.float32)).shape == (0, NUM_VISEMES + 1)
    with pytest.raises(InputError, match="expected"):
        viseme_evidence(np.zeros((5, 12), np.float32))


def test_look_ahead_is_bounded(speech_features):
    """Changing the input at frame k changes no output before k - LOOKAHEAD, and none after
    k + LEFT_CONTEXT: a streaming caller needs only that much past and future."""
    base = viseme_evidence(speech_features)
    k = speech_features.shape[0] // 2
    poked = speech_features.copy()
    poked[k] += 3.0
    diff = np.abs(viseme_evidence(poked) - base).max(axis=1)
    changed = np.flatnonzero(diff > 1e-6)
    assert changed.size and changed.min() >= k - LOOKAHEAD and changed.max() <= k + LEFT_CONTEXT


def test_live_source_matches_offline_where_the_future_has_arrived(speech_features):
    from openinfp.live.phonetic import LiveVisemeNet

    offline = viseme_evidence(speech_features)[:, :NUM_VISEMES]
    live = LiveVisemeNet()
    t, chunk, fresh = speech_features.shape[0], 4, 7  # live re-encodes its newest frames each step
    got = np.full_like(offline, np.nan)
    for arrived in range(chunk, t + 1, chunk):
        lo = max(0, arrived - chunk - fresh)
        got[lo:arrived] = live.source(lo)("agent", speech_features[lo:arrived], None, arrived - lo)
    settled = (t // chunk) * chunk - LOOKAHEAD
    np.testing.assert_allclose(got[:settled], offline[:settled], atol=1e-5)


def test_open_vowels_and_closed_lips_are_heard_differently():
    """A vowel-heavy sentence gives a wider jaw and more 'aa' than a bilabial-heavy one, which
    gives more 'PP' (lips closed), in two voices (the weights include eSpeak speech)."""
    pp, aa = VISEMES.index("PP"), VISEMES.index("aa")
    sil = VISEMES.index("sil")
    for voice in ("en-us", "en+f3"):
        means = []
        for text in ("Ah, ha! Father saw a large car on the farm.", "Mm, Bob, pop, mom, bump, bib, maybe, baby."):
            ev = viseme_evidence(_features(text, voice))
            speech = ev[:, sil] < 0.5
            means.append(ev[speech].mean(axis=0))
        open_, closed = means
        assert open_[-1] > closed[-1] + 0.03, voice
        assert closed[pp] > open_[pp] + 0.05, voice
        assert open_[aa] > closed[aa], voice


def test_phonetic_conditioner_with_net_visemes(speech_features):
    from openinfp.conditioners.options import PhoneticConditionerOptions
    from openinfp.conditioners.phonetic import PhoneticConditioner
    from openinfp.core.audio import ConversationAudio
    from openinfp.core.interfaces import ConditionInputs

    with pytest.raises(InputError, match="visemes"):
        PhoneticConditioner(PhoneticConditionerOptions(visemes="whisper"))
    cond = PhoneticConditioner(PhoneticConditionerOptions(visemes="net"))
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(16000 * 2)).astype(np.float32)
    audio = ConversationAudio(wave, np.zeros_like(wave), source="test")
    toks = cond.encode(ConditionInputs(audio=audio, fps=25.0), 50)
    assert [t.tokens.shape for t in toks] == [torch.Size([50, cond.feature_dim])] * 2
    post = toks[0].tokens[:, -NUM_VISEMES:].numpy()
    assert np.allclose(post.sum(axis=1), 1.0, atol=1e-5)
    expected = viseme_evidence(toks[0].tokens[:, :IN_FEATURES].numpy())[:, :NUM_VISEMES]
    np.testing.assert_allclose(post, expected, atol=1e-6)


@pytest.mark.slow
def test_live_session_streams_with_net_visemes(tmp_path):
    """A live session whose preset picks ``visemes: net`` streams motion causally, and its
    conditioner's posteriors are the net's (no PocketSphinx decoder is started)."""
    import openinfp.live.phonetic as live_phonetic
    from openinfp.audio.espeak import synthesize
    from openinfp.live.session import LiveSession

    preset = tmp_path / "net.yaml"
    preset.write_text("preset: net\nmotion_space: head\nconditioners:\n  - name: phonetic\n"
                      "    options:\n      visemes: net\nguider:\n  name: interactive\n", encoding="utf-8")
    calls = []
    original = live_phonetic.LiveVisemeNet.posteriors

    def spy(self, role, feats, first_frame):
        calls.append((role, first_frame, feats.shape))
        return original(self, role, feats, first_frame)

    live_phonetic.LiveVisemeNet.posteriors = spy
    try:
        session = LiveSession.start(None, render=False, preset=str(preset))
        wave = synthesize("Hello there, how was the trip? We drove along the coast.", "en-us").wave
        frames = []
        for s in range(0, wave.shape[0], 1600):
            frames += session.push(wave[s:s + 1600], np.zeros(min(1600, wave.shape[0] - s), np.float32))
    finally:
        live_phonetic.LiveVisemeNet.posteriors = original
    assert len(frames) >= int(wave.shape[0] / 16000 * 25) - 10
    assert {c[0] for c in calls} == {"agent", "partner"}
    assert all(shape[1] == IN_FEATURES for _, _, shape in calls)

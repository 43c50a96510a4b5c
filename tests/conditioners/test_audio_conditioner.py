"""The ``audio`` conditioner: shapes, frame alignment, determinism, content, speed; the encoder."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from openinfp.conditioners.audio import AUDIO_FEATURE_DIM, AudioConditioner, AudioFeatureEncoder
from openinfp.conditioners.audio_features import feature_names, track_features
from openinfp.core.audio import ConversationAudio
from openinfp.core.interfaces import Conditioner, ConditionInputs

NAMES = feature_names()
COL = {n: i for i, n in enumerate(NAMES)}
ENERGY = [COL[f"energy_{i}"] for i in range(4)]


def test_registered_and_protocol(registry):
    cond = registry.conditioner("audio")
    assert isinstance(cond, AudioConditioner) and isinstance(cond, Conditioner)
    assert cond.feature_dim == AUDIO_FEATURE_DIM == len(NAMES) == 49
    assert registry.conditioner("audio", {"n_mels": 64}).feature_dim == 73
    assert cond.encode(ConditionInputs(text="hi"), 10) == []


@pytest.mark.parametrize("fps", [25.0, 30.0])
def test_two_roles_frame_aligned_and_deterministic(talk, fps):
    conv, _ = talk
    cond = AudioConditioner()
    T = conv.num_frames(fps)
    tokens = cond.encode(ConditionInputs(audio=conv, fps=fps), T)
    assert [(t.name, t.role, t.kind) for t in tokens] == [("audio", "agent", "frame"), ("audio", "partner", "frame")]
    for tok in tokens:
        assert tuple(tok.tokens.shape) == (T, 49) and tok.tokens.dtype == torch.float32 and tok.mask is None
    again = cond.encode(ConditionInputs(audio=conv, fps=fps), T)
    for a, b in zip(tokens, again):
        assert torch.equal(a.tokens, b.tokens)
    # Asking for more frames than the audio covers: silence features, masked out.
    longer = cond.encode(ConditionInputs(audio=conv, fps=fps), T + 10)
    assert longer[0].tokens.shape[0] == T + 10 and longer[0].mask[:T].all() and not longer[0].mask[T + 1:].any()
    # (the track's loud level is re-measured with the extra silence: tiny differences only)
    torch.testing.assert_close(longer[0].tokens[:T - 2], tokens[0].tokens[:T - 2], atol=0.02, rtol=0)


def test_frame_alignment_of_a_tone_burst():
    fps, sr = 25.0, 16000
    wave = np.zeros(sr * 2, np.float32)
    start, stop = int(0.53 * sr), int(1.2 * sr)  # 0.53 s = frame 13 (0.52-0.56 s), its second quarter
    t = np.arange(stop - start) / sr
    wave[start:stop] = 0.3 * np.sin(2 * np.pi * 200 * t)
    feats = track_features(wave, 50, fps)
    energy = feats[:, ENERGY]
    loud = energy.max(axis=1) > -1.0
    assert np.nonzero(loud)[0][0] == 13 and np.nonzero(loud)[0][-1] == 29  # 1.2 s ends frame 29
    # Quarter-frame energies see the onset inside frame 13.
    assert energy[13, 0] < -3.0 and energy[13, 1:].min() > -0.5 and energy[12].max() < -3.0
    assert feats[:13, COL["voicing"]].max() == 0.0 and feats[15:28, COL["voicing"]].min() > 0.9
    f0 = 200 * 2 ** feats[15:28, COL["log_f0"]]
    np.testing.assert_allclose(f0, 200.0, rtol=0.01)


def test_features_follow_who_speaks(talk):
    conv, turns = talk
    cond = AudioConditioner()
    T = conv.num_frames()
    agent, partner = (t.tokens.numpy() for t in cond.encode(ConditionInputs(audio=conv), T))
    for turn in turns:
        own, other = (agent, partner) if turn.speaker == "A" else (partner, agent)
        span = slice(int(turn.start * 25) + 2, int(turn.end * 25) - 2)
        assert own[span, COL["activity"]].mean() > 0.8 and other[span, COL["activity"]].max() < 0.1
        # Speech is loud on its own track (pauses between words included) and floor on the other.
        assert own[span][:, ENERGY].max(axis=1).mean() > -1.5 and other[span][:, ENERGY].max() == -4.0
    # The partner voice is higher: its voiced frames have the higher pitch.
    pitch = lambda x: np.median(x[x[:, COL["voicing"]] > 0.6, COL["log_f0"]])  # noqa: E731
    assert pitch(partner) > pitch(agent) + 0.6


def test_gain_invariance_and_silent_track(talk):
    conv, _ = talk
    T = conv.num_frames()
    loud = track_features(conv.agent, T)
    quiet = track_features(conv.agent * 0.05, T)  # -26 dB
    assert np.median(np.abs(loud - quiet)) < 0.01
    assert np.abs(loud[:, COL["log_f0"]] - quiet[:, COL["log_f0"]]).max() < 0.05
    silent = track_features(np.zeros_like(conv.agent), T)
    assert np.all(silent[:, :40] == -4.0) and np.all(silent[:, 40:] <= 0.0)


def test_activity_from_the_conversation_or_computed(talk):
    conv, _ = talk
    T = conv.num_frames()
    with_act = AudioConditioner().encode(ConditionInputs(audio=conv), T)[0].tokens[:, COL["activity"]]
    bare = ConversationAudio(conv.agent, conv.partner)  # no activity: Silero VAD fills it in
    computed = AudioConditioner().encode(ConditionInputs(audio=bare), T)[0].tokens[:, COL["activity"]]
    assert torch.mean(((with_act > 0.5) == (computed > 0.5)).float()) > 0.9


def test_sixty_seconds_of_features_is_fast(talk):
    conv, _ = talk
    reps = int(np.ceil(60 / conv.duration))
    long = ConversationAudio(np.tile(conv.agent, reps)[: 60 * 16000], np.tile(conv.partner, reps)[: 60 * 16000],
                             agent_activity=np.zeros(1500, np.float32), partner_activity=np.zeros(1500, np.float32))
    cond = AudioConditioner()
    cond.encode(ConditionInputs(audio=long), 1500)  # warm up (imports, FFT plans)
    best = min(_timed(lambda: cond.encode(ConditionInputs(audio=long), 1500)) for _ in range(2))
    print(f"\naudio conditioner: 60 s of two-track audio -> features in {best * 1000:.0f} ms")
    assert best < 2.0  # ~0.3 s on an idle 2-core CPU; generous for a shared machine


def _timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def test_encoder_shapes_gradients_and_receptive_field():
    torch.manual_seed(0)
    enc = AudioFeatureEncoder(AUDIO_FEATURE_DIM, 96)
    assert enc.receptive_field == 29 and enc.config["in_dim"] == 49
    x = torch.randn(2, 80, AUDIO_FEATURE_DIM, requires_grad=True)
    y = enc(x)
    assert y.shape == (2, 80, 96)
    y.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in enc.parameters())
    # Changing frame 60 leaves frames further than the receptive radius (14) untouched.
    with torch.no_grad():
        x2 = x.detach().clone()
        x2[:, 60] += 5.0
        diff = (enc(x2) - enc(x.detach())).abs().amax(dim=(0, 2))
    assert diff[60] > 0 and diff[:60 - 14].max() == 0 and diff[60 + 15:].max() == 0
    mask = torch.ones(2, 80, dtype=torch.bool)
    mask[:, 70:] = False
    with torch.no_grad():
        masked = enc(x.detach(), mask)
        x3 = x.detach().clone()
        x3[:, 70:] = 100.0  # garbage in padded frames does not leak into valid ones
        assert torch.allclose(enc(x3, mask)[:, :70], masked[:, :70], atol=1e-5)
    with pytest.raises(ValueError, match=r"expects \[B, T, 49\]"):
        enc(torch.randn(2, 10, 48))

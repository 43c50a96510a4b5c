"""The rule-based baseline on real (eSpeak) conversation audio."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.metrics.behaviour import detect_nods, role_separation_auc
from openinfp.core.metrics.features import head_pitch, mouth_opening
from openinfp.eval.baseline import rule_based_motion

SCRIPT = ("A: Hello there, how are you doing today?\n"
          "B: I am fine, thanks. I spent the whole weekend in the garden, planting tomatoes and beans.\n"
          "A: That sounds lovely. Did the rain not bother you?\n"
          "B: Not at all. It only rained on Sunday evening, when we were already inside.\n")


@pytest.fixture(scope="module")
def conversation():
    from openinfp.audio.script import script_to_conversation

    conv, turns = script_to_conversation(SCRIPT, seed=0, backchannels=False)
    return conv, turns


def test_jaw_follows_the_agent_and_nods_follow_partner_phrases(conversation):
    conv, turns = conversation
    seq = rule_based_motion(conv, seed=0)
    assert seq.space.name == "head" and seq.num_frames == conv.num_frames(25.0)
    agent = np.asarray(conv.agent_activity[: seq.num_frames]) >= 0.5
    partner = np.asarray(conv.partner_activity[: seq.num_frames]) >= 0.5
    # Mouth moves only while the agent speaks: near-perfect role separation.
    assert role_separation_auc(seq, agent) > 0.95
    # Closed while listening, once the release (a few frames) has passed.
    near_speech = np.convolve(agent, np.ones(21), mode="same") > 0
    assert mouth_opening(seq)[~near_speech].max() < 0.02 and mouth_opening(seq)[agent].max() > 0.3
    # Nods start just after the partner's phrases end, while the agent is silent.
    nods = detect_nods(head_pitch(seq), seq.fps)
    partner_ends = [round(t.end * 25) for t in turns if t.speaker == "B"]
    assert len(nods) >= 1
    for nod in nods:
        assert not agent[nod.start]
        assert min(abs(nod.start - e) for e in partner_ends) <= 10
    assert not partner.all()


def test_deterministic_and_body_output(conversation):
    conv, _ = conversation
    a, b = rule_based_motion(conv, seed=3), rule_based_motion(conv, seed=3)
    assert np.array_equal(a.motion.numpy(), b.motion.numpy())
    assert not np.array_equal(a.motion.numpy(), rule_based_motion(conv, seed=4).motion.numpy())  # blinks differ
    body = rule_based_motion(conv, seed=3, motion_space="smplx")
    assert body.space.name == "smplx" and body.num_frames == a.num_frames
    np.testing.assert_allclose(mouth_opening(body), mouth_opening(a), atol=1e-6)

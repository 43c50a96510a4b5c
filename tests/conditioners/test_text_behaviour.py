"""Reading head motion and nodding from a prompt (MiniLM similarity to described behaviour levels)."""

from __future__ import annotations

import pytest

from openinfp.core.interfaces import ConditionInputs

# Paraphrases written after the descriptions were fixed and never tuned on: the reading is
# judged on them as they came out, misses included (2 of 8 directional ones read nothing).
HELD_OUT = [
    ("a listener who nods a great deal", "nodding", 1),
    ("bobs the head in agreement whenever the partner is talking", "nodding", 1),
    ("almost never nods along", "nodding", -1),
    ("keeps nodding to a minimum", "nodding", -1),
    ("hardly moves their head at all", "head_motion", -1),
    ("remains completely still while talking", "head_motion", -1),
    ("throws the head around a lot when excited", "head_motion", 1),
    ("a restless person whose head is always moving", "head_motion", 1),
]


def test_clauses_split_at_punctuation_and_real_conjunctions():
    from openinfp.conditioners.text_behaviour import split_clauses

    assert split_clauses("calm, nods a lot. Smiles!") == ["calm", "nods a lot", "Smiles"]
    assert split_clauses("smiles a lot and moves the head a lot") == ["smiles a lot", "moves the head a lot"]
    assert split_clauses("nods now and then") == ["nods now and then"]
    assert split_clauses(" ,; ") == []


def test_issue_prompts_and_unrelated_text():
    from openinfp.conditioners.text_behaviour import read_behaviour

    nod, _ = read_behaviour("nods a lot while listening")
    still, _ = read_behaviour("barely moves")
    assert nod.nodding > 0.8 and nod.head_motion == 0.0
    assert still.head_motion < -0.8 and still.nodding == 0.0
    both, evidence = read_behaviour("quiet listener, very little head motion, but nods often")
    assert both.head_motion < -0.5 and both.nodding > 0.3, evidence
    for unrelated in ("speaks with a British accent", "smiles warmly", "be a friendly person"):
        assert read_behaviour(unrelated)[0].is_neutral, unrelated
    assert abs(read_behaviour("sometimes nods")[0].nodding) < 0.3  # middle wording stays near 0


def test_held_out_paraphrases():
    from openinfp.conditioners.text_behaviour import read_behaviour

    right = wrong = 0
    for prompt, axis, sign in HELD_OUT:
        value = getattr(read_behaviour(prompt)[0], axis)
        print(f"{prompt!r}: {axis} {value:+.2f}")
        right += value * sign > 0.3
        wrong += value * sign < -0.3  # read the opposite way: the failure that matters
    assert wrong == 0
    assert right >= 6


def test_text_conditioner_emits_the_behaviour_token():
    from openinfp.conditioners.options import TextConditionerOptions
    from openinfp.conditioners.text import TextConditioner
    from openinfp.core.behaviour import BehaviourSettings

    tokens = TextConditioner().encode(ConditionInputs(text="barely moves"), 10)
    assert [t.name for t in tokens] == ["text", "behaviour"]
    settings = BehaviourSettings.from_vector(tokens[1].tokens[0])
    assert settings.head_motion < -0.8
    assert [t.name for t in TextConditioner().encode(ConditionInputs(text="speaks with a British accent"), 10)] \
        == ["text"]
    off = TextConditioner(TextConditionerOptions(behaviour=False))
    assert [t.name for t in off.encode(ConditionInputs(text="barely moves"), 10)] == ["text"]
    with pytest.raises(Exception, match="behaviour"):
        BehaviourSettings.from_vector([0.0, 0.0, 0.0])

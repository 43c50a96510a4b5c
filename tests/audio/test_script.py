"""Scripts -> two-voice conversations with eSpeak NG."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.audio.script import BACKCHANNELS, parse_script, script_to_conversation
from openinfp.core.errors import InputError


def test_parse_script_labels_continuations_and_errors():
    turns = parse_script("# a comment\n\nA: Hi, how was the trip?\nB: Long,\nbut worth it.\na: Good.\n")
    assert [tuple(t) for t in turns] == [("A", "Hi, how was the trip?"), ("B", "Long, but worth it."), ("A", "Good.")]
    named = parse_script("Ben: Hello.\nAnna: Hi Ben.\nBen: Bye.")
    assert [t.speaker for t in named] == ["A", "B", "A"]  # the first name is the agent
    flipped = parse_script("B: I start.\nA: Then me.")
    assert [t.speaker for t in flipped] == ["B", "A"]  # literal A/B keep their meaning
    with pytest.raises(InputError, match="line 1 has no speaker label"):
        parse_script("Hello there\nA: hi")
    with pytest.raises(InputError, match="line 3: a third speaker 'C'"):
        parse_script("A: one\nB: two\nC: three")
    with pytest.raises(InputError, match="no turns"):
        parse_script("\n# only a comment\n")
    with pytest.raises(InputError, match="line 2: speaker 'B' says nothing"):
        parse_script("A: hi\nB: ...")


def _median_f0(wave):
    from openinfp.conditioners.audio_features import feature_names, track_features

    feats = track_features(wave, int(len(wave) / 640))
    log_f0 = feats[:, feature_names().index("log_f0")]
    return float(200 * 2 ** np.median(log_f0[log_f0 != 0]))


def test_two_distinct_voices_turns_and_pauses(short_scripted):
    conv, turns = short_scripted
    assert [t.speaker for t in turns] == ["A", "B", "A", "B"]
    assert turns[0].start == pytest.approx(0.5)
    for prev, nxt in zip(turns, turns[1:]):
        assert 0.15 < nxt.start - prev.end < 0.8  # natural pauses, no overlap
    # Each turn's audio is on its own track only.
    for t in turns:
        a, b = int(t.start * 16000), int(t.end * 16000)
        own = conv.agent if t.speaker == "A" else conv.partner
        other = conv.partner if t.speaker == "A" else conv.agent
        assert np.sqrt(np.mean(own[a:b] ** 2)) > 0.02 and np.abs(other[a:b]).max() == 0
    f0_a, f0_b = _median_f0(conv.agent), _median_f0(conv.partner)
    assert f0_b > 1.6 * f0_a, (f0_a, f0_b)  # a low and a high voice
    assert conv.agent_activity.shape == (conv.num_frames(25.0),)
    assert "eSpeak NG" in conv.notes[0]


def test_backchannels_and_seeds():
    text = ("A: Let me tell you about the conference last week, it was long but really interesting.\n"
            "B: Sure, go ahead, I have been curious about how it went for the whole team.\n")
    quiet, turns_q = script_to_conversation(text, seed=0, backchannels=False)
    assert [t.speaker for t in turns_q] == ["A", "B"]
    found = 0
    for seed in range(3):
        _, turns = script_to_conversation(text, seed=seed, backchannels=True)
        bcs = [t for t in turns if t.text in BACKCHANNELS]
        for bc in bcs:
            host = next(t for t in turns if t.speaker != bc.speaker and t.start < bc.start < t.end)
            assert host.end - host.start >= 2.5  # only in long turns, while the other talks
        found += len(bcs)
    assert found >= 1
    # The same seed gives the same plan (eSpeak's waveform itself varies by a few samples).
    _, again = script_to_conversation(text, seed=0, backchannels=False)
    assert [(t.speaker, t.text) for t in again] == [(t.speaker, t.text) for t in turns_q]
    assert again[1].start == pytest.approx(turns_q[1].start, abs=0.05)

"""Conditioner fixtures: real eSpeak NG speech."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def talk():
    """``(ConversationAudio, turns)``: 4 turns, ~12 s, two eSpeak voices, no overlaps."""
    from openinfp.audio.script import script_to_conversation

    text = ("A: Hi, how was the trip?\n"
            "B: Long, but worth it. We drove along the coast for three days.\n"
            "A: That sounds lovely. Did you see the lighthouse?\n"
            "B: We did! And we climbed all the way to the top.\n")
    return script_to_conversation(text, seed=0, backchannels=False)

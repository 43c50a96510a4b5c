"""Shared audio fixtures: real eSpeak NG speech, synthesized once per session."""

from __future__ import annotations

import numpy as np
import pytest

SCRIPT = """A: Hi, how was the trip?
B: Long, but worth it. We drove along the coast for three days and stopped in every little town.
A: That sounds lovely. Did you see the lighthouse?
B: We did! And we climbed all the way to the top. The view was amazing.
A: I have always wanted to go there. Was it crowded?
B: Not at all. We were almost alone, apart from a few seagulls.
A: Lucky you. What was the food like?
B: Fresh fish every night. I think I ate my own weight in oysters.
A: Ha, that does not surprise me at all.
"""


@pytest.fixture(scope="session")
def scripted():
    """``(ConversationAudio, turns)`` of a 9-turn, ~32 s two-voice conversation (no overlaps)."""
    from openinfp.audio.script import script_to_conversation

    return script_to_conversation(SCRIPT, seed=0, backchannels=False)


@pytest.fixture(scope="session")
def short_scripted():
    """A 4-turn, ~12 s conversation for the cheaper tests."""
    from openinfp.audio.script import script_to_conversation

    text = "\n".join(SCRIPT.splitlines()[:4])
    return script_to_conversation(text, seed=1, backchannels=False)


def _frames_where(turns, speaker: str, num_frames: int, fps: float = 25.0, margin: float = 0.12) -> np.ndarray:
    """Bool ``[T]``: frames well inside ``speaker``'s turns and well away from the other's."""
    t = (np.arange(num_frames) + 0.5) / fps
    mine = np.zeros(num_frames, bool)
    other = np.zeros(num_frames, bool)
    for turn in turns:
        inside = (t > turn.start + margin) & (t < turn.end - margin)
        near = (t > turn.start - margin) & (t < turn.end + margin)
        if turn.speaker == speaker:
            mine |= inside
        else:
            other |= near
    return mine & ~other


@pytest.fixture(scope="session")
def frames_where():
    """``f(turns, speaker, num_frames)`` -> bool ``[T]`` of frames clearly in that speaker's turns."""
    return _frames_where

import numpy as np
import pytest
import torch

from openinfp.core.audio import ConversationAudio
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError


def test_conversation_audio_validates_and_swaps():
    a = np.zeros(16000, np.float32)
    p = np.ones(16000, np.float32) * 0.1
    conv = ConversationAudio(a, p, source="test")
    assert conv.duration == 1.0 and conv.num_frames(25) == 25
    sw = conv.swapped()
    assert np.allclose(sw.agent, p) and np.allclose(sw.partner, a)
    assert conv.stereo().shape == (16000, 2)


@pytest.mark.parametrize(
    "agent, partner, kwargs, match",
    [
        (np.zeros(10), np.zeros(11), {}, "differ in length"),
        (np.zeros((10, 2)), np.zeros(10), {}, "mono"),
        (np.array([0.0, np.nan]), np.zeros(2), {}, "NaN"),
        (np.zeros(0), np.zeros(0), {}, "empty"),
        (np.zeros(10), np.zeros(10), {"sample_rate": 44100}, "16000 Hz"),
    ],
)
def test_conversation_audio_rejects_bad_tracks(agent, partner, kwargs, match):
    with pytest.raises(InputError, match=match):
        ConversationAudio(agent, partner, **kwargs)


def test_condition_tokens_validation():
    tok = ConditionTokens("audio", torch.zeros(10, 4), "frame", role="agent")
    assert tok.length == 10 and tok.dim == 4 and tok.valid_mask().all()
    with pytest.raises(InputError, match="2-D"):
        ConditionTokens("audio", torch.zeros(10))
    with pytest.raises(InputError, match="kind"):
        ConditionTokens("audio", torch.zeros(3, 2), kind="sequence")
    with pytest.raises(InputError, match="mask"):
        ConditionTokens("audio", torch.zeros(3, 2), mask=torch.ones(4, dtype=torch.bool))
    with pytest.raises(InputError, match="NaN"):
        ConditionTokens("text", torch.full((1, 2), float("nan")), kind="global")

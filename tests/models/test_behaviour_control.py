"""The explicit behaviour control (``behaviour`` token): head motion and listening nods."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from openinfp.core.behaviour import (
    BEHAVIOUR_AXES,
    BehaviourControl,
    BehaviourSettings,
    behaviour_token,
    split_behaviour,
)
from openinfp.core.errors import InputError
from openinfp.core.model_config import SamplerConfig
from openinfp.head.motion_space import head_euler, head_motion_space, head_rotation_from_euler

from .conftest import audio_tokens, tiny_generator


def _motion(T: int = 200, seed: int = 0) -> torch.Tensor:
    """Head motion ``[T, 62]``: slow yaw sway plus 0.5 s pitch bobs, at 25 fps."""
    rng = np.random.default_rng(seed)
    space = head_motion_space()
    t = np.arange(T) / 25.0
    pitch = 0.03 * np.sin(2 * np.pi * 1.0 * t) + 0.01 * rng.normal(size=T)
    ypr = np.stack([0.08 * np.sin(2 * np.pi * 0.2 * t), pitch, 0.02 * np.sin(2 * np.pi * 0.5 * t)], -1)
    rot = head_rotation_from_euler(torch.tensor(ypr, dtype=torch.float32))
    return space.set(space.neutral(T), "head_rotation", rot)


def _speed(motion: torch.Tensor) -> float:
    ypr = head_euler(motion).double().numpy()
    return float(np.linalg.norm(np.diff(ypr, axis=0), axis=1).mean())


def test_settings_validate_and_map_to_gains():
    assert BehaviourSettings().is_neutral and BehaviourSettings().head_gain == 1.0
    assert BehaviourSettings(head_motion=-1).head_gain == pytest.approx(0.35)
    assert BehaviourSettings(head_motion=1).head_gain == pytest.approx(1.65)
    assert BehaviourSettings(nodding=1).nod_gain == pytest.approx(2.5)
    assert BehaviourSettings(nodding=-0.5).nod_gain == pytest.approx(0.35 ** 0.5)
    with pytest.raises(InputError, match="head_motion must be a number in"):
        BehaviourSettings(head_motion=1.5)
    with pytest.raises(InputError, match="nodding"):
        BehaviourSettings(nodding=float("nan"))
    s = BehaviourSettings(0.25, -0.75)
    assert BehaviourSettings.from_vector(s.as_vector()) == s
    tok = behaviour_token(s)
    assert tok.kind == "global" and tuple(tok.tokens.shape) == (1, len(BEHAVIOUR_AXES))


def test_split_behaviour_averages_and_drops_neutral():
    a, b = behaviour_token(BehaviourSettings(0.5, 0.0)), behaviour_token(BehaviourSettings(-0.1, 0.4))
    other = audio_tokens(10)
    rest, settings = split_behaviour(other + [a, b])
    assert rest == other
    assert settings.head_motion == pytest.approx(0.2) and settings.nodding == pytest.approx(0.2)
    assert split_behaviour(other + [behaviour_token(BehaviourSettings())])[1] is None
    from openinfp.core.conditions import ConditionTokens

    with pytest.raises(InputError, match="behaviour token must be global"):
        split_behaviour([ConditionTokens("behaviour", torch.zeros(1, 3), kind="global")])


def test_head_gain_scales_speed_and_nod_gain_acts_only_while_silent():
    space = head_motion_space()
    motion = _motion()
    still = BehaviourControl(space, 25.0, BehaviourSettings(head_motion=-1))(motion)
    lively = BehaviourControl(space, 25.0, BehaviourSettings(head_motion=1))(motion)
    assert _speed(still) < 0.45 * _speed(motion) < _speed(lively) * 0.45
    # everything but the head rotation is untouched
    rest = [i for i in range(space.dim) if i not in range(*space.index("head_rotation").indices(space.dim))]
    assert torch.equal(still[:, rest], motion[:, rest])

    speaking = torch.zeros(200)
    speaking[100:] = 1.0  # the agent talks in the second half
    nods = BehaviourControl(space, 25.0, BehaviourSettings(nodding=1))(motion, speaking)
    pitch = lambda m: head_euler(m)[:, 1].double().numpy()  # noqa: E731
    dev_listen = np.std(pitch(nods)[20:95] - pitch(motion)[20:95])
    dev_speak = np.std(pitch(nods)[130:] - pitch(motion)[130:])
    assert dev_listen > 5 * dev_speak
    yaw = lambda m: head_euler(m)[:, 0].double().numpy()  # noqa: E731
    assert np.allclose(yaw(nods), yaw(motion), atol=1e-5)  # nodding touches pitch only


def test_control_is_causal_chunks_equal_whole():
    space = head_motion_space()
    motion, speaking = _motion(150, seed=3), torch.rand(150)
    settings = BehaviourSettings(-0.4, 0.8)
    whole = BehaviourControl(space, 25.0, settings)(motion, speaking)
    control = BehaviourControl(space, 25.0, settings)
    parts = [control(motion[a:b], speaking[a:b]) for a, b in ((0, 37), (37, 40), (40, 150))]
    assert torch.allclose(torch.cat(parts), whole, atol=1e-6)


def test_generator_applies_the_token_and_the_guider_ignores_it_quietly():
    gen = tiny_generator(sampler=SamplerConfig(steps=2))
    T = 60
    base = gen.generate(audio_tokens(T), T, seed=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "ignoring tokens" warning for the behaviour token
        still = gen.generate(audio_tokens(T) + [behaviour_token(BehaviourSettings(head_motion=-1))], T, seed=1)
        neutral = gen.generate(audio_tokens(T) + [behaviour_token(BehaviourSettings())], T, seed=1)
    assert torch.equal(neutral.motion, base.motion)
    assert _speed(still.motion) < 0.6 * _speed(base.motion)
    face = gen.space.index("arkit")
    assert torch.allclose(still.motion[:, face], base.motion[:, face])


def test_stream_with_behaviour_matches_offline():
    from openinfp.core.audio import ConversationAudio
    from openinfp.core.interfaces import ConditionInputs
    from openinfp.core.streaming import MotionStream

    from .test_streaming import FrameLocalAudio, _conversation

    gen = tiny_generator(sampler=SamplerConfig(steps=2))
    cond = FrameLocalAudio()
    agent, partner = _conversation(2.5)
    audio = ConversationAudio(agent, partner)
    T = audio.num_frames(25)
    style = [behaviour_token(BehaviourSettings(0.6, 0.9))]
    offline = gen.generate(cond.encode(ConditionInputs(audio=audio), T) + style, T, seed=2)
    stream = MotionStream(gen, cond, style=style, seed=2, audio_context_s=0.5)
    pieces = [out.motion for i in range(0, agent.size, 3000)
              if (out := stream.push(agent[i:i + 3000], partner[i:i + 3000])) is not None]
    pieces.append(stream.flush().motion)
    assert torch.allclose(torch.cat(pieces), offline.motion, atol=1e-4)

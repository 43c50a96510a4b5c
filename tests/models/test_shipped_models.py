"""The default models shipped in the package: load, behave, reproduce, stream.

Real components throughout: eSpeak NG speech, the real audio conditioner, the real
diffusers DDIM scheduler, the shipped safetensors weights.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
import torch

from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.generator import MotionGenerator, default_checkpoint
from openinfp.core.interfaces import ConditionInputs


@lru_cache(maxsize=1)
def _turns() -> tuple[ConversationAudio, np.ndarray]:
    """Agent speaks, then the partner speaks: ``[N]`` tracks and the agent-speaking mask per frame."""
    from openinfp.audio.espeak import synthesize

    a = synthesize("Hello there, I wanted to tell you about my trip to the mountains last week.", "en-us+m3").wave
    b = synthesize("Oh really? That sounds lovely, tell me more about the weather up there.", "en-us+f2").wave
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    agent = np.concatenate([a, gap, np.zeros_like(b), gap])
    partner = np.concatenate([np.zeros_like(a), gap, b, gap])
    frames = int(round(agent.size / SAMPLE_RATE * 25))
    speaking = np.zeros(frames, bool)
    speaking[: int(a.size / SAMPLE_RATE * 25)] = True
    return ConversationAudio(agent, partner, source="espeak"), speaking


def _conditioner(space: str = "head"):
    """The audio-kind conditioner the shipped model was trained with (recorded in its card)."""
    from openinfp.core.registry import Registry

    name = MotionGenerator.from_pretrained(None, space).info.get("conditioner", "audio")
    return Registry.create(autoload=False).conditioner(name, {})


def _conditions(audio: ConversationAudio, frames: int, space: str = "head"):
    return _conditioner(space).encode(ConditionInputs(audio=audio), frames)


@pytest.mark.parametrize("space", ["head", "smplx"])
def test_default_checkpoint_is_shipped_and_small(space):
    folder = default_checkpoint(space)
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 10 * 2**20
    gen = MotionGenerator.from_pretrained(None, motion_space=space)
    assert gen.space.name == space and gen.sampler.scheduler == "ddim"
    assert "command" in gen.info and gen.info["command"].startswith("openinfp train --config")


def test_shipped_head_talks_while_its_track_speaks_and_is_reproducible():
    audio, speaking = _turns()
    T = speaking.size
    gen = MotionGenerator.from_pretrained(None, "head")
    conds = _conditions(audio, T)
    motion = gen.generate(conds, T, seed=0)
    jaw = gen.space.get_component(motion.motion, "arkit", "jawOpen").numpy()
    # the agent's mouth moves far more while its own track speaks than while it listens
    assert jaw[speaking].mean() > 2 * jaw[~speaking].mean() + 0.02
    # the guider's speaking read-out follows the tracks too
    agent_speaking = motion.annotations["agent_speaking"]
    assert agent_speaking[speaking].mean() > agent_speaking[~speaking].mean()
    # same seed -> same motion; another seed -> different motion
    assert torch.equal(gen.generate(conds, T, seed=0).motion, motion.motion)
    assert not torch.equal(gen.generate(conds, T, seed=1).motion, motion.motion)
    # swapping the tracks swaps the roles: now the mouth moves in the second half
    swapped = gen.generate(_conditions(audio.swapped(), T), T, seed=0)
    jaw2 = gen.space.get_component(swapped.motion, "arkit", "jawOpen").numpy()
    assert jaw2[~speaking].mean() > jaw2[speaking].mean()


def test_shipped_smplx_generates_body_motion():
    audio, speaking = _turns()
    T = speaking.size
    gen = MotionGenerator.from_pretrained(None, "smplx")
    motion = gen.generate(_conditions(audio, T, "smplx"), T, seed=0)
    assert motion.motion.shape == (T, gen.space.dim) and motion.space.name == "smplx"
    jaw = gen.space.get_component(motion.motion, "expression", "jawOpen").numpy()
    assert jaw[speaking].mean() > jaw[~speaking].mean()


def test_shipped_head_streams_with_the_real_audio_conditioner():
    from openinfp.core.streaming import MotionStream

    audio, speaking = _turns()
    gen = MotionGenerator.from_pretrained(None, "head")
    stream = MotionStream(gen, _conditioner(), seed=0)
    chunk = SAMPLE_RATE // 5  # 200 ms
    outs = []
    for i in range(0, audio.num_samples, chunk):
        out = stream.push(audio.agent[i:i + chunk], audio.partner[i:i + chunk])
        if out is not None:
            outs.append(out.motion)
    tail = stream.flush()
    if tail is not None:
        outs.append(tail.motion)
    motion = torch.cat(outs)
    assert motion.shape[0] == audio.num_frames(25)
    jaw = gen.space.get_component(motion, "arkit", "jawOpen").numpy()[: speaking.size]
    assert jaw[speaking].mean() > jaw[~speaking].mean()
    assert max(lat.compute_s for lat in stream.latencies) < 30  # bounded (generous on a busy CPU)

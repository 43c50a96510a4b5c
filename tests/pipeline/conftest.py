"""Shared inputs of the pipeline tests: a real photo, a real eSpeak NG conversation, a model."""

from __future__ import annotations

from pathlib import Path

import pytest

SCRIPT = """A: Hello! I just came back from the mountains.
B: Oh nice, how was it?
"""
"""Short (about 4 s): plumbing tests."""

LONG_SCRIPT = """A: Hello! I just came back from a long trip to the mountains.
B: Oh nice. How was it? Tell me everything, I have been wondering all week.
A: Wonderful, we hiked every single day and the views were amazing.
B: That sounds great. I would love to go there some time with my sister.
A: You really should. Autumn is the best season, the colours are beautiful.
B: Maybe next year then. Thanks for the tip.
"""
"""About 20 s with long turns on both sides: the behaviour test."""


@pytest.fixture(scope="session")
def full_registry():
    from openinfp.core.registry import Registry

    return Registry.create(autoload=False)


@pytest.fixture(scope="session")
def astronaut_png(tmp_path_factory) -> Path:
    from openinfp.pipeline.examples import astronaut, write_image

    path = tmp_path_factory.mktemp("inputs") / "astronaut.png"
    write_image(path, astronaut())
    return path


@pytest.fixture(scope="session")
def partner_png(tmp_path_factory) -> Path:
    from openinfp.pipeline.examples import grace_hopper, write_image

    path = tmp_path_factory.mktemp("inputs") / "hopper.png"
    write_image(path, grace_hopper())
    return path


def _spoken(tmp_path_factory, script: str, name: str):
    from openinfp.audio.script import script_to_conversation
    from openinfp.pipeline.examples import write_stereo_wav

    conv, turns = script_to_conversation(script, seed=0, backchannels=False)
    path = tmp_path_factory.mktemp("inputs") / name
    write_stereo_wav(path, conv.agent, conv.partner, conv.sample_rate)
    return path, conv, turns


@pytest.fixture(scope="session")
def conversation(tmp_path_factory):
    """``(stereo wav path, ConversationAudio, turns)`` of :data:`SCRIPT` (left = agent A)."""
    return _spoken(tmp_path_factory, SCRIPT, "conversation.wav")


@pytest.fixture(scope="session")
def long_conversation(tmp_path_factory):
    """Like ``conversation``, for :data:`LONG_SCRIPT`."""
    return _spoken(tmp_path_factory, LONG_SCRIPT, "long_conversation.wav")


def shipped_model(space: str) -> bool:
    """True when the default trained model for ``space`` ships with the package."""
    from openinfp.core.generator import default_checkpoint

    try:
        default_checkpoint(space)
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def smoke_checkpoint(tmp_path_factory, full_registry) -> Path:
    """A tiny untrained head model (plumbing tests; its motion is random)."""
    from openinfp.pipeline.smoke import save_untrained_generator

    return save_untrained_generator(tmp_path_factory.mktemp("model") / "head", full_registry, "head")


@pytest.fixture(scope="session")
def model_flags(smoke_checkpoint) -> list[str]:
    """CLI flags selecting the model: the shipped one when present, else the smoke model."""
    return [] if shipped_model("head") else ["--checkpoint", str(smoke_checkpoint)]

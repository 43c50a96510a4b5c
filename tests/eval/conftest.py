"""Small data made by the tests: held-out synthetic shards, tiny checkpoints, a talking video."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="session")
def heldout_dir(tmp_path_factory):
    """Two 8-second held-out synthetic conversations as a shard folder."""
    from openinfp.eval.synthetic import heldout_conversations

    return heldout_conversations(tmp_path_factory.mktemp("heldout"), 2, seconds=8.0, seed=0)


def _save_tiny_generator(path, banks: bool, guidance: float):
    import torch

    from openinfp.core.audio import ConversationAudio
    from openinfp.core.generator import MotionGenerator
    from openinfp.core.interfaces import ConditionInputs
    from openinfp.core.model_config import DiTConfig, GuiderConfig, SamplerConfig
    from openinfp.core.registry import Registry

    registry = Registry.create(autoload=False)
    probe = ConversationAudio(np.zeros(16000, np.float32), np.zeros(16000, np.float32))
    tokens = registry.conditioner("phonetic").encode(ConditionInputs(audio=probe), 25)  # the default preset's
    width = next(t.dim for t in tokens if t.name == "audio")
    space = registry.motion_space("head")
    space = space.with_stats(space.neutral(), torch.full((space.dim,), 0.05))
    gen = MotionGenerator.build(
        GuiderConfig(width=32, bank_size=8, heads=2, use_memory_banks=banks, token_dims={"audio": width, "text": 384}),
        DiTConfig(window=50, context=10, width=32, depth=1, heads=2), space,
        SamplerConfig(steps=2, guidance_scale=guidance))
    gen.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_checkpoints(tmp_path_factory):
    """Untrained (randomly initialised) checkpoints with and without memory banks: real
    loading and sampling code, meaningless motion."""
    root = tmp_path_factory.mktemp("ckpt")
    return {"banks": _save_tiny_generator(root / "banks", True, 2.0),
            "no_banks": _save_tiny_generator(root / "nobanks", False, 1.0)}

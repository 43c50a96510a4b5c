"""Small synthetic conversations for the model tests (no corpus, no conditioners needed).

Two people take turns; each side's "audio features" carry a syllable rhythm while it
speaks; its ground-truth motion opens the jaw with that rhythm while speaking and nods
(head pitch bumps) while the other side speaks. Learnable in a few hundred steps.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler
from openinfp.training.features import ConversationFeatures, SideFeatures

FEAT = 12


def _turns(rng: np.random.Generator, T: int) -> np.ndarray:
    """``[T]`` 0/1: which side speaks (0 = side a), alternating turns of 1.5-4 s."""
    who = np.zeros(T, dtype=np.int64)
    t, side = 0, int(rng.integers(2))
    while t < T:
        n = int(rng.integers(38, 100))
        who[t:t + n] = side
        t += n
        side = 1 - side
    return who


def toy_conversation(seed: int, T: int = 300, split: str = "train") -> ConversationFeatures:
    rng = np.random.default_rng(seed)
    space = head_motion_space()
    who = _turns(rng, T)
    t = np.arange(T) / 25.0
    sides = []
    for s in (0, 1):
        speaking = (who == s).astype(np.float32)
        rate = rng.uniform(3.0, 5.0)
        syll = 0.5 + 0.5 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 6))
        feats = rng.normal(0, 0.1, (T, FEAT)).astype(np.float32)
        feats[:, 0] += speaking * syll * 2.0
        feats[:, 1] += speaking * 1.5
        motion = space.neutral(T).numpy()
        jaw = speaking * (0.1 + 0.5 * syll)
        motion[:, space.component_index("arkit", "jawOpen")] = jaw
        pitch = np.zeros(T)
        listening = 1 - speaking
        for start in range(10, T - 15, 30):
            if listening[start] and rng.random() < 0.7:
                pitch[start:start + 12] += 0.12 * np.sin(np.linspace(0, np.pi, 12))
        ypr = torch.tensor(np.stack([0.05 * np.sin(0.5 * t), pitch, np.zeros(T)], -1), dtype=torch.float32)
        motion[:, space.index("head_rotation")] = head_rotation_from_euler(ypr).numpy()
        sides.append(SideFeatures(feats, speaking, motion.astype(np.float32),
                                  {"text": rng.normal(0, 1, (1, 8)).astype(np.float32)}))
    return ConversationFeatures(f"toy{seed}", split, 25.0, sides)


@pytest.fixture(scope="session")
def toy_convs() -> list[ConversationFeatures]:
    return [toy_conversation(i) for i in range(6)] + [toy_conversation(100 + i, split="val") for i in range(2)]


@pytest.fixture(autouse=True)
def _one_thread():
    """One torch thread: much faster than two on the busy shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_configs(audio_dim: int = FEAT, banks: bool = True):
    from openinfp.core.model_config import DiTConfig, GuiderConfig

    return (GuiderConfig(width=32, bank_size=8, heads=2, audio_layers=1, use_memory_banks=banks,
                         token_dims={"audio": audio_dim, "text": 8}),
            DiTConfig(window=20, context=4, width=32, depth=1, heads=2))


def tiny_generator(seed: int = 0, banks: bool = True, sampler=None):
    """An untrained tiny head generator with made-up statistics."""
    from openinfp.core.generator import MotionGenerator

    torch.manual_seed(seed)
    space = head_motion_space()
    space = space.with_stats(space.neutral(), torch.full((space.dim,), 0.05))
    g_cfg, d_cfg = tiny_configs(banks=banks)
    gen = MotionGenerator.build(g_cfg, d_cfg, space, sampler)
    # break the zero-initialised output layer so untrained outputs depend on the inputs
    with torch.no_grad():
        gen.dit.out.weight.normal_(0, 0.1)
        gen.guider.style_film.weight.normal_(0, 0.1)
    return gen


def audio_tokens(T: int, seed: int = 0, dim: int = FEAT):
    from openinfp.core.conditions import ConditionTokens

    g = torch.Generator().manual_seed(seed)
    return [ConditionTokens("audio", torch.randn(T, dim, generator=g), role="agent"),
            ConditionTokens("audio", torch.randn(T, dim, generator=g), role="partner")]

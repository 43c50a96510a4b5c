"""Untrained, tiny motion models for smoke tests of the pipeline and of plugins.

A plugin author testing a renderer or a conditioner end to end does not need the
shipped model: :func:`save_untrained_generator` writes a valid checkpoint folder with
a small randomly initialised guider + DiT whose input widths match the registered
conditioners, loadable by ``MotionGenerator.from_pretrained`` and by
``openinfp animate --checkpoint DIR``. Its motion is random (around the neutral pose),
so it checks plumbing, never behaviour.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np
import torch

from openinfp.core.io import PathLike

if TYPE_CHECKING:
    from openinfp.core.registry import Registry


def conditioner_width(registry: "Registry", name: str, options: Optional[dict] = None) -> int:
    """Token width ``D`` that the conditioner ``name`` emits, measured on one second of noise."""
    from openinfp.core.audio import ConversationAudio
    from openinfp.core.interfaces import ConditionInputs

    rng = np.random.default_rng(0)
    wave = (0.05 * rng.standard_normal(16_000)).astype(np.float32)
    audio = ConversationAudio(wave, wave[::-1].copy(), source="noise")
    inputs = ConditionInputs(audio=audio, text="calm", image=None)
    tokens = registry.conditioner(name, options or {}).encode(inputs, 25)
    if not tokens:
        raise ValueError(f"conditioner {name!r} emitted no tokens for audio + text input")
    return tokens[0].dim


def save_untrained_generator(path: PathLike, registry: Optional["Registry"] = None, motion_space: str = "head",
                             width: int = 32, depth: int = 1, seed: int = 0, std: float = 0.05,
                             preset: Optional[str] = None) -> Path:
    """Write an untrained generator checkpoint to ``path`` and return it.

    Args:
        path: the checkpoint folder to create (replaced if it exists).
        registry: used to measure the audio conditioner's width (built on demand).
        motion_space: ``"head"`` or ``"smplx"``.
        width, depth: guider/DiT width and DiT depth (tiny by default: fast on a CPU).
        seed: weight initialisation seed.
        std: normalisation std of every motion dimension; with mean = the neutral pose,
            random outputs stay near rest instead of flailing.
        preset: take the guider, DiT and sampler sizes from this config preset instead
            (e.g. ``"head"``: the shipped architecture, for timing the pipeline before
            a trained model exists).
    """
    import dataclasses

    from openinfp.core.generator import MotionGenerator
    from openinfp.core.model_config import DiTConfig, GuiderConfig, SamplerConfig

    if registry is None:
        from openinfp.core.registry import Registry

        registry = Registry.create()
    space = registry.motion_space(motion_space)
    # the width of the "audio" tokens the presets' conditioner emits ("phonetic" since issue 14)
    from openinfp.core.config import load_config as _load

    audio_kind = next((c.name for c in _load(preset or "default", registry=registry).conditioners
                       if c.name in ("audio", "phonetic")), "audio")
    token_dims = {"audio": conditioner_width(registry, audio_kind), "text": 384}
    if preset is not None:
        from openinfp.config import load_config

        cfg = load_config(preset, registry=registry)
        guider = GuiderConfig(**{**cfg.guider.options, "token_dims": token_dims})
        dit, sampler = cfg.model.dit, cfg.model.sampler
    else:
        guider = GuiderConfig(width=width, bank_size=8, heads=2, token_dims=token_dims)
        dit = DiTConfig(width=width, depth=depth, heads=2, window=50, context=10)
        sampler = SamplerConfig(steps=2)
    torch.manual_seed(seed)
    space = space.with_stats(space.neutral(), torch.full((space.dim,), float(std)))
    gen = MotionGenerator.build(dataclasses.replace(guider), dit, space, sampler)
    return gen.save_pretrained(path, info={"note": "untrained smoke-test model (random weights)"})

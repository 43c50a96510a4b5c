"""Sampling (real diffusers schedulers, chained windows, seeds) and checkpoints."""

from __future__ import annotations

import json

import pytest
import torch

from openinfp.core.checkpoint import load_component, save_component
from openinfp.core.config import field_choices
from openinfp.core.errors import CheckpointError, ConfigError, InputError
from openinfp.core.generator import MotionGenerator
from openinfp.core.model_config import SamplerConfig
from openinfp.core.motion import MotionSequence
from openinfp.core.sampling import make_scheduler, window_condition

from .conftest import audio_tokens, tiny_generator


def test_real_diffusers_schedulers():
    from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

    gen = tiny_generator()
    assert isinstance(make_scheduler(SamplerConfig("ddim"), gen.dit.config), DDIMScheduler)
    dpm = make_scheduler(SamplerConfig("dpmsolver++"), gen.dit.config)
    assert isinstance(dpm, DPMSolverMultistepScheduler) and dpm.config.algorithm_type == "dpmsolver++"
    # every scheduler the config declares builds (the field's choices are the one list of names)
    for name in field_choices(SamplerConfig, "scheduler"):
        assert make_scheduler(SamplerConfig(name), gen.dit.config) is not None
    with pytest.raises(ConfigError, match="valid choices: ddim, dpmsolver\\+\\+"):
        make_scheduler(SamplerConfig("euler"), gen.dit.config)


@pytest.mark.parametrize("scheduler", ["ddim", "dpmsolver++"])
def test_generate_any_length_and_same_seed_same_motion(scheduler):
    gen = tiny_generator(sampler=SamplerConfig(scheduler=scheduler, steps=4))
    T = 47  # not a multiple of the 20-frame window
    toks = audio_tokens(T)
    a = gen.generate(toks, T, seed=3)
    b = gen.generate(toks, T, seed=3)
    c = gen.generate(toks, T, seed=4)
    assert isinstance(a, MotionSequence) and a.motion.shape == (T, 62) and a.space.name == "head"
    assert torch.equal(a.motion, b.motion)
    assert not torch.allclose(a.motion, c.motion)
    assert a.annotations["agent_speaking"].shape == (T,)
    # outputs are valid: blendshapes in [0, 1], 6D rotations orthonormal
    arkit = a.get("arkit")
    assert float(arkit.min()) >= 0 and float(arkit.max()) <= 1
    r = a.get("head_rotation")
    assert torch.allclose(r[:, :3].norm(dim=1), torch.ones(T), atol=1e-4)
    assert torch.allclose((r[:, :3] * r[:, 3:]).sum(1), torch.zeros(T), atol=1e-4)
    # steps override and a bad value
    assert gen.generate(toks, T, seed=3, steps=2).motion.shape == (T, 62)
    with pytest.raises(InputError):
        gen.generate(toks, T, steps=0)


def test_window_condition_replicates_edges():
    f = torch.arange(10.0).view(1, 10, 1)
    w = window_condition(f, 0, 5, 3)
    assert w.flatten().tolist() == [0, 0, 0, 0, 1, 2, 3, 4]
    w = window_condition(f, 8, 5, 3)
    assert w.flatten().tolist() == [5, 6, 7, 8, 9, 9, 9, 9]


def test_windows_chain_on_previous_context():
    """The second window depends on the first one's last frames (no independent windows)."""
    gen = tiny_generator(sampler=SamplerConfig(steps=3))
    T = 40
    toks = audio_tokens(T)
    ws = gen.window_sampler(0)
    feats = gen.guide(gen.guider.prepare(toks, T)).features
    first = ws.window(window_condition(feats, 0, 20, 4), None)
    rng_state = ws.generator.get_state()
    second = ws.window(window_condition(feats, 20, 20, 4), first[:, -4:])
    ws.generator.set_state(rng_state)
    other = ws.window(window_condition(feats, 20, 20, 4), torch.zeros_like(first[:, -4:]))
    assert not torch.allclose(second, other)


def test_checkpoint_roundtrip(tmp_path):
    gen = tiny_generator(sampler=SamplerConfig(steps=3))
    folder = gen.save_pretrained(tmp_path / "ckpt", info={"note": "test"})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "dit", "guider", "normalizer"]
    for comp in ("dit", "guider", "normalizer"):
        assert sorted(p.name for p in (folder / comp).iterdir()) == ["config.json", "model.safetensors"]
    loaded = MotionGenerator.from_pretrained(folder, "head")
    assert loaded.info["note"] == "test" and loaded.sampler.steps == 3
    T = 25
    toks = audio_tokens(T)
    assert torch.allclose(gen.generate(toks, T, seed=1).motion, loaded.generate(toks, T, seed=1).motion, atol=1e-6)
    # half-precision storage (the shipped defaults) is smaller and close
    half = gen.save_pretrained(tmp_path / "half", dtype=torch.float16)
    assert (half / "dit" / "model.safetensors").stat().st_size < (folder / "dit" / "model.safetensors").stat().st_size
    half_gen = MotionGenerator.from_pretrained(half, "head")
    assert torch.allclose(gen.generate(toks, T, seed=1).motion, half_gen.generate(toks, T, seed=1).motion, atol=0.05)


def test_checkpoint_refuses_pickles_and_bad_folders(tmp_path):
    gen = tiny_generator()
    folder = gen.save_pretrained(tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match="motion space 'head', not 'smplx'"):
        MotionGenerator.from_pretrained(folder, "smplx")
    (folder / "dit" / "pytorch_model.bin").write_bytes(b"\x80\x04pickle")
    with pytest.raises(CheckpointError, match="pickled weights are refused"):
        MotionGenerator.from_pretrained(folder, "head")
    (folder / "dit" / "pytorch_model.bin").unlink()
    (folder / "extra.txt").write_text("x")
    with pytest.raises(CheckpointError, match="unexpected extra.txt"):
        MotionGenerator.from_pretrained(folder, "head")
    (folder / "extra.txt").unlink()
    (folder / "guider" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        MotionGenerator.from_pretrained(folder, "head")
    with pytest.raises(CheckpointError, match="not a folder"):
        MotionGenerator.from_pretrained(tmp_path / "missing", "head")
    index = tmp_path / "other" / "config.json"
    index.parent.mkdir()
    index.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CheckpointError, match="not an openinfp-motion-generator"):
        MotionGenerator.from_pretrained(index.parent, "head")


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    gen = tiny_generator()
    folder = gen.save_pretrained(tmp_path / "ckpt")
    cfg, state = load_component(folder / "dit")
    state["out.weight"] = torch.zeros(3, 3)
    save_component(folder / "dit", cfg, state)
    with pytest.raises(CheckpointError, match="out.weight has shape"):
        MotionGenerator.from_pretrained(folder, "head")


def test_no_shipped_default_for_unknown_space():
    with pytest.raises(CheckpointError, match="no default motion model"):
        MotionGenerator.from_pretrained(None, "nosuchspace")

"""Training loop (accelerate, EMA, resume, metrics, validation), evaluation and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from openinfp.core.generator import MotionGenerator
from openinfp.core.model_config import SamplerConfig, TrainConfig
from openinfp.head.motion_space import head_motion_space
from openinfp.training.evaluate import evaluate, format_table
from openinfp.training.features import TrainData, motion_stats, split_conversations, token_dims_of
from openinfp.training.loop import fit
from openinfp.training.windows import WindowDataset, collate

from .conftest import tiny_configs


def _data(toy_convs) -> TrainData:
    train, val = split_conversations(toy_convs, 0.1, 0)
    return TrainData(train, val, token_dims_of(toy_convs))


def _train_cfg(out: Path, steps: int, **kw) -> TrainConfig:
    return TrainConfig(out_dir=str(out), steps=steps, batch_size=8, lr=1e-3, warmup_steps=2, val_every=10,
                       save_every=10, log_every=5, ema_decay=0.9, threads=1, **kw)


def test_split_and_windows(toy_convs):
    train, val = split_conversations(toy_convs, 0.1, 0)
    assert [c.split for c in val] == ["val", "val"] and len(train) == 6
    space = head_motion_space()
    mean, std = motion_stats(train)
    ds = WindowDataset(train, space.with_stats(mean, std), span=24, stride=10)
    batch = collate([ds[i] for i in range(3)])
    assert batch["motion"].shape == (3, 24, 62) and batch["agent_audio"].shape == (3, 24, 12)
    assert batch["style.text"].shape == (3, 1, 8) and batch["style.text.mask"].all()
    # both sides of each conversation are agents once
    assert {side for _, side, _ in ds.index} == {0, 1}


def test_fit_learns_saves_and_resumes(tmp_path, toy_convs):
    g_cfg, d_cfg = tiny_configs()
    out = tmp_path / "run"
    gen = fit(_data(toy_convs), head_motion_space(), g_cfg, d_cfg, SamplerConfig(steps=3), _train_cfg(out, 20),
              out, progress=False, info={"what": "test"})
    assert isinstance(gen, MotionGenerator)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert len([r for r in rows if "loss" in r]) == 4
    # predicting the mean pose scores about 1 on normalised motion; training must beat it clearly
    val = [r["val_x0"] for r in rows if "val_x0" in r]
    assert len(val) == 2 and val[-1] < 0.5
    loaded = MotionGenerator.from_pretrained(out / "checkpoint", "head")
    assert loaded.info["what"] == "test" and loaded.info["step"] == 20
    # statistics of the training motion are stored with the model
    assert torch.allclose(loaded.space.mean, motion_stats(_data(toy_convs).train)[0])
    # resume continues from step 20 to 30 instead of starting again
    gen2 = fit(_data(toy_convs), head_motion_space(), g_cfg, d_cfg, SamplerConfig(steps=3),
               _train_cfg(out, 30, resume=True), out, progress=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in rows if "loss" in r]
    assert steps == [5, 10, 15, 20, 25, 30]
    assert MotionGenerator.from_pretrained(out / "checkpoint", "head").info["step"] == 30
    assert gen2 is not None


def test_evaluate_reports_model_and_static_baseline(toy_convs):
    g_cfg, d_cfg = tiny_configs()
    data = _data(toy_convs)
    space = head_motion_space()
    mean, std = motion_stats(data.train)
    gen = MotionGenerator.build(g_cfg, d_cfg, space.with_stats(mean, std), SamplerConfig(steps=2))
    res = evaluate({"model": gen, "static": "static"}, data.val, gen.space, progress=False)
    assert set(res) == {"ground_truth", "model", "static"}
    assert res["ground_truth"]["jaw_auc"] == pytest.approx(1.0)  # toy jaw opens exactly while speaking
    assert res["static"]["jaw_auc"] == pytest.approx(0.5)  # a constant pose cannot separate
    assert res["static"]["nods_per_listening_min"] == 0.0
    assert res["ground_truth"]["nods_per_listening_min"] > 0
    for key in ("fd_exp", "fd_pose", "sid_exp", "var_exp"):
        assert key in res["model"]
    table = format_table(res, ["jaw_auc", "fd_exp"])
    assert table.splitlines()[0] == "| metric | ground_truth | model | static |"


def _write_tiny_corpus(root: Path, n: int = 3, seconds: float = 6.0, style_text: str = "calm") -> None:
    from openinfp.data.shards import Conversation, Side, write_conversation, write_manifest

    space = head_motion_space()
    T = int(seconds * 25)
    for i in range(n):
        rng = np.random.default_rng(i)
        t = np.arange(T * 640) / 16000
        turn = (np.sin(2 * np.pi * 0.25 * t + i) > 0).astype(np.float32)
        sides = {}
        for name, speaking in (("a", turn), ("b", 1 - turn)):
            wave = (speaking * 0.3 * np.sin(2 * np.pi * 180 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 4 * t)))
            wave = (wave + rng.normal(0, 0.003, wave.size)).astype(np.float32)
            act = speaking.reshape(T, 640).mean(1).astype(np.float32)
            motion = space.neutral(T).numpy()
            motion[:, space.component_index("arkit", "jawOpen")] = 0.5 * act
            sides[name] = Side(wave, act, {"head": motion}, style_text=style_text)
        write_conversation(Conversation(f"tiny{i}", "test", "train", sides), root / f"tiny{i}.safetensors")
    write_manifest(root)


def test_train_command_end_to_end(tmp_path):
    from openinfp.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_tiny_corpus(corpus)
    out = tmp_path / "run"
    args = ["train", "--config", "test", f"data.root={corpus}", f"train.out_dir={out}", "train.val_fraction=0.34",
            "--no-progress"]
    assert main(args) == 0
    assert (out / "checkpoint" / "config.json").is_file()
    assert (out / "metrics.jsonl").is_file()
    results = json.loads((out / "eval.json").read_text())
    assert {"ground_truth", "model", "static"} <= set(results)
    # the features are cached: a second run (evaluation only) reuses them
    cached = list((out / "cache").rglob("*.npz"))
    assert len(cached) == 3
    mtimes = [p.stat().st_mtime for p in cached]
    assert main(args + ["--eval-only"]) == 0
    assert [p.stat().st_mtime for p in cached] == mtimes
    gen = MotionGenerator.from_pretrained(out / "checkpoint", "head")
    assert gen.guider.config.token_dims["audio"] == 49


def test_train_command_errors(tmp_path, capsys):
    from openinfp.cli import main

    assert main(["train", "--config", "test"]) == 2
    assert "data.root is empty" in capsys.readouterr().err
    assert main(["train", "--config", "test", f"data.root={tmp_path / 'nope'}"]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert main(["train", "--config", "test", f"data.root={tmp_path}"]) == 2
    assert "manifest.jsonl" in capsys.readouterr().err


@pytest.mark.slow
def test_train_under_accelerate_launch_with_two_processes(tmp_path):
    """Distributed data parallel through accelerate (2 CPU processes, gloo)."""
    import subprocess
    import sys

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_tiny_corpus(corpus, n=4)
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "-m", "openinfp.cli", "train", "--config", "test",
           f"data.root={corpus}", f"train.out_dir={out}", "train.val_fraction=0.25", "train.steps=10", "--no-progress"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows if "loss" in r] == [5, 10]  # logged once, by the main process
    assert MotionGenerator.from_pretrained(out / "checkpoint", "head").info["step"] == 10


def test_warm_start_copies_weights_and_widens_the_audio_input(tmp_path, toy_convs):
    """A checkpoint trained on F audio features starts a model with F + 3 features: shared
    tensors are copied and the new input columns start at zero."""
    import dataclasses

    from openinfp.training.state import warm_start

    g_cfg, d_cfg = tiny_configs()
    data = _data(toy_convs)
    space = head_motion_space()
    mean, std = motion_stats(data.train)
    stats_space = space.with_stats(mean, std)
    g_cfg = dataclasses.replace(g_cfg, token_dims=dict(data.token_dims))
    old = MotionGenerator.build(g_cfg, d_cfg, stats_space, SamplerConfig(steps=2))
    old.save_pretrained(tmp_path / "old")
    f = data.token_dims["audio"]
    wide_cfg = dataclasses.replace(g_cfg, token_dims={**g_cfg.token_dims, "audio": f + 3})
    new = MotionGenerator.build(wide_cfg, d_cfg, stats_space, SamplerConfig(steps=2))
    summary = warm_start(new, tmp_path / "old")
    assert "widened" in summary and not summary.startswith("0 tensors")
    lift_old = old.guider.audio_encoder.lift.weight
    lift_new = new.guider.audio_encoder.lift.weight
    assert lift_new.shape[1] == f + 3
    torch.testing.assert_close(lift_new[:, :f], lift_old, atol=1e-3, rtol=1e-2)
    assert torch.all(lift_new[:, f:] == 0)
    for (name, a), (_, b) in zip(old.dit.state_dict().items(), new.dit.state_dict().items()):
        torch.testing.assert_close(b, a, atol=1e-3, rtol=1e-2, msg=name)


def test_the_prompt_behaviour_control_is_not_a_training_input(tmp_path):
    """A prompt that describes nodding gives the text conditioner's ``behaviour`` token at
    inference (applied after sampling); the feature cache keeps only the learned text token."""
    from openinfp.core.registry import Registry
    from openinfp.data.shards import ConversationShard
    from openinfp.training.features import encode_conversation

    _write_tiny_corpus(tmp_path, n=1, seconds=2.0, style_text="calm, nods a lot while listening")
    registry = Registry.create(autoload=False)
    conditioners = [registry.conditioner("audio", {}), registry.conditioner("text", {})]
    feats = encode_conversation(ConversationShard(tmp_path / "tiny0.safetensors"), conditioners, "head")
    assert all(set(side.style) == {"text"} for side in feats.sides), [set(s.style) for s in feats.sides]

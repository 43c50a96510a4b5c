"""Moving code changes no output: goldens of the shipped models and of a short training run.

The expected values were recorded from the code at commit 03b9306 (before the training
package split and the option refactor of issue #19) and guard every later refactor:

* **Shipped models.** The shipped ``head`` and ``smplx`` checkpoints give bit-identical
  motion for a fixed seed and a synthetic conversation. The conversation is built from
  seeded random audio tokens (no conditioner), so only the guider, the DiT, the sampler,
  the limiter and the motion space are exercised. When a shipped checkpoint is retrained
  its weights digest changes and the test says to recompute the expected values (it
  cannot tell a refactor from a new model then).
* **Training.** A tiny model trained for a few steps on the seeded toy conversations of
  ``conftest.py`` (windows, collation, style dropout, the loss, AdamW with warm-up, EMA,
  validation, saving, resuming), then sampled and evaluated on the held-out ones, gives
  the same logged losses, the same weights, the same motion and the same metrics.

Everything runs on one torch thread (reductions can depend on the thread count). The
digests are of float32 bytes, so they are exact on one kind of CPU; on another, a
mismatch with a tiny difference in the printed sums is float rounding, not a refactor.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from openinfp.core.conditions import ConditionTokens
from openinfp.core.generator import MotionGenerator, default_checkpoint
from openinfp.core.model_config import SamplerConfig, TrainConfig
from openinfp.head.motion_space import head_motion_space
from openinfp.training.evaluate import evaluate, generate_from_features
from openinfp.training.features import TrainData, split_conversations, token_dims_of
from openinfp.training.loop import fit

from .conftest import tiny_configs


@dataclasses.dataclass(frozen=True)
class ShippedGolden:
    """Recorded digests of one shipped checkpoint."""

    weights_sha256: str  # the weight files (guider, dit, normalizer), in order
    motion_sha256: str  # generated motion (float32 bytes) and the agent_speaking read-out
    motion_sum: float  # sum of the same motion, to show how far a mismatch is


SHIPPED = {
    "head": ShippedGolden(
        "838791c4ac5a6fa9c1bbd41b0e6cf7804b759ba5f0c3e4f39248e3a41a0b4a41",
        "a044df2fd9a476b97ae408ac74c1c019dbe92a82fafbbc7fcd2123f3b088db40",
        268.52991870479946),
    "smplx": ShippedGolden(
        "b57957fa5c59d559d2008e9552f1191e0eb828528cb0ba82e9109790f87cd3ea",
        "cf1884aa4f193e3ae3c9d6039a9e795a5bef9b6d52023f1d2dc8b89b6df85748",
        6352.24322954127),
}

FRAMES = 60

#: sha256 of the training run's logged metrics (every row, without wall-clock fields).
TRAIN_METRICS_SHA256 = "5621b1f7983265fa656116553bce0d96e0b44b6ad75364d5a289f173e5774539"
#: sha256 of the trained (EMA) weights of the guider and the DiT, tensors in state-dict order.
TRAIN_WEIGHTS_SHA256 = "4c5d9f81589901701ac7fe1d42a463a0a8d34aa00320b9cdd84001b03c069403"
#: sha256 of the motion sampled from the trained model for the first held-out conversation.
TRAIN_MOTION_SHA256 = "fab009adbee774bf18ba6e033ed6a7426622edb323fb5d284c1381a979d22ccb"
#: sha256 of the evaluation results (JSON, sorted keys) of the trained model and the static baseline.
TRAIN_EVAL_SHA256 = "f7dfaaa9a3629b3860d6126ef46c58c4caa8d2b9a292fdef2a961bcc25e8c2dc"
#: the last logged training loss, to show how far a mismatch is.
TRAIN_LAST_LOSS = 0.15607205033302307


def _one_thread(fn, *args):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # reductions can depend on the thread count
    try:
        return fn(*args)
    finally:
        torch.set_num_threads(threads)


def _sha256_arrays(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a, dtype=np.float32).tobytes())
    return h.hexdigest()


def weights_digest(name: str) -> str:
    h = hashlib.sha256()
    folder = default_checkpoint(name)
    for part in ("guider", "dit", "normalizer"):
        h.update((folder / part / "model.safetensors").read_bytes())
    return h.hexdigest()


def synthetic_conversation(audio_dim: int, frames: int = FRAMES) -> list[ConditionTokens]:
    """Agent then partner talk: seeded random audio tokens ``[frames, audio_dim]``, silence masked out."""
    g = torch.Generator().manual_seed(1234)
    agent = torch.randn(frames, audio_dim, generator=g)
    partner = torch.randn(frames, audio_dim, generator=g)
    half = frames // 2
    agent_mask = torch.zeros(frames, dtype=torch.bool)
    agent_mask[:half] = True
    return [ConditionTokens("audio", agent, mask=agent_mask, role="agent"),
            ConditionTokens("audio", partner, mask=~agent_mask, role="partner")]


def _motion_digest(name: str) -> tuple[str, float]:
    gen = MotionGenerator.from_pretrained(None, name)
    conversation = synthetic_conversation(gen.guider.config.token_dims["audio"])
    motion = gen.generate(conversation, FRAMES, seed=7)
    values = motion.motion.numpy().astype(np.float32)
    speaking = np.asarray(motion.annotations["agent_speaking"], np.float32)
    return _sha256_arrays(values, speaking), float(values.astype(np.float64).sum())


def motion_digest(name: str) -> tuple[str, float]:
    """(sha256, sum) of the shipped ``name`` model's motion for the synthetic conversation."""
    return _one_thread(_motion_digest, name)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_model_motion_is_bit_identical_to_before_the_refactor(name):
    golden = SHIPPED[name]
    if weights_digest(name) != golden.weights_sha256:
        pytest.skip(f"the shipped {name} checkpoint was retrained: recompute SHIPPED[{name!r}] with this "
                    "module's helpers (weights_digest, motion_digest)")
    digest, total = motion_digest(name)
    assert digest == golden.motion_sha256, f"{name} motion changed: sum {total!r}, expected {golden.motion_sum!r}"


# --------------------------------------------------------------------------------------
# A short training run
# --------------------------------------------------------------------------------------


def _train_config(out: Path, steps: int, resume: bool = False) -> TrainConfig:
    return TrainConfig(out_dir=str(out), steps=steps, batch_size=16, lr=1e-3, warmup_steps=2, val_every=3,
                       save_every=3, log_every=2, ema_decay=0.9, threads=1, seed=3, resume=resume)


def _training_run(toy_convs, out: Path) -> dict[str, object]:
    g_cfg, d_cfg = tiny_configs()
    train, val = split_conversations(toy_convs, 0.1, 0)
    # one training conversation: 140 windows, 8 batches of 16 per epoch
    data = TrainData(train[:1], val, token_dims_of(toy_convs))
    sampler = SamplerConfig(steps=3)
    fit(data, head_motion_space(), g_cfg, d_cfg, sampler, _train_config(out, 6), out, progress=False,
        info={"what": "golden"})
    # resume mid-epoch from the saved state and run into the next epoch (skipped batches, reseeded order)
    gen = fit(data, head_motion_space(), g_cfg, d_cfg, sampler, _train_config(out, 12, resume=True), out,
              progress=False)
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    logged = [{k: v for k, v in r.items() if k not in ("time", "steps_per_s")} for r in rows]
    weights = hashlib.sha256()
    for module in (gen.guider, gen.dit):
        for name, t in module.state_dict().items():
            weights.update(name.encode())
            weights.update(t.detach().float().contiguous().numpy().tobytes())
    motion = generate_from_features(gen, val[0], 0, seed=5)
    results = evaluate({"model": gen, "static": "static"}, val, gen.space, seed=5, progress=False)
    return {
        "metrics": hashlib.sha256(json.dumps(logged, sort_keys=True).encode()).hexdigest(),
        "weights": weights.hexdigest(),
        "motion": _sha256_arrays(motion.motion.numpy(), np.asarray(motion.annotations["agent_speaking"])),
        "eval": hashlib.sha256(json.dumps(results, sort_keys=True).encode()).hexdigest(),
        "last_loss": [r["loss"] for r in logged if "loss" in r][-1],
    }


def training_digests(toy_convs, out: Path) -> dict[str, object]:
    """Digests of the short training run (see the module docstring)."""
    return _one_thread(_training_run, toy_convs, out)


def test_training_run_is_bit_identical_to_before_the_refactor(tmp_path, toy_convs):
    got = training_digests(toy_convs, tmp_path / "run")
    expected = {"metrics": TRAIN_METRICS_SHA256, "weights": TRAIN_WEIGHTS_SHA256, "motion": TRAIN_MOTION_SHA256,
                "eval": TRAIN_EVAL_SHA256}
    changed = [k for k, v in expected.items() if got[k] != v]
    assert not changed, (f"training output changed ({', '.join(changed)}): last loss {got['last_loss']!r}, "
                         f"expected {TRAIN_LAST_LOSS!r}")

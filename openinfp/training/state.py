"""The files of a training run besides the model: resumable state, warm start, metrics log.

``<out_dir>/state`` holds the weights, the EMA and the AdamW moments of the last save
(safetensors plus JSON, :mod:`openinfp.core.checkpoint`); ``<out_dir>/metrics.jsonl``
one JSON line per logged step (mirrored to TensorBoard when installed).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from openinfp.core.checkpoint import load_component, load_optimizer, load_state_into, save_component, save_optimizer

if TYPE_CHECKING:
    from openinfp.core.generator import MotionGenerator
    from openinfp.training.model import EMA


class TrainingState:
    """``<out_dir>/state``: what resuming a run reads and every save writes."""

    def __init__(self, out_dir: Path) -> None:
        self.folder = Path(out_dir) / "state"

    def exists(self) -> bool:
        """Whether a complete state was saved (the optimizer is written last)."""
        return (self.folder / "optimizer" / "config.json").is_file()

    def load(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, ema: "EMA") -> int:
        """Restore the weights, the optimizer and the EMA in place; returns the saved step."""
        names = [n for n, _ in model.named_parameters()]
        _, model_state = load_component(self.folder / "model", "training state")
        load_state_into(model, model_state, self.folder / "model")
        extra = load_optimizer(self.folder / "optimizer", optimizer)
        _, ema_state = load_component(self.folder / "ema", "training state")
        ema.shadow_params = [ema_state[n].clone() for n in names]
        step = int(extra["step"])
        ema.optimization_step = int(extra.get("ema_step", step))
        return step

    def save(self, step: int, model: torch.nn.Module, optimizer: torch.optim.Optimizer, ema: "EMA") -> None:
        """Write the state of ``step`` (``model`` unwrapped from DDP)."""
        names = [n for n, _ in model.named_parameters()]
        save_component(self.folder / "model", {"step": step}, model.state_dict())
        save_component(self.folder / "ema", {"step": step}, dict(zip(names, ema.shadow_params)))
        save_optimizer(self.folder / "optimizer", optimizer, {"step": step, "ema_step": ema.optimization_step})


def warm_start(gen: "MotionGenerator", folder: Path) -> str:
    """Copy the weights of the checkpoint in ``folder`` into ``gen`` (guider and DiT).

    Tensors of the same name and shape are copied; where only the last dimension grew
    (the audio encoder's input when feature columns were appended) the old columns are
    copied and the new ones start at zero, so the warm-started model initially ignores the
    new inputs. The motion statistics stay the new data's. Returns a one-line summary.
    """
    from openinfp.core.generator import MotionGenerator

    old = MotionGenerator.from_pretrained(str(folder), motion_space=gen.space.name)
    same = grown = skipped = 0
    for new_mod, old_mod in ((gen.guider, old.guider), (gen.dit, old.dit)):
        old_state = {k: v.float() for k, v in old_mod.state_dict().items()}
        state = new_mod.state_dict()
        for name, t in state.items():
            o = old_state.get(name)
            if o is None or o.ndim != t.ndim:
                skipped += 1
            elif o.shape == t.shape:
                state[name] = o.clone()
                same += 1
            elif o.shape[:-1] == t.shape[:-1] and o.shape[-1] < t.shape[-1]:
                fresh = torch.zeros_like(t) if t.ndim > 1 else t.clone()
                fresh[..., : o.shape[-1]] = o
                state[name] = fresh
                grown += 1
            else:
                skipped += 1
        new_mod.load_state_dict(state)
    return f"{same} tensors copied, {grown} widened, {skipped} new"


class MetricsLog:
    """Appends JSON lines to ``metrics.jsonl``; mirrors scalars to TensorBoard if installed."""

    def __init__(self, out_dir: Path, enabled: bool = True) -> None:
        self.enabled = enabled
        self.path = out_dir / "metrics.jsonl"
        self.tb = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter  # needs the tensorboard package

                self.tb = SummaryWriter(str(out_dir / "tensorboard"))
            except ImportError:
                self.tb = None

    def log(self, step: int, **values: float) -> None:
        if not self.enabled:
            return
        row = {"step": step, "time": round(time.time(), 3), **{k: float(v) for k, v in values.items()}}
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(k, float(v), step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


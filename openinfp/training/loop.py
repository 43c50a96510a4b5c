"""The training loop: :func:`fit` trains a :class:`MotionGenerator` on cached features.

One process on the CPU, or many through ``accelerate launch`` (PyTorch DDP via
:class:`accelerate.Accelerator`). AdamW with warm-up and a cosine decay, gradient
clipping, EMA weights, a tqdm bar, metrics in ``<out_dir>/metrics.jsonl``, validation
loss on held-out conversations, resumable state in ``<out_dir>/state``.
"""

from __future__ import annotations

import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence

import torch

from openinfp.core.errors import InputError
from openinfp.core.model_config import DiTConfig, GuiderConfig, SamplerConfig, TrainConfig
from openinfp.core.motion_space import MotionSpace
from openinfp.training.features import ConversationFeatures, TrainData, motion_stats
from openinfp.training.model import EMA, MotionModel
from openinfp.training.state import MetricsLog, TrainingState, warm_start
from openinfp.training.windows import STYLE_DROPOUT, WindowDataset, collate

if TYPE_CHECKING:
    from openinfp.core.generator import MotionGenerator


def fit(
    data: TrainData,
    space: MotionSpace,
    guider_config: GuiderConfig,
    dit_config: DiTConfig,
    sampler: SamplerConfig,
    train: TrainConfig,
    out_dir: Path,
    fps: float = 25.0,
    progress: bool = True,
    info: Optional[dict[str, Any]] = None,
    init_from: Optional[Path] = None,
) -> "MotionGenerator":
    """Train a :class:`MotionGenerator` on cached features; returns it (EMA weights).

    ``init_from``: a checkpoint folder whose weights start the run (warm start, see
    :func:`openinfp.training.state.warm_start`); ignored when resuming from a training state.

    Writes ``out_dir/checkpoint`` (EMA weights), ``out_dir/state`` (resume) and
    ``out_dir/metrics.jsonl``. Works in one process or under ``accelerate launch``.
    """
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from tqdm.auto import tqdm

    from openinfp.core.generator import MotionGenerator

    if train.threads > 0:
        torch.set_num_threads(train.threads)
    accelerator = Accelerator()
    set_seed(train.seed)
    out_dir = Path(out_dir)
    if accelerator.is_main_process:
        out_dir.mkdir(parents=True, exist_ok=True)
    # the model projects exactly the token names the data has (no unused parameters, which
    # DDP would reject); other names are ignored at inference with a warning
    guider_config = dataclasses.replace(guider_config, token_dims=dict(data.token_dims))
    mean, std = motion_stats(data.train)
    space = space.with_stats(mean, std)

    def build() -> MotionGenerator:
        return MotionGenerator.build(guider_config, dit_config, space, sampler, fps)

    # the order of everything that draws from the seeded generators is part of the behaviour
    gen = build()
    state = TrainingState(out_dir)
    resuming = train.resume and state.exists()
    if init_from is not None and not resuming:
        accelerator.print(f"warm start from {init_from}: {warm_start(gen, Path(init_from))}")
    model = MotionModel(gen.guider, gen.dit, train)
    span = dit_config.context + dit_config.window
    loader, order = train_loader(data.train, space, span, max(1, dit_config.window // 5), train)
    optimizer = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    ema = EMA(model.parameters(), decay=train.ema_decay)
    step = 0
    if resuming:
        step = state.load(model, optimizer, ema)
        accelerator.print(f"resumed from {state.folder} at step {step}")
    elif train.resume:
        accelerator.print(f"no training state in {state.folder}; starting from scratch")
    schedule = lr_schedule(train.warmup_steps, train.steps)
    # stepped by hand once per optimizer step (not prepared: accelerate would step it per process)
    start_step = step
    lr_sched = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: schedule(i + start_step))
    model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    raw = accelerator.unwrap_model(model)
    log = MetricsLog(out_dir, enabled=accelerator.is_main_process)
    val_ds = WindowDataset(data.val, space, span, stride=dit_config.window, swap_roles=True) if data.val else None

    def ema_generator() -> MotionGenerator:
        return ema_snapshot(build(), ema, train, info)

    def save() -> None:
        if accelerator.is_main_process:
            ema_generator().save_pretrained(out_dir / "checkpoint", info={**(info or {}), "step": step})
            state.save(step, raw, optimizer, ema)

    bar = tqdm(total=train.steps, initial=step, desc="training", unit="step", file=sys.stderr,
               disable=not (progress and accelerator.is_main_process))
    model.train()
    batches = epochs_of(loader, order, train.seed, step)
    t0 = time.perf_counter()
    running: dict[str, float] = {}
    while step < train.steps:
        losses = train_step(accelerator, model, optimizer, lr_sched, next(batches), train.grad_clip)
        ema.step(raw.parameters())
        step += 1
        for k, v in losses.items():
            running[k] = running.get(k, 0.0) + float(v.detach())
        if step % train.log_every == 0 or step == train.steps:
            n = train.log_every if step % train.log_every == 0 else step % train.log_every
            avg = {k: v / n for k, v in running.items()}
            running = {}
            bar.set_postfix(loss=f"{avg['loss']:.4f}")
            log.log(step, **avg, lr=lr_sched.get_last_lr()[0],
                    steps_per_s=(step - start_step) / (time.perf_counter() - t0))
        if val_ds is not None and (step % train.val_every == 0 or step == train.steps):
            if accelerator.is_main_process:
                log.log(step, val_x0=validation_loss(ema_generator(), val_ds, train))
        if step % train.save_every == 0 or step == train.steps:
            save()
        bar.update(1)
    batches.close()
    bar.close()
    log.close()
    accelerator.wait_for_everyone()
    return ema_generator()


def train_step(accelerator: Any, model: torch.nn.Module, optimizer: torch.optim.Optimizer, lr_sched: Any,
               batch: dict[str, torch.Tensor], grad_clip: float) -> dict[str, torch.Tensor]:
    """One optimizer step on ``batch`` (gradients clipped to ``grad_clip`` when > 0); returns the losses."""
    with accelerator.accumulate(model):
        losses = model(batch)
        accelerator.backward(losses["loss"])
        if accelerator.sync_gradients and grad_clip > 0:
            accelerator.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        lr_sched.step()
        optimizer.zero_grad(set_to_none=True)
    return losses


def train_loader(convs: Sequence[ConversationFeatures], space: MotionSpace, span: int, stride: int,
                 train: TrainConfig) -> tuple[torch.utils.data.DataLoader, torch.Generator]:
    """The shuffled loader of training windows and the generator that orders it (reseeded per epoch)."""
    dataset = WindowDataset(convs, space, span, stride=stride, swap_roles=train.swap_roles,
                            style_dropout=STYLE_DROPOUT)
    order = torch.Generator().manual_seed(train.seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=train.batch_size, shuffle=True, drop_last=True,
                                         collate_fn=collate, num_workers=train.num_workers, generator=order)
    if len(loader) == 0:
        raise InputError(f"only {len(dataset)} training windows, fewer than one batch of {train.batch_size}")
    return loader, order


def epochs_of(loader: Any, order: torch.Generator, seed: int, step: int) -> Iterator[dict[str, torch.Tensor]]:
    """Batches from optimizer step ``step`` on, epoch after epoch, without end.

    Epoch ``e`` is shuffled with seed ``seed + e``, so the order is reproducible, also
    after resuming mid-epoch (the batches before ``step`` are drawn and skipped).
    """
    epoch = step // len(loader)
    skip = step % len(loader)
    while True:
        order.manual_seed(seed + epoch)
        if hasattr(loader, "set_epoch"):
            loader.set_epoch(epoch)
        for i, batch in enumerate(loader):
            if i >= skip:
                yield batch
        skip = 0
        epoch += 1


def lr_schedule(warmup: int, total: int) -> Callable[[int], float]:
    """Learning-rate factor of a step: linear warm-up, then a cosine decay to 0.1."""
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return f


def ema_snapshot(gen: "MotionGenerator", ema: EMA, train: TrainConfig,
                 info: Optional[dict[str, Any]] = None) -> "MotionGenerator":
    """``gen`` (freshly built, same configs) with the EMA weights and ``info``."""
    ema.copy_to(MotionModel(gen.guider, gen.dit, train).parameters())
    gen.info = dict(info or {})
    return gen


def validation_loss(gen: "MotionGenerator", val_ds: WindowDataset, train: TrainConfig) -> float:
    """Mean x0 loss per window with fixed noise and every context and condition kept."""
    model = MotionModel(gen.guider, gen.dit, train).eval()
    rng = torch.Generator().manual_seed(1234)
    losses = []
    loader = torch.utils.data.DataLoader(val_ds, batch_size=train.batch_size, collate_fn=collate)
    with torch.no_grad():
        for batch in loader:
            losses.append(float(model(batch, generator=rng)["x0"]) * batch["motion"].shape[0])
    return sum(losses) / len(val_ds)

"""What is trained: the guider and the DiT in one module with their loss, and the EMA of its weights."""

from __future__ import annotations

from typing import Iterable, Optional

import torch
from torch import nn
from torch.nn import functional as F

from openinfp.core.dit import MotionDiT
from openinfp.core.guider import InteractiveMotionGuider
from openinfp.core.model_config import TrainConfig
from openinfp.core.sampling import training_noise_scheduler
from openinfp.training.windows import batch_inputs


class MotionModel(nn.Module):
    """Guider + DiT in one module (what DDP wraps); ``forward(batch)`` returns the losses."""

    def __init__(self, guider: InteractiveMotionGuider, dit: MotionDiT, train: TrainConfig) -> None:
        super().__init__()
        self.guider = guider
        self.dit = dit
        self.train_cfg = train
        sched = training_noise_scheduler(dit.config)
        self.register_buffer("alphas_cumprod", sched.alphas_cumprod.float(), persistent=False)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """DDPM forward process (the same schedule as diffusers' ``add_noise``)."""
        a = self.alphas_cumprod.to(x0)[t].view(-1, 1, 1)
        return a.sqrt() * x0 + (1 - a).sqrt() * noise

    def forward(self, batch: dict[str, torch.Tensor], generator: Optional[torch.Generator] = None
                ) -> dict[str, torch.Tensor]:
        cfg = self.dit.config
        c = cfg.context
        motion = batch["motion"]
        b = motion.shape[0]
        device = motion.device

        def rand(*shape: int) -> torch.Tensor:
            return torch.rand(*shape, generator=generator, device="cpu").to(device)

        def randn(*shape: int) -> torch.Tensor:
            return torch.randn(*shape, generator=generator, device="cpu").to(device)

        x0 = motion[:, c:]
        context = motion[:, :c] + cfg.context_noise * randn(*motion[:, :c].shape) if c else None
        # eval-mode calls (validation) keep every context and condition: a fixed, comparable loss
        ctx_valid = rand(b) >= (cfg.context_dropout if self.training else 0.0)
        drop = rand(b) < (cfg.cond_dropout if self.training else 0.0)
        guided = self.guider(batch_inputs(batch))
        tokens = self.dit.encode_condition(guided.features, drop)
        t = (rand(b) * cfg.train_timesteps).long().clamp_max(cfg.train_timesteps - 1)
        noise = randn(*x0.shape)
        pred = self.dit(self.add_noise(x0, noise, t), t, context, tokens, context_valid=ctx_valid)
        loss_x0 = F.mse_loss(pred, x0)
        loss_vel = F.mse_loss(pred[:, 1:] - pred[:, :-1], x0[:, 1:] - x0[:, :-1])
        speaking = batch["speaking"].to(guided.speaking_logits)
        loss_speak = F.binary_cross_entropy_with_logits(guided.speaking_logits, speaking)
        tc = self.train_cfg
        total = loss_x0 + tc.velocity_weight * loss_vel + tc.speaking_weight * loss_speak
        return {"loss": total, "x0": loss_x0.detach(), "vel": loss_vel.detach(), "speak": loss_speak.detach()}


class EMA:
    """Exponential moving average of parameters, with the usual warm-up of the decay.

    ``decay_t = min(decay, (1 + t) / (10 + t))`` so early averages follow the weights
    quickly. (Written here rather than importing ``diffusers.training_utils``, whose
    import pulls in every diffusers model and ``transformers``: a minute on this CPU.)
    """

    def __init__(self, parameters: Iterable[torch.nn.Parameter], decay: float) -> None:
        self.decay = decay
        self.shadow_params = [p.detach().clone() for p in parameters]
        self.optimization_step = 0

    @torch.no_grad()
    def step(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        self.optimization_step += 1
        t = self.optimization_step
        d = min(self.decay, (1 + t) / (10 + t))
        for s, p in zip(self.shadow_params, parameters):
            s.lerp_(p.detach().to(s.device), 1 - d)

    @torch.no_grad()
    def copy_to(self, parameters: Iterable[torch.nn.Parameter]) -> None:
        for s, p in zip(self.shadow_params, parameters):
            p.copy_(s.to(p.device))

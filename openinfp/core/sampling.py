"""Diffusion sampling of motion: one window, and windows chained for any length.

The loop is written out once here (diffusers style: model, scheduler and loop are
separate). Windows of ``N`` frames are generated one after another; each is
conditioned on the last ``C`` frames of the one before, so the motion continues
across window borders instead of jumping. The same :class:`WindowSampler` drives the
offline generator and the streaming API, so both produce the same motion.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from tqdm.auto import tqdm

from openinfp.core.dit import MotionDiT
from openinfp.core.errors import ConfigError
from openinfp.core.model_config import DiTConfig, SamplerConfig


def training_noise_scheduler(config: DiTConfig):
    """The DDPM schedule the DiT is trained with (``x0`` prediction)."""
    from diffusers import DDPMScheduler

    return DDPMScheduler(num_train_timesteps=config.train_timesteps, beta_schedule=config.beta_schedule,
                         prediction_type="sample", clip_sample=False)


def make_scheduler(sampler: SamplerConfig, dit: DiTConfig):
    """A diffusers scheduler for sampling, matching the training schedule.

    ``ddim`` (deterministic, eta = 0) or ``dpmsolver++`` (multistep, 2nd order); both with
    trailing timestep spacing so few steps still start from pure noise.
    """
    common = dict(num_train_timesteps=dit.train_timesteps, beta_schedule=dit.beta_schedule,
                  prediction_type="sample", timestep_spacing="trailing")
    if sampler.scheduler == "ddim":
        from diffusers import DDIMScheduler

        return DDIMScheduler(clip_sample=False, set_alpha_to_one=True, **common)
    if sampler.scheduler == "dpmsolver++":
        from diffusers import DPMSolverMultistepScheduler

        return DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2,
                                           lower_order_final=True, **common)
    raise ConfigError(f"model.sampler.scheduler is {sampler.scheduler!r}; valid choices: ddim, dpmsolver++")


class WindowSampler:
    """Samples consecutive windows of normalised motion from guider features.

    Args:
        dit: the denoiser (eval mode).
        sampler: scheduler name, steps and guidance scale.
        generator: the random source (seeded by the caller); noise is drawn window by
            window in order, so the same seed gives the same motion, offline or streamed.
    """

    def __init__(self, dit: MotionDiT, sampler: SamplerConfig, generator: torch.Generator) -> None:
        if sampler.steps < 1:
            raise ConfigError(f"model.sampler.steps must be >= 1, got {sampler.steps}")
        self.dit = dit
        self.sampler = sampler
        self.generator = generator
        self.scheduler = make_scheduler(sampler, dit.config)

    @torch.no_grad()
    def window(self, cond: torch.Tensor, context: Optional[torch.Tensor]) -> torch.Tensor:
        """One window.

        Args:
            cond: ``[B, C + N, F]`` guider features of the context span and the window.
            context: ``[B, C, D]`` previous normalised frames, or ``None`` for the first window.

        Returns:
            ``[B, N, D]`` normalised motion.
        """
        dit = self.dit
        c = dit.config.context
        b, n = cond.shape[0], cond.shape[1] - c
        device = cond.device
        guided = self.sampler.guidance_scale != 1.0
        tokens = dit.encode_condition(cond)
        if guided:
            null = dit.encode_condition(cond, drop=torch.ones(b, dtype=torch.bool, device=device))
            tokens = torch.cat([tokens, null])
            if context is not None:
                context = torch.cat([context, context])
        cross_kv = dit.cross_keys_values(tokens)
        noise = torch.randn((b, n, dit.motion_dim), generator=self.generator, device=self.generator.device)
        x = noise.to(device)
        scheduler = self.scheduler
        scheduler.set_timesteps(self.sampler.steps, device=device)
        for t in scheduler.timesteps:
            x_in = torch.cat([x, x]) if guided else x
            ts = t.expand(x_in.shape[0]).to(device)
            pred = dit(x_in, ts, context, tokens, cross_kv=cross_kv)
            if guided:
                cond_pred, null_pred = pred.chunk(2)
                pred = null_pred + self.sampler.guidance_scale * (cond_pred - null_pred)
            x = scheduler.step(pred, t, x).prev_sample
        return x


def pad_frames(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    """Replicate the first/last frame of ``[B, T, F]`` ``before``/``after`` times."""
    parts = []
    if before > 0:
        parts.append(x[:, :1].expand(-1, before, -1))
    parts.append(x)
    if after > 0:
        parts.append(x[:, -1:].expand(-1, after, -1))
    return torch.cat(parts, dim=1) if len(parts) > 1 else x


def window_condition(features: torch.Tensor, start: int, window: int, context: int) -> torch.Tensor:
    """Guider features of frames ``[start - context, start + window)``, edge-replicated.

    ``features``: ``[B, T, F]`` -> ``[B, context + window, F]``.
    """
    total = features.shape[1]
    lo, hi = start - context, start + window
    piece = features[:, max(lo, 0):min(hi, total)]
    return pad_frames(piece, max(0, -lo), max(0, hi - total))


def sample_chained(
    window_sampler: WindowSampler,
    features: torch.Tensor,
    num_frames: int,
    progress: bool = False,
    on_window: Optional[Callable[[int, torch.Tensor], None]] = None,
) -> torch.Tensor:
    """Motion of any length by chaining windows.

    Args:
        window_sampler: the seeded sampler.
        features: ``[B, T, F]`` guider features, ``T >= num_frames``.
        num_frames: frames to produce.
        progress: show a tqdm bar (stderr) over windows.
        on_window: called with ``(start_frame, window [B, N, D])`` after each window.

    Returns:
        ``[B, num_frames, D]`` normalised motion.
    """
    cfg = window_sampler.dit.config
    n, c = cfg.window, cfg.context
    out: list[torch.Tensor] = []
    context: Optional[torch.Tensor] = None
    starts = list(range(0, num_frames, n))
    for start in tqdm(starts, desc="sampling windows", unit="win", disable=not progress, leave=False):
        cond = window_condition(features, start, n, c)
        win = window_sampler.window(cond, context)
        out.append(win)
        if on_window is not None:
            on_window(start, win)
        # the window is at least as long as the context (checked by DiTConfig users)
        context = win[:, -c:] if c > 0 else None
    return torch.cat(out, dim=1)[:, :num_frames]

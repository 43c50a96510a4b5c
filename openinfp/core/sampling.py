"""Diffusion sampling of motion: one window, and windows chained for any length.

The loop is written out once here (diffusers style: model, scheduler and loop are
separate). Windows of ``N`` frames are generated one after another; each is
conditioned on the last ``C`` final frames before it and overlaps the one before by
``O`` frames, which are cross-faded (:class:`WindowChain`), so the motion continues
across window borders instead of jumping. The same :class:`WindowSampler` drives the
offline generator and the streaming API, so both produce the same motion.

Paper: the denoising of INFP's second stage ("Audio-Guided Motion Generation",
arXiv:2412.04037). The chaining of windows with context and cross-faded overlap is this
implementation's way to generate any length and to stream; see :mod:`openinfp.core.dit`.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch
from tqdm.auto import tqdm

from openinfp.core.config import field_choices
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
    valid = ", ".join(field_choices(SamplerConfig, "scheduler"))
    raise ConfigError(f"model.sampler.scheduler is {sampler.scheduler!r}; valid choices: {valid}")


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
    def window(self, cond: torch.Tensor, context: Optional[torch.Tensor],
               noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """One window.

        Args:
            cond: ``[B, C + N, F]`` guider features of the context span and the window.
            context: ``[B, C, D]`` previous normalised frames, or ``None`` for the first window.
            noise: ``[B, N, D]`` starting noise; ``None`` draws it from :attr:`generator`
                (live mode passes noise tied to absolute frames, so overlapping windows
                start from the same noise where they overlap).

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
        if noise is None:
            noise = torch.randn((b, n, dit.motion_dim), generator=self.generator, device=self.generator.device)
        elif noise.shape != (b, n, dit.motion_dim):
            raise ValueError(f"window noise must be {(b, n, dit.motion_dim)}, got {tuple(noise.shape)}")
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


DEFAULT_OVERLAP = 10
"""Frames each window shares with the one before (cross-faded); see :class:`WindowChain`."""


def crossfade_weights(overlap: int) -> torch.Tensor:
    """``[overlap]`` weights of the new window, rising from near 0 to near 1 along a raised
    cosine (the old window gets ``1 - w``), so the blend has no kink at either end."""
    i = torch.arange(1, overlap + 1, dtype=torch.float32)
    return 0.5 - 0.5 * torch.cos(torch.pi * i / (overlap + 1))


class WindowChain:
    """Chains DiT windows into one seamless sequence; shared by offline and streaming.

    Window ``k`` covers frames ``[s_k, s_k + N)`` and is conditioned on the ``C`` final
    frames before ``s_k`` (the DiT's context). Consecutive windows overlap by ``O``
    frames (``s_{k+1} = s_k + N - O``): the last ``O`` frames of a window are held back
    and, when the next window arrives, cross-faded into its first ``O`` frames
    (:func:`crossfade_weights`). Context conditioning alone left visible jumps at the
    window borders on real audio (up to 10 degrees of head rotation in one frame); the
    cross-fade removes them, at the cost of ``N / (N - O)`` times the windows.

    Args:
        window_sampler: the seeded sampler (its DiT gives ``N`` and ``C``).
        overlap: ``O``, ``0 <= O`` and ``N - O >= max(C, 1)``.

    Raises:
        ConfigError: the overlap does not fit the window.
    """

    def __init__(self, window_sampler: WindowSampler, overlap: int = DEFAULT_OVERLAP) -> None:
        cfg = window_sampler.dit.config
        self.sampler = window_sampler
        self.window, self.context = cfg.window, cfg.context
        overlap = min(int(overlap), max(0, cfg.window - max(cfg.context, 1)))  # small windows: less overlap
        if overlap < 0:
            raise ConfigError(f"window overlap must be >= 0, got {overlap}")
        self.overlap = overlap
        self.stride = cfg.window - overlap
        self.done = 0  # final frames produced so far; the next window starts here
        self._pending: Optional[torch.Tensor] = None  # [B, O, D] held-back tail of the last window
        self._history: Optional[torch.Tensor] = None  # [B, <= C, D] last final frames (next context)
        self._fade = crossfade_weights(overlap)

    def step(self, cond: torch.Tensor, final: bool = False, keep: Optional[int] = None) -> torch.Tensor:
        """Sample the window starting at :attr:`done` and return the frames now final.

        Args:
            cond: ``[B, C + N, F]`` guider features of frames ``[done - C, done + N)``.
            final: the sequence ends inside this window: return its frames up to ``keep``
                and hold nothing back.
            keep: with ``final``, how many of the window's frames exist (default ``N``).

        Returns:
            ``[B, K, D]`` normalised motion of frames ``[done, done + K)`` (``K = N - O``,
            or ``keep`` when final); :attr:`done` advances by ``K``.
        """
        c = self.context
        context = self._history[:, -c:] if (c > 0 and self._history is not None) else None
        win = self.sampler.window(cond, context)
        if self._pending is not None and self.overlap > 0:
            w = self._fade.to(win.device, win.dtype)[None, :, None]
            win = torch.cat([(1 - w) * self._pending + w * win[:, :self.overlap], win[:, self.overlap:]], dim=1)
        if final:
            out, self._pending = win[:, :(self.window if keep is None else keep)], None
        else:
            out, self._pending = win[:, :self.stride], win[:, self.stride:]
        if c > 0:
            hist = out if self._history is None else torch.cat([self._history, out], dim=1)
            self._history = hist[:, -c:]
        self.done += out.shape[1]
        return out


def sample_chained(
    window_sampler: WindowSampler,
    features: torch.Tensor,
    num_frames: int,
    progress: bool = False,
    on_window: Optional[Callable[[int, torch.Tensor], None]] = None,
    overlap: int = DEFAULT_OVERLAP,
) -> torch.Tensor:
    """Motion of any length by chaining overlapping windows (:class:`WindowChain`).

    Args:
        window_sampler: the seeded sampler.
        features: ``[B, T, F]`` guider features, ``T >= num_frames``.
        num_frames: frames to produce.
        progress: show a tqdm bar (stderr) over windows.
        on_window: called with ``(start_frame, final frames [B, K, D])`` after each window.
        overlap: frames shared by consecutive windows (cross-faded).

    Returns:
        ``[B, num_frames, D]`` normalised motion.
    """
    chain = WindowChain(window_sampler, overlap)
    n, c = chain.window, chain.context
    out: list[torch.Tensor] = []
    windows = 1 + max(0, -(-(num_frames - n) // chain.stride))
    with tqdm(total=windows, desc="sampling windows", unit="win", disable=not progress, leave=False) as bar:
        while chain.done < num_frames:
            start = chain.done
            final = start + n >= num_frames
            cond = window_condition(features, start, n, c)
            frames = chain.step(cond, final=final, keep=num_frames - start if final else None)
            out.append(frames)
            if on_window is not None:
                on_window(start, frames)
            bar.update(1)
    return torch.cat(out, dim=1)[:, :num_frames]

"""`MotionGenerator`: condition tokens -> motion, with the guider, the DiT and a sampler.

This is the public face of stage 2 that the pipeline calls::

    gen = MotionGenerator.from_pretrained(None, motion_space="head")   # shipped default
    motion = gen.generate(conditions, num_frames=250, seed=0)          # MotionSequence

A generator is built from three checkpoint components (see
:mod:`openinfp.core.checkpoint`): the interactive motion guider, the motion DiT, and the
normaliser (per-dimension mean/std of the training motion).

Paper: INFP (Zhu et al., "INFP: Audio-Driven Interactive Head Generation in Dyadic
Conversations", arXiv:2412.04037), second stage "Audio-Guided Motion Generation"
(interactive motion guider + conditional diffusion transformer); the departures are
listed in :mod:`openinfp.core.guider` and :mod:`openinfp.core.dit`.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence

import numpy as np
import torch

from openinfp.core.behaviour import BehaviourControl, BehaviourSettings, split_behaviour
from openinfp.core.checkpoint import (
    CONFIG_NAME,
    FORMAT,
    FORMAT_VERSION,
    load_component,
    load_state_into,
    read_index,
    save_component,
    write_folder_atomically,
)
from openinfp.core.conditions import ConditionTokens
from openinfp.core.dit import MotionDiT
from openinfp.core.errors import CheckpointError, InputError
from openinfp.core.guider import GuiderInputs, GuiderOutput, InteractiveMotionGuider
from openinfp.core.io import PathLike
from openinfp.core.model_config import DiTConfig, GuiderConfig, SamplerConfig
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_limits import MotionLimiter, MotionLimits
from openinfp.core.motion_space import MotionSpace
from openinfp.core.rotations import matrix_to_rot6d, rot6d_to_matrix
from openinfp.core.sampling import DEFAULT_OVERLAP, WindowSampler, sample_chained

if TYPE_CHECKING:
    from openinfp.core.registry import Registry

COMPONENTS = ("guider", "dit", "normalizer")


def shipped_checkpoint_dir() -> Path:
    """Folder of the default checkpoints inside the package (one sub-folder per space)."""
    return Path(__file__).resolve().parent.parent / "checkpoints"


def default_checkpoint(motion_space: str) -> Path:
    """The shipped default checkpoint for ``motion_space``.

    Raises:
        CheckpointError: no default model ships for that space.
    """
    path = shipped_checkpoint_dir() / motion_space
    if not (path / CONFIG_NAME).is_file():
        shipped = sorted(p.name for p in shipped_checkpoint_dir().glob("*") if (p / CONFIG_NAME).is_file()) \
            if shipped_checkpoint_dir().is_dir() else []
        raise CheckpointError(f"no default motion model ships for motion space {motion_space!r} "
                              f"(shipped: {', '.join(shipped) or 'none'}); train one with `openinfp train` "
                              "and pass its checkpoint folder")
    return path


def _from_dict(cls: type, data: dict[str, Any], where: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise CheckpointError(f"{where}: unknown {cls.__name__} fields {unknown} (written by a newer openinfp?)")
    return cls(**data)


def _motion_space_lookup(registry: Optional["Registry"],
                         spaces: Optional[Callable[[str], MotionSpace]]) -> Callable[[str], MotionSpace]:
    if spaces is not None:
        return spaces
    if registry is None:
        from openinfp.core.registry import default_registry  # lazy: builds a plugin manager once

        registry = default_registry()
    return registry.motion_space


class MotionGenerator:
    """The interactive motion guider + motion DiT + sampler, ready to generate.

    Args:
        guider: the trained :class:`InteractiveMotionGuider`.
        dit: the trained :class:`MotionDiT`.
        space: the motion space, carrying the normalisation statistics.
        sampler: scheduler, steps and guidance scale used by :meth:`generate`.
        fps: motion frame rate the model was trained at.
        info: free-form provenance (training command, data, metrics) from the checkpoint.

    Attributes:
        overlap: frames shared (and cross-faded) by consecutive windows
            (:class:`~openinfp.core.sampling.WindowChain`); 0 = context hand-over only.
        limits: physical speed limits applied to every output
            (:mod:`openinfp.core.motion_limits`); ``None`` = raw model output.
    """

    def __init__(self, guider: InteractiveMotionGuider, dit: MotionDiT, space: MotionSpace,
                 sampler: Optional[SamplerConfig] = None, fps: float = 25.0,
                 info: Optional[dict[str, Any]] = None) -> None:
        if space.mean is None or space.std is None:
            raise ValueError("MotionGenerator needs a motion space with normalisation statistics")
        if dit.motion_dim != space.dim:
            raise ValueError(f"DiT motion_dim {dit.motion_dim} != motion space {space.name!r} dim {space.dim}")
        self.guider = guider.eval()
        self.dit = dit.eval()
        self.space = space
        self.sampler = sampler or SamplerConfig()
        self.fps = float(fps)
        self.info = dict(info or {})
        self.overlap: int = DEFAULT_OVERLAP
        self.limits: Optional[MotionLimits] = MotionLimits()

    # ----- construction ---------------------------------------------------------------
    @classmethod
    def build(cls, guider_config: GuiderConfig, dit_config: DiTConfig, space: MotionSpace,
              sampler: Optional[SamplerConfig] = None, fps: float = 25.0) -> "MotionGenerator":
        """A freshly initialised (untrained) generator; ``space`` must carry stats."""
        guider = InteractiveMotionGuider(guider_config)
        dit = MotionDiT(dit_config, space.dim, guider_config.width)
        return cls(guider, dit, space, sampler, fps)

    @property
    def device(self) -> torch.device:
        return next(self.dit.parameters()).device

    def to(self, device: str | torch.device) -> "MotionGenerator":
        self.guider.to(device)
        self.dit.to(device)
        return self

    @classmethod
    def from_pretrained(cls, path: Optional[PathLike] = None, motion_space: str = "head",
                        device: str = "cpu", sampler: Optional[SamplerConfig] = None,
                        registry: Optional["Registry"] = None,
                        spaces: Optional[Callable[[str], MotionSpace]] = None) -> "MotionGenerator":
        """Load a checkpoint folder (``None``: the default shipped for ``motion_space``).

        Args:
            path: checkpoint folder written by :meth:`save_pretrained` / ``openinfp train``.
            motion_space: which shipped default to use when ``path`` is ``None``; when a
                path is given, the checkpoint's own space must match it.
            device: ``"cpu"`` or ``"cuda"``.
            sampler: overrides the sampler stored in the checkpoint.
            registry: where the checkpoint's motion space is looked up (the caller's
                :class:`~openinfp.core.registry.Registry`; the pipeline passes its own).
            spaces: instead of ``registry``, a function ``name -> MotionSpace``. With
                neither, a registry over the installed plugins is built here.

        Raises:
            CheckpointError: missing/extra files, pickles, mismatched weights or space.
        """
        folder = default_checkpoint(motion_space) if path is None else Path(path)
        index = read_index(folder)
        space_name = index.get("motion_space", "")
        if space_name != motion_space:
            raise CheckpointError(f"checkpoint {folder} is for motion space {space_name!r}, "
                                  f"not {motion_space!r}")
        missing = [c for c in COMPONENTS if c not in index["components"]]
        if missing:
            raise CheckpointError(f"checkpoint {folder} lacks components {missing}")
        g_cfg, g_state = load_component(folder / "guider", "guider checkpoint")
        d_cfg, d_state = load_component(folder / "dit", "DiT checkpoint")
        n_cfg, n_state = load_component(folder / "normalizer", "normalizer checkpoint")
        space = _motion_space_lookup(registry, spaces)(space_name)
        if n_cfg.get("names") != space.names:
            raise CheckpointError(f"checkpoint {folder}: its motion layout does not match motion space "
                                  f"{space_name!r} as installed ({space.dim} dims)")
        if set(n_state) != {"mean", "std"}:
            raise CheckpointError(f"normalizer checkpoint {folder / 'normalizer'} must hold mean and std")
        space = space.with_stats(n_state["mean"], n_state["std"])
        guider_config = _from_dict(GuiderConfig, g_cfg, str(folder / "guider" / CONFIG_NAME))
        d_cfg = dict(d_cfg)
        motion_dim, cond_dim = d_cfg.pop("motion_dim", None), d_cfg.pop("cond_dim", None)
        dit_config = _from_dict(DiTConfig, d_cfg, str(folder / "dit" / CONFIG_NAME))
        if motion_dim != space.dim or cond_dim != guider_config.width:
            raise CheckpointError(f"checkpoint {folder}: DiT dims ({motion_dim}, {cond_dim}) do not match "
                                  f"the space ({space.dim}) and guider width ({guider_config.width})")
        guider = InteractiveMotionGuider(guider_config)
        load_state_into(guider, g_state, folder / "guider")
        dit = MotionDiT(dit_config, space.dim, guider_config.width)
        load_state_into(dit, d_state, folder / "dit")
        stored_sampler = _from_dict(SamplerConfig, index.get("sampler", {}), str(folder / CONFIG_NAME))
        gen = cls(guider, dit, space, sampler or stored_sampler, float(index.get("fps", 25.0)),
                  index.get("info", {}))
        return gen.to(device)

    def save_pretrained(self, path: PathLike, dtype: Optional[torch.dtype] = None,
                        info: Optional[dict[str, Any]] = None) -> Path:
        """Write the checkpoint folder (atomically; replaces an existing one).

        ``dtype=torch.float16`` halves the size (used for the shipped defaults).
        """
        info = {**self.info, **(info or {})}

        def write(tmp: Path) -> None:
            index = {"format": FORMAT, "format_version": FORMAT_VERSION, "motion_space": self.space.name,
                     "fps": self.fps, "sampler": dataclasses.asdict(self.sampler),
                     "components": list(COMPONENTS), "info": info}
            (tmp / CONFIG_NAME).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            save_component(tmp / "guider", dataclasses.asdict(self.guider.config), self.guider.state_dict(), dtype)
            save_component(tmp / "dit", {**dataclasses.asdict(self.dit.config), "motion_dim": self.dit.motion_dim,
                                         "cond_dim": self.dit.cond_dim}, self.dit.state_dict(), dtype)
            # statistics stay float32: they scale every output
            save_component(tmp / "normalizer", {"motion_space": self.space.name, "names": self.space.names},
                           {"mean": self.space.mean, "std": self.space.std})

        return write_folder_atomically(path, write)

    # ----- generation -----------------------------------------------------------------
    @torch.no_grad()
    def guide(self, inputs: GuiderInputs) -> GuiderOutput:
        """Run the guider on prepared inputs (moved to the model's device)."""
        return self.guider(inputs.to(self.device))

    def _sampler(self, steps: Optional[int]) -> SamplerConfig:
        if steps is None:
            return self.sampler
        if steps < 1:
            raise InputError(f"steps must be >= 1, got {steps}")
        return dataclasses.replace(self.sampler, steps=int(steps))

    def make_rng(self, seed: int) -> torch.Generator:
        """The noise source for ``seed`` (on the CPU, so results match across devices)."""
        return torch.Generator(device="cpu").manual_seed(int(seed))

    def window_sampler(self, seed: int = 0, steps: Optional[int] = None) -> WindowSampler:
        """A seeded :class:`WindowSampler` over this model's DiT."""
        return WindowSampler(self.dit, self._sampler(steps), self.make_rng(seed))

    def motion_limiter(self) -> Optional[MotionLimiter]:
        """A fresh limiter for one sequence (``None`` when :attr:`limits` is off)."""
        return MotionLimiter(self.space, self.fps, self.limits) if self.limits is not None else None

    def behaviour_control(self, settings: Optional[BehaviourSettings]) -> Optional[BehaviourControl]:
        """A fresh behaviour control for one sequence (``None`` without settings);
        see :mod:`openinfp.core.behaviour`."""
        return BehaviourControl(self.space, self.fps, settings) if settings is not None else None

    def to_motion(self, normalized: torch.Tensor, speaking_logits: Optional[torch.Tensor] = None,
                  limiter: Optional[MotionLimiter] = None,
                  behaviour: Optional[BehaviourControl] = None) -> MotionSequence:
        """Normalised ``[T, D]`` -> :class:`MotionSequence` in physical units.

        Rotations are re-orthonormalised (valid 6D), bounded slices clipped, the
        ``behaviour`` control (if any; stateful like the limiter) applied with the agent's
        speaking read-out, then the ``limiter`` (if any; it continues from the chunk it saw
        last) bounds the frame-to-frame speed, and the guider's speaking read-out is
        attached as ``agent_speaking`` / ``partner_speaking`` annotations (probabilities
        per frame).
        """
        motion = self.space.denormalize(normalized.float().cpu())
        for part in self.space.slices:
            if part.rotation == "6d":
                idx = self.space.index(part.name)
                blocks = motion[:, idx].reshape(motion.shape[0], part.num_rotations, 6)
                motion[:, idx] = matrix_to_rot6d(rot6d_to_matrix(blocks)).reshape(motion.shape[0], -1)
        motion = self.space.clamp(motion)
        if behaviour is not None:
            speaking = None if speaking_logits is None else torch.sigmoid(speaking_logits.float().cpu()[:, 0])
            motion = behaviour(motion, speaking)
        if limiter is not None:
            motion = limiter(motion)
        annotations: dict[str, np.ndarray] = {}
        if speaking_logits is not None:
            probs = torch.sigmoid(speaking_logits.float().cpu()).numpy().astype(np.float32)
            annotations = {"agent_speaking": probs[:, 0], "partner_speaking": probs[:, 1]}
        return MotionSequence(motion, self.space, self.fps, annotations)

    @torch.no_grad()
    def generate(self, conditions: Sequence[ConditionTokens], num_frames: int, seed: int = 0,
                 steps: Optional[int] = None, progress: bool = False) -> MotionSequence:
        """Generate the agent's motion for ``num_frames`` frames.

        Args:
            conditions: condition tokens from the conditioners: two ``"audio"`` sets
                (agent and partner tracks, ``[T, F]`` each, ``T == num_frames``) and any
                global style tokens (``"text"`` ``[1, 384]``, ``"image"``) and an optional
                ``"behaviour"`` token (:mod:`openinfp.core.behaviour`: an explicit control
                of head motion and listening nods, applied to the output).
            num_frames: frames to generate at :attr:`fps`.
            seed: noise seed; the same seed gives the same motion.
            steps: sampler steps (default: the checkpoint's).
            progress: show a progress bar over windows (stderr).

        Returns:
            :class:`MotionSequence` ``[num_frames, D]`` with ``agent_speaking`` and
            ``partner_speaking`` annotations.
        """
        if num_frames < 1:
            raise InputError(f"num_frames must be >= 1, got {num_frames}")
        conditions, behaviour = split_behaviour(conditions)
        inputs = self.guider.prepare(conditions, num_frames)
        out = self.guide(inputs)
        motion = sample_chained(self.window_sampler(seed, steps), out.features, num_frames, progress=progress,
                                overlap=self.overlap)
        return self.to_motion(motion[0], out.speaking_logits[0], self.motion_limiter(),
                              self.behaviour_control(behaviour))

    def num_parameters(self) -> int:
        return sum(p.numel() for m in (self.guider, self.dit) for p in m.parameters())

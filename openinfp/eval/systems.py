"""The rows of an evaluation: systems that produce the agent's motion for a conversation.

================  ===================================================================
``ground_truth``  the real (or synthetic-corpus) agent motion stored with the data
``static``        the source face held still (the space's neutral motion)
``rule_based``    :func:`openinfp.eval.baseline.rule_based_motion`
``model``         the motion generator (shipped default or ``--checkpoint``), through
                  the configured conditioners, as ``openinfp animate`` runs it
``model_no_banks`` the same with a checkpoint trained with the memory banks off
                  (``GuiderConfig.use_memory_banks = false``), sampled with the
                  ``model`` row's sampler so the two differ only in their weights
================  ===================================================================

A system that cannot run here raises :class:`SystemUnavailable` with the reason; the
report lists it instead of failing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Protocol

from openinfp.core.errors import CheckpointError, ConfigError, DependencyError, PluginError
from openinfp.core.motion import MotionSequence
from openinfp.eval import SYSTEM_NAMES
from openinfp.eval.inputs import EvalConversation


class SystemUnavailable(Exception):
    """This system cannot produce motion here (no ground truth, no checkpoint, ...)."""


class System(Protocol):
    """Produces the agent's motion ``[T, D]`` (``T = conv.num_frames``) in ``space``."""

    name: str

    def motion(self, conv: EvalConversation, space: str, seed: int) -> MotionSequence: ...


class GroundTruth:
    name = "ground_truth"

    def motion(self, conv: EvalConversation, space: str, seed: int) -> MotionSequence:
        if space not in conv.agent_motion:
            raise SystemUnavailable(f"{conv.name} has no ground-truth {space!r} motion")
        return conv.agent_motion[space]


class StaticFace:
    """The portrait (or body) held still: the space's rest motion; for ``smplx`` the
    relaxed standing pose of :func:`openinfp.body.convert.neutral_smplx_motion` (arms
    down) rather than the T-pose."""

    name = "static"

    def motion(self, conv: EvalConversation, space: str, seed: int) -> MotionSequence:
        if space == "smplx":
            try:
                from openinfp.body.convert import neutral_smplx_motion
            except ImportError:
                pass
            else:
                return neutral_smplx_motion(conv.num_frames, conv.fps)
        ms = _registry().motion_space(space)
        return MotionSequence(ms.neutral(conv.num_frames), ms, conv.fps)


class RuleBased:
    name = "rule_based"

    def motion(self, conv: EvalConversation, space: str, seed: int) -> MotionSequence:
        from openinfp.eval.baseline import rule_based_motion

        try:
            return rule_based_motion(conv.audio, conv.num_frames, conv.fps, seed, motion_space=space)
        except ImportError as exc:
            raise SystemUnavailable(f"the rule-based baseline cannot draw {space!r} here: {exc}") from None


_REGISTRY: list[Any] = []


def _registry() -> Any:
    if not _REGISTRY:
        from openinfp.core.registry import Registry

        _REGISTRY.append(Registry.create())
    return _REGISTRY[0]


class Model:
    """The motion generator behind :class:`~openinfp.pipeline.pipeline.ConversationPipeline`.

    Args:
        name: row name.
        checkpoint: checkpoint folder (``None``: the shipped default for the space).
        preset: config preset (conditioners, sampler) of the pipeline.
        overrides: extra ``key=value`` config overrides.
    """

    def __init__(self, name: str = "model", checkpoint: Optional[str] = None, preset: str = "default",
                 overrides: tuple[str, ...] = (), match_sampler: Optional["Model"] = None) -> None:
        self.name = name
        self.checkpoint = checkpoint
        self.preset = preset
        self.overrides = overrides
        self.match_sampler = match_sampler
        self.notes: list[str] = []
        self._pipelines: dict[str, Any] = {}

    def _align_sampler(self, generator: Any, pipe: Any, space: str) -> None:
        """Sample like the reference model row (an ablation must differ only in its weights),
        and record the sampler actually used."""
        import dataclasses

        if self.match_sampler is not None:
            try:
                ref = self.match_sampler._pipeline(space).generator(space).sampler
            except SystemUnavailable:
                self.notes.append(f"{self.name}: the model row is unavailable, so its own stored sampler is used")
            else:
                generator.sampler = dataclasses.replace(ref)
        steps = pipe.config.model.sampler.steps or generator.sampler.steps
        smp = generator.sampler
        self.notes.append(f"{self.name}: {self.checkpoint or 'shipped default'}; sampler {smp.scheduler}, "
                          f"{steps} steps, guidance scale {smp.guidance_scale:g}")

    def _pipeline(self, space: str) -> Any:
        if space not in self._pipelines:
            try:
                from openinfp.pipeline.pipeline import ConversationPipeline
            except ImportError as exc:
                raise SystemUnavailable(f"the pipeline is not installed ({exc})") from None
            overrides = [f"motion_space={space}", *self.overrides]
            if self.checkpoint:
                overrides.append(f"model.checkpoint={self.checkpoint}")
            try:
                pipe = ConversationPipeline.from_preset(self.preset, overrides, registry=_registry(),
                                                        show_progress=False)
                generator = pipe.generator(space)  # load now: a missing checkpoint is "unavailable", not a crash
            except (CheckpointError, ConfigError, PluginError, DependencyError) as exc:
                raise SystemUnavailable(str(exc).splitlines()[0]) from None
            self._pipelines[space] = pipe
            self._align_sampler(generator, pipe, space)
        return self._pipelines[space]

    def motion(self, conv: EvalConversation, space: str, seed: int) -> MotionSequence:
        pipe = self._pipeline(space)
        if abs(pipe.config.fps - conv.fps) > 1e-6:
            raise SystemUnavailable(f"{conv.name} is at {conv.fps:g} fps but the model runs at {pipe.config.fps:g} fps")
        try:
            motion = pipe.generate(conv.audio, seed=seed, motion_space=space)
        except (CheckpointError, ConfigError, PluginError, DependencyError) as exc:
            raise SystemUnavailable(str(exc).splitlines()[0]) from None
        return motion


def find_no_banks_checkpoint(space: str) -> Optional[Path]:
    """A shipped checkpoint for ``space`` whose guider was trained without memory banks."""
    try:
        from openinfp.core.generator import shipped_checkpoint_dir
    except ImportError:
        return None
    root = shipped_checkpoint_dir()
    if not root.is_dir():
        return None
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            index = json.loads((folder / "config.json").read_text(encoding="utf-8"))
            guider = json.loads((folder / "guider" / "config.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if index.get("motion_space") == space and guider.get("use_memory_banks") is False:
            return folder
    return None


def uses_memory_banks(checkpoint: str) -> Optional[bool]:
    """``use_memory_banks`` of a checkpoint folder's guider config (None if unreadable)."""
    try:
        guider = json.loads((Path(checkpoint) / "guider" / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    value = guider.get("use_memory_banks")
    return value if isinstance(value, bool) else None


class Unavailable:
    """A row that cannot run at all (reason known before any conversation)."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason

    def motion(self, conv: EvalConversation, space: str, seed: int) -> MotionSequence:
        raise SystemUnavailable(self.reason)


def build_systems(names: tuple[str, ...], space: str, checkpoint: Optional[str] = None,
                  no_banks_checkpoint: Optional[str] = None, preset: str = "default",
                  overrides: tuple[str, ...] = ()) -> list[Any]:
    """The systems to evaluate, in table order (model rows use ``preset`` with ``overrides``)."""
    systems: list[Any] = []
    reference = Model("model", checkpoint, preset, overrides)  # the ablation samples like this one
    for name in names:
        if name == "ground_truth":
            systems.append(GroundTruth())
        elif name == "static":
            systems.append(StaticFace())
        elif name == "rule_based":
            systems.append(RuleBased())
        elif name == "model":
            systems.append(reference)
        elif name == "model_no_banks":
            ckpt = no_banks_checkpoint or (str(find_no_banks_checkpoint(space) or "") or None)
            if ckpt is None:
                systems.append(Unavailable(name, "no checkpoint trained with use_memory_banks=false; train one "
                                                 "(openinfp train ... guider.options.use_memory_banks=false) and pass "
                                                 "--no-banks-checkpoint"))
                continue
            if uses_memory_banks(ckpt) is True:
                systems.append(Unavailable(name, f"checkpoint {ckpt} was trained WITH memory banks; the ablation "
                                                 "needs use_memory_banks=false"))
                continue
            systems.append(Model(name, ckpt, preset, overrides, match_sampler=reference))
        else:
            raise ConfigError(f"unknown system {name!r}; choose from {', '.join(SYSTEM_NAMES)}")
    return systems

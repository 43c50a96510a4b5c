"""The full :class:`PipelineConfig`, assembled from every stage's config, and its loader.

This is the top of the config layering: it imports the stage configs (audio, head,
body, data) and the model configs; no stage imports it back except through the CLI and
the pipeline. The generic machinery (presets, overrides, validation, field bounds) is in
:mod:`openinfp.core.config`, which imports no stage package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, List, Optional, Sequence

from openinfp.audio.config import AudioConfig
from openinfp.body.config import BodyConfig
from openinfp.core.config import (
    DEFAULT_PRESET,
    DEVICES,
    SEED_RANGE,
    ComponentConfig,
    OutputConfig,
    load_structured,
)
from openinfp.core.config import describe_fields as _describe_fields
from openinfp.core.model_config import ModelConfig, TrainConfig
from openinfp.data.config import DataConfig
from openinfp.head.config import HeadConfig

if TYPE_CHECKING:
    from openinfp.core.registry import Registry

__all__ = ["PipelineConfig", "load_config", "resolve_plugins", "describe_fields", "LAYOUTS"]

LAYOUTS: tuple[str, ...] = ("auto", "single", "pair")
"""Who one run shows (``AnimateInputs.layout``, ``animate --layout``): the portrait alone, both
participants side by side, or ``auto`` (pair with a partner portrait, or for bodies when the
partner speaks)."""


def _conditioners_default() -> list:
    return [ComponentConfig(name="audio")]


@dataclass
class PipelineConfig:
    """Everything one run needs. See ``openinfp config show default``."""

    preset: str = field(default=DEFAULT_PRESET, metadata={"help": "name of the preset this config started from"})
    seed: int = field(default=0, metadata={"help": "random seed", "range": SEED_RANGE})
    device: str = field(default="cpu", metadata={"choices": DEVICES, "help": "where the models run"})
    fps: float = field(default=25.0, metadata={"help": "motion and video frame rate", "range": (1.0, 120.0)})
    motion_space: str = field(default="head", metadata={
        "help": "motion representation generated (`openinfp plugins list`: head, smplx, ...)"})
    audio: AudioConfig = field(default_factory=AudioConfig, metadata={
        "help": "how input audio becomes the agent and partner tracks"})
    conditioners: List[ComponentConfig] = field(default_factory=_conditioners_default, metadata={
        "help": "conditioners that turn the inputs into condition tokens, by name with options"})
    guider: ComponentConfig = field(default_factory=lambda: ComponentConfig(name="interactive"), metadata={
        "help": "motion guider plugin (options: GuiderConfig)"})
    model: ModelConfig = field(default_factory=ModelConfig, metadata={"help": "motion model weights and sampling"})
    renderer: ComponentConfig = field(default_factory=lambda: ComponentConfig(name="portrait"), metadata={
        "help": "renderer plugin that turns motion into frames, with its options"})
    head: HeadConfig = field(default_factory=HeadConfig, metadata={"help": "head tracking"})
    body: BodyConfig = field(default_factory=BodyConfig, metadata={"help": "body model choice and model files"})
    output: OutputConfig = field(default_factory=OutputConfig, metadata={"help": "video output"})
    train: TrainConfig = field(default_factory=TrainConfig, metadata={"help": "training of the motion model"})
    data: DataConfig = field(default_factory=DataConfig, metadata={
        "help": "where training data lives and how windows are cut from it"})


def describe_fields(cls: Optional[type] = None, prefix: str = "") -> Iterator[str]:
    """One line per config key (default: every key of :class:`PipelineConfig`)."""
    return _describe_fields(cls or PipelineConfig, prefix)


def load_config(
    preset: str = DEFAULT_PRESET,
    overrides: Sequence[str] = (),
    registry: Optional["Registry"] = None,
    resolve: bool = True,
) -> PipelineConfig:
    """Merge defaults <- preset YAML <- overrides into a validated :class:`PipelineConfig`.

    Args:
        preset: a preset name (``openinfp config list``) or a ``.yaml`` path.
        overrides: ``key=value`` strings.
        registry: the :class:`~openinfp.core.registry.Registry` used to list presets,
            check plugin names and plugin options; built here when not given.
        resolve: check plugin names and fill in plugin options' defaults.

    Raises:
        ConfigError: unreadable YAML, unknown key, wrong type, unknown plugin name.
    """
    if registry is None and (resolve or not Path(preset).suffix):
        from openinfp.core.registry import Registry

        registry = Registry.create()
    cfg: PipelineConfig = load_structured(PipelineConfig, preset, overrides, registry)
    if resolve:
        resolve_plugins(cfg, registry)
    return cfg


def resolve_plugins(cfg: PipelineConfig, registry: "Registry") -> PipelineConfig:
    """Check every plugin name in ``cfg`` and fill in/validate its options (in place)."""
    registry.spec("motion_spaces", cfg.motion_space, key="motion_space")
    for i, comp in enumerate(cfg.conditioners):
        key = f"conditioners[{i}]"
        spec = registry.spec("conditioners", comp.name, key=f"{key}.name")
        comp.options = spec.resolve_options(comp.options, key=f"{key}.options")
    for key, kind in (("guider", "guiders"), ("renderer", "renderers")):
        comp = getattr(cfg, key)
        spec = registry.spec(kind, comp.name, key=f"{key}.name")
        comp.options = spec.resolve_options(comp.options, key=f"{key}.options")
    return cfg

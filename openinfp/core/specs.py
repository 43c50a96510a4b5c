"""Frozen specs that plugins return from the registration hooks.

A spec is small and cheap: it names a component and says how to build it, but does
not import the implementation until :meth:`ComponentSpec.load` is called, so
``openinfp plugins`` and ``--help`` stay fast and do not import torch-heavy code.

``target`` is either a callable or an import path ``"package.module:attribute"``.
"""

from __future__ import annotations

import argparse
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Union

from openinfp.core.errors import ConfigError, PluginError

Target = Union[str, Callable[..., Any]]


def resolve_target(target: Target, what: str) -> Any:
    """Import ``"module:attr"`` (or return a callable unchanged)."""
    if not isinstance(target, str):
        return target
    module_name, _, attr = target.partition(":")
    if not attr:
        raise PluginError(f"{what}: target {target!r} must look like 'package.module:attribute'")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"{what}: cannot load {target!r}: {exc}") from exc
    return obj


@dataclass(frozen=True)
class ComponentSpec:
    """Common fields of every buildable component.

    Attributes:
        name: unique name within its kind; what configs and the CLI use.
        target: the factory (class or function) or its import path. Called as
            ``factory(config)`` with an instance of ``config_cls`` when that is set,
            otherwise as ``factory(**options)``.
        description: one line shown by ``openinfp plugins``.
        config_cls: optional dataclass of the component's options; options from
            configs are validated against it (unknown keys and wrong types rejected).
    """

    name: str
    target: Target
    description: str = ""
    config_cls: Optional[type] = None

    kind: str = field(default="component", init=False)

    def load(self) -> Callable[..., Any]:
        """Import and return the factory."""
        return resolve_target(self.target, f"{self.kind} {self.name!r}")

    def resolve_options(self, options: Optional[Mapping[str, Any]] = None, key: str = "") -> dict[str, Any]:
        """Validate ``options`` against ``config_cls`` and fill in defaults.

        Raises:
            ConfigError: unknown option or wrong type, naming ``key`` and the valid options.
        """
        options = dict(options or {})
        if self.config_cls is None:
            return options
        from openinfp.core.config import validate_structured  # lazy: omegaconf

        return validate_structured(self.config_cls, options, key or f"{self.kind}.{self.name}")

    def create(self, options: Optional[Mapping[str, Any]] = None, **overrides: Any) -> Any:
        """Build the component from (validated) options."""
        opts = self.resolve_options({**dict(options or {}), **overrides})
        factory = self.load()
        if self.config_cls is not None:
            try:
                cfg = self.config_cls(**opts)
            except TypeError as exc:
                raise ConfigError(f"{self.kind} {self.name!r}: {exc}") from None
            return factory(cfg)
        return factory(**opts)


@dataclass(frozen=True)
class ConditionerSpec(ComponentSpec):
    """A conditioner: inputs (audio, text, image) -> :class:`ConditionTokens`.

    Attributes:
        token_kind: ``"frame"`` (frame-aligned) or ``"global"``.
        input: what it reads: ``"audio"``, ``"text"``, ``"image"`` or another name.
    """

    token_kind: str = "frame"
    input: str = "audio"
    kind: str = field(default="conditioner", init=False)


@dataclass(frozen=True)
class MotionSpaceSpec(ComponentSpec):
    """A motion space; ``target`` returns a :class:`MotionSpace` when called with no args."""

    kind: str = field(default="motion space", init=False)


@dataclass(frozen=True)
class RendererSpec(ComponentSpec):
    """A renderer: :class:`MotionSequence` (+ portrait or body model) -> frames.

    Attributes:
        motion_spaces: the motion spaces it can draw.
    """

    motion_spaces: tuple[str, ...] = ()
    kind: str = field(default="renderer", init=False)


@dataclass(frozen=True)
class GuiderSpec(ComponentSpec):
    """A motion guider: condition tokens -> per-frame motion features."""

    kind: str = field(default="guider", init=False)


@dataclass(frozen=True)
class DatasetFormatSpec(ComponentSpec):
    """A dataset format or corpus reader (e.g. DualTalk layout, BEAT2 npz, shards).

    Attributes:
        patterns: glob patterns that identify the layout (documentation and sniffing).
    """

    patterns: tuple[str, ...] = ()
    kind: str = field(default="dataset format", init=False)


@dataclass(frozen=True)
class CliCommandSpec:
    """A subcommand of the ``openinfp`` CLI.

    Attributes:
        name: the subcommand (``openinfp NAME``).
        help: one line for ``openinfp --help``.
        add_arguments: ``f(parser)`` adding arguments; must import nothing heavy.
        run: ``f(args) -> int`` exit code; may import heavy modules; raises
            :class:`OpenInfpError` for user errors.
        description: longer text for ``openinfp NAME --help`` (defaults to ``help``).
    """

    name: str
    help: str
    add_arguments: Union[str, Callable[[argparse.ArgumentParser], None]]
    run: Union[str, Callable[[argparse.Namespace], int]]
    description: str = ""

    def load_add_arguments(self) -> Callable[[argparse.ArgumentParser], None]:
        return resolve_target(self.add_arguments, f"command {self.name!r}")

    def load_run(self) -> Callable[[argparse.Namespace], int]:
        return resolve_target(self.run, f"command {self.name!r}")


@dataclass(frozen=True)
class PresetSpec:
    """A YAML config preset that a plugin ships.

    Attributes:
        name: what ``--config NAME`` / ``openinfp config show NAME`` accept.
        path: the YAML file.
        description: one line.
    """

    name: str
    path: str
    description: str = ""


SPEC_KINDS: dict[str, type] = {
    "conditioners": ConditionerSpec,
    "motion_spaces": MotionSpaceSpec,
    "renderers": RendererSpec,
    "guiders": GuiderSpec,
    "dataset_formats": DatasetFormatSpec,
}
"""Registration hook suffix -> spec type, for the component kinds."""

__all__ = [
    "ComponentSpec", "ConditionerSpec", "MotionSpaceSpec", "RendererSpec", "GuiderSpec",
    "DatasetFormatSpec", "CliCommandSpec", "PresetSpec", "SPEC_KINDS", "resolve_target",
]

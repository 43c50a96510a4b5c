"""`Registry`: every component that the registered plugins provide, by kind and name."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Mapping, Optional

import pluggy

from openinfp.core.errors import ConfigError, PluginError
from openinfp.core.plugins import create_plugin_manager, plugin_source
from openinfp.core.specs import SPEC_KINDS, CliCommandSpec, ComponentSpec, PresetSpec

_SINGULAR = {
    "conditioners": "conditioner",
    "motion_spaces": "motion space",
    "renderers": "renderer",
    "guiders": "guider",
    "dataset_formats": "dataset format",
}


@dataclass(frozen=True)
class Registered:
    """A spec and the plugin package it came from."""

    spec: Any
    source: str


class Registry:
    """Collects specs from a plugin manager's registration hooks.

    Build one with :meth:`create`; it owns its plugin manager (``.pm``), which stage
    code uses to call the pipeline hooks.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._cache: dict[str, dict[str, Registered]] = {}

    @classmethod
    def create(cls, autoload: Optional[bool] = None, extra_plugins: Iterable[Any] = (),
               builtin: Any = None) -> "Registry":
        """A registry over :func:`~openinfp.core.plugins.create_plugin_manager`."""
        return cls(create_plugin_manager(autoload=autoload, extra_plugins=extra_plugins, builtin=builtin))

    # ----- generic access -------------------------------------------------------------
    def _collect(self, kind: str) -> dict[str, Registered]:
        if kind in self._cache:
            return self._cache[kind]
        hook = getattr(self.pm.hook, f"register_{kind}")
        found: dict[str, Registered] = {}
        for impl in reversed(hook.get_hookimpls()):
            source = plugin_source(self.pm, impl.plugin)
            try:
                specs = impl.function() or []
            except Exception as exc:
                raise PluginError(f"plugin {source}: register_{kind} failed: {exc}") from exc
            for spec in specs:
                expected = SPEC_KINDS.get(kind)
                if expected is not None and not isinstance(spec, expected):
                    raise PluginError(f"plugin {source}: register_{kind} returned {type(spec).__name__}, "
                                      f"expected {expected.__name__}")
                if spec.name in found:
                    raise PluginError(f"{kind[:-1].replace('_', ' ')} {spec.name!r} is registered twice: "
                                      f"by {found[spec.name].source} and by {source}")
                found[spec.name] = Registered(spec, source)
        self._cache[kind] = found
        return found

    def entries(self, kind: str) -> dict[str, Registered]:
        """All registered specs of ``kind`` (``"conditioners"``, ``"renderers"``, ...)."""
        if kind not in SPEC_KINDS and kind not in ("cli_commands", "presets"):
            raise KeyError(f"unknown component kind {kind!r}")
        return dict(self._collect(kind))

    def choices(self, kind: str) -> list[str]:
        """Sorted names registered for ``kind``."""
        return sorted(self._collect(kind))

    def spec(self, kind: str, name: str, key: str = "") -> Any:
        """The spec ``name`` of ``kind``; :class:`ConfigError` naming the valid choices."""
        entries = self._collect(kind)
        if name not in entries:
            where = f"{key}: " if key else ""
            valid = ", ".join(sorted(entries)) or "(none registered)"
            raise ConfigError(f"{where}unknown {_SINGULAR.get(kind, kind)} {name!r}; valid choices: {valid}")
        return entries[name].spec

    # ----- typed helpers ------------------------------------------------------------------
    def conditioner(self, name: str, options: Optional[Mapping[str, Any]] = None) -> Any:
        """Instantiate the conditioner ``name`` with validated ``options``."""
        return self.spec("conditioners", name).create(options)

    def renderer(self, name: str, options: Optional[Mapping[str, Any]] = None) -> Any:
        """Instantiate the renderer ``name``."""
        return self.spec("renderers", name).create(options)

    def guider(self, name: str, options: Optional[Mapping[str, Any]] = None) -> Any:
        """Instantiate the guider ``name``."""
        return self.spec("guiders", name).create(options)

    def motion_space(self, name: str) -> Any:
        """The :class:`MotionSpace` called ``name``."""
        return self.spec("motion_spaces", name).load()()

    def cli_commands(self) -> list[Registered]:
        """CLI subcommands contributed by plugins, in registration order."""
        return list(self._collect("cli_commands").values())

    def presets(self) -> dict[str, PresetSpec]:
        """Config presets by name."""
        return {name: reg.spec for name, reg in self._collect("presets").items()}


def describe_component(spec: ComponentSpec) -> str:
    """One line: description and, for renderers, the motion spaces they draw."""
    extra = ""
    spaces = getattr(spec, "motion_spaces", ())
    if spaces:
        extra = f" [spaces: {', '.join(spaces)}]"
    token_kind = getattr(spec, "token_kind", None)
    if token_kind:
        extra = f" [{getattr(spec, 'input', '?')} -> {token_kind} tokens]"
    return f"{spec.description}{extra}"


__all__ = ["Registry", "Registered", "describe_component", "CliCommandSpec"]


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The registry used when a caller passes none: built over the installed plugins on
    first use (never at import) and then reused, so loading many motion files or
    checkpoints scans the entry points once. The CLI, the demo and
    :class:`~openinfp.pipeline.pipeline.ConversationPipeline` build their own registry
    and pass it down instead (``registry=`` / ``spaces=registry.motion_space``)."""
    return Registry.create()

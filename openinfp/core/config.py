"""Structured configs (OmegaConf over dataclasses), YAML presets and overrides: the machinery.

A run is configured by a :class:`~openinfp.config.PipelineConfig` (assembled above core,
in :mod:`openinfp.config`, from each stage's config): a preset (YAML shipped in
``openinfp/configs`` or contributed by a plugin, or a path to a YAML file) merged over
the dataclass defaults, then ``key=value`` overrides. Plugins are chosen by name
(``renderer.name=portrait``); their ``options`` are validated against the plugin's own
option dataclass. Every mistake becomes a one-line :class:`ConfigError` naming the key
and the valid choices.

Bounds live next to the fields, in their metadata: ``choices`` (a fixed set) and
``range`` (inclusive ``(low, high)``). :func:`check_fields` enforces them on the merged
config (and on plugin options), once, at the boundary; every float must also be finite
and every integer must fit in 64 bits. :func:`field_choices`, :func:`field_range`,
:func:`field_help` and :func:`describe_fields` let the CLI and ``openinfp config keys``
read the same choices, bounds and help (one source per option).

This module holds only the generic machinery (loading, overrides, validation, field
bounds) and the configs of no stage (:class:`ComponentConfig`, :class:`OutputConfig`);
it imports no stage package. ``PipelineConfig``, ``load_config`` and
``resolve_plugins`` are still importable from here for old callers (resolved lazily from
:mod:`openinfp.config`).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional, Sequence

from openinfp.core.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig, OmegaConfBaseException

    from openinfp.core.registry import Registry

# omegaconf is imported where a config is loaded, not here: the CLI reads field choices and
# help (config_field) while it builds its parsers, and `openinfp --help` must stay fast

DEFAULT_PRESET = "default"
SEED_RANGE = (0, 2**32 - 1)
"""Seeds accepted everywhere (numpy's and torch's generators both take them)."""
DEVICES: tuple[str, ...] = ("cpu", "cuda")
"""Devices the models run on (the choices of ``device``)."""
FRAMINGS: tuple[str, ...] = ("head", "full")
"""Portrait framings (the choices of ``output.framing`` and of the portrait renderer's ``framing``)."""
MAX_KEY_LENGTH = 200
"""Longest ``--set`` key (characters); longer ones are refused before parsing."""


@dataclass
class ComponentConfig:
    """A plugin chosen by name, with its options (validated against the plugin's spec)."""

    name: str = field(default="?", metadata={"help": "registered plugin name (`openinfp plugins list`)"})
    options: Dict[str, Any] = field(default_factory=dict, metadata={
        "help": "the plugin's options (validated against its option dataclass)"})


@dataclass
class OutputConfig:
    """Video output options."""

    size: int = field(default=512, metadata={"help": "output frame size in pixels (square crop)",
                                              "range": (64, 4096)})
    framing: str = field(default="head", metadata={"choices": FRAMINGS,
                         "help": "crop around the head or keep the full portrait"})
    crf: int = field(default=20, metadata={"help": "H.264 quality (lower = better, larger)", "range": (0, 51)})
    watermark: bool = field(default=True, metadata={"help": "embed the invisible provenance watermark"})
    label: bool = field(default=False, metadata={"help": "draw a visible 'AI-generated' label"})


# --------------------------------------------------------------------------------------
# Errors: OmegaConf exceptions -> one line naming the key and the choices
# --------------------------------------------------------------------------------------


def _valid_keys(schema: DictConfig, parent: str) -> list[str]:
    from omegaconf import DictConfig, OmegaConf

    node = OmegaConf.select(schema, parent) if parent else schema
    if isinstance(node, DictConfig):
        return [str(k) for k in node.keys()]
    return []


def _translate(exc: OmegaConfBaseException, schema: DictConfig, where: str, prefix: str = "") -> ConfigError:
    from omegaconf.errors import ConfigKeyError, ValidationError

    key = getattr(exc, "full_key", None) or getattr(exc, "key", None) or "?"
    key = f"{prefix}.{key}" if prefix and key != "?" else (prefix or key)
    first_line = str(getattr(exc, "msg", None) or exc).splitlines()[0]
    if isinstance(exc, ConfigKeyError) or "not in" in first_line:
        local = key[len(prefix) + 1:] if prefix and key.startswith(prefix + ".") else key
        parent = local.rsplit(".", 1)[0] if "." in local else ""
        valid = _valid_keys(schema, parent)
        return ConfigError(f"{where}unknown config key '{key}'; valid keys here: {', '.join(valid)}")
    if isinstance(exc, ValidationError):
        return ConfigError(f"{where}config key '{key}' has the wrong type: {first_line}")
    return ConfigError(f"{where}config key '{key}': {first_line}")


def check_fields(obj: Any, path: str = "") -> None:
    """Walk a dataclass instance; enforce each field's ``choices`` and ``range``
    metadata, finite floats and 64-bit integers.

    Raises:
        ConfigError: one line naming the key, its value and what is allowed.
    """
    if not dataclasses.is_dataclass(obj):
        return
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{path}.{f.name}" if path else f.name
        choices = f.metadata.get("choices")
        if choices is not None and value not in choices:
            raise ConfigError(f"config key '{key}' is {value!r}; valid choices: {', '.join(map(str, choices))}")
        _check_number(key, value, f.metadata.get("range"))
        if dataclasses.is_dataclass(value):
            check_fields(value, key)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                check_fields(item, f"{key}[{i}]")


def _check_number(key: str, value: Any, bounds: Optional[tuple]) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"config key '{key}' is {value}; give a finite number"
                          + (f" between {_num(bounds[0])} and {_num(bounds[1])}" if bounds else ""))
    if bounds is None and isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise ConfigError(f"config key '{key}' is {value}, too large for a 64-bit integer")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ConfigError(f"config key '{key}' is {_num(value)}; it must be between {_num(bounds[0])} and "
                          f"{_num(bounds[1])}")


def _num(value: Any) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def config_field(cls: type, key: str) -> dataclasses.Field:
    """The dataclass field behind config key ``key`` of ``cls`` (dotted keys follow nested dataclasses).

    Raises:
        KeyError: no such field.
    """
    import typing

    head, _, rest = key.partition(".")
    for f in dataclasses.fields(cls):
        if f.name == head:
            if not rest:
                return f
            inner = typing.get_type_hints(cls)[f.name]
            if not dataclasses.is_dataclass(inner):
                raise KeyError(key)
            return config_field(inner, rest)
    raise KeyError(key)


def field_range(cls: type, name: str) -> Optional[tuple]:
    """The ``(low, high)`` bounds of dataclass field ``name`` (``None`` if unbounded)."""
    return config_field(cls, name).metadata.get("range")


def field_choices(cls: type, name: str) -> Optional[tuple]:
    """The valid values of dataclass field ``name`` (``None`` if any value of its type is valid).

    The one source of an option's choices: :func:`check_fields`, the CLI flags and
    ``openinfp config keys`` all read them here.
    """
    choices = config_field(cls, name).metadata.get("choices")
    return None if choices is None else tuple(choices)


def field_help(cls: type, name: str) -> str:
    """The help text of dataclass field ``name``."""
    return str(config_field(cls, name).metadata.get("help", ""))


def field_default(cls: type, name: str) -> Any:
    """The default value of dataclass field ``name`` (its factory called for mutable defaults)."""
    f = config_field(cls, name)
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise KeyError(f"{name} has no default")


def describe_fields(cls: type = None, prefix: str = "") -> Iterator[str]:
    """One line per config key: ``key (type, default): help [low, high] {choices}``."""
    import typing

    cls = cls or _pipeline_config_class()
    hints = typing.get_type_hints(cls)
    obj = cls()
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from describe_fields(type(value), key + ".")
            continue
        kind = getattr(hints.get(f.name), "__name__", None) or str(hints.get(f.name, "")).replace("typing.", "")
        parts = [f"{key} ({kind}, default {value!r})"]
        if f.metadata.get("help"):
            parts.append(f": {f.metadata['help']}")
        if f.metadata.get("range") is not None:
            lo, hi = f.metadata["range"]
            parts.append(f" [{_num(lo)}, {_num(hi)}]")
        if f.metadata.get("choices") is not None:
            parts.append(" {" + ", ".join(map(str, f.metadata["choices"])) + "}")
        yield "".join(parts)


def validate_structured(cls: type, options: dict[str, Any], key: str) -> dict[str, Any]:
    """Merge ``options`` over the defaults of dataclass ``cls``; return a plain dict.

    Raises:
        ConfigError: unknown option, wrong type or invalid choice, naming ``key.option``.
    """
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    schema = OmegaConf.structured(cls)
    try:
        merged = OmegaConf.merge(schema, OmegaConf.create(dict(options)))
        obj = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise _translate(exc, schema, "", prefix=key) from None
    check_fields(obj, key)
    return dataclasses.asdict(obj)


# --------------------------------------------------------------------------------------
# Presets and loading
# --------------------------------------------------------------------------------------


def builtin_preset_dir() -> Path:
    """Folder of the YAML presets shipped in the package."""
    return Path(__file__).resolve().parent.parent / "configs"


def list_presets(registry: Optional["Registry"] = None) -> dict[str, Any]:
    """Presets by name (built-in and from plugins): name -> :class:`PresetSpec`."""
    if registry is None:
        from openinfp.core.registry import Registry

        registry = Registry.create()
    return registry.presets()


def _preset_path(preset: str, registry: Optional["Registry"]) -> Path:
    candidate = Path(preset)
    if candidate.suffix in (".yaml", ".yml"):
        if not candidate.is_file():
            raise ConfigError(f"config file {candidate} does not exist")
        return candidate
    presets = list_presets(registry)
    if preset not in presets:
        raise ConfigError(f"unknown preset {preset!r}; valid choices: {', '.join(sorted(presets))} "
                          "(or a path to a .yaml file)")
    return Path(presets[preset].path)


def parse_overrides(overrides: Sequence[str]) -> DictConfig:
    """``["a.b=1", "c=x"]`` -> DictConfig; values are parsed as YAML."""
    _check_overrides(overrides)
    import yaml
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    try:
        return OmegaConf.from_dotlist(list(overrides))
    except (OmegaConfBaseException, yaml.YAMLError) as exc:  # YAML rejects e.g. control characters
        raise ConfigError(f"cannot parse overrides: {str(exc).splitlines()[0][:200]}") from None
    except RecursionError:
        raise ConfigError("cannot parse overrides: a value is nested too deeply") from None


def _check_overrides(overrides: Sequence[str]) -> None:
    """Refuse overrides that are not ``key=value`` or whose key is too long."""
    bad = [o for o in overrides if "=" not in o or o.startswith("=")]
    if bad:
        raise ConfigError(f"override {bad[0][:60]!r} is not of the form key=value")
    for o in overrides:
        key = o.split("=", 1)[0]
        if len(key) > MAX_KEY_LENGTH:
            raise ConfigError(f"override key {key[:40]!r}... is {len(key)} characters long; config keys are at "
                              f"most {MAX_KEY_LENGTH} (see `openinfp config keys`)")


def _has_list_index(key: str) -> bool:
    return any(part.isdigit() for part in key.split("."))


def _set_list_item(cfg: "DictConfig", override: str) -> None:
    """Apply one ``a.N.b=value`` override in place, refusing an index past the list's end."""
    from omegaconf import ListConfig, OmegaConf

    key, text = override.split("=", 1)
    node: Any = cfg
    parts = key.split(".")
    for depth, part in enumerate(parts[:-1]):
        if part.isdigit():
            where = ".".join(parts[:depth])
            if not isinstance(node, ListConfig):
                raise ConfigError(f"override {key!r}: {where or 'the config'} is not a list")
            if int(part) >= len(node):
                raise ConfigError(f"override {key!r}: {where} has {len(node)} entries (indices 0-{len(node) - 1}); "
                                  "add an entry in a preset YAML (--config) instead")
            node = node[int(part)]
        else:
            node = node.get(part) if hasattr(node, "get") else None
            if node is None:
                break  # an unknown key: OmegaConf.update names it
    value = parse_overrides([f"value={text}"])["value"]
    OmegaConf.update(cfg, key, value, merge=True)


def load_structured(schema_cls: type, preset: str = DEFAULT_PRESET, overrides: Sequence[str] = (),
                    registry: Optional["Registry"] = None) -> Any:
    """Merge ``schema_cls`` defaults <- preset YAML <- overrides into a checked instance.

    Args:
        schema_cls: the config dataclass (e.g. :class:`openinfp.config.PipelineConfig`).
        preset: a preset name (looked up in ``registry``) or a ``.yaml`` path.
        overrides: ``key=value`` strings.
        registry: the :class:`~openinfp.core.registry.Registry` that lists the presets
            (only needed for a preset name).

    Raises:
        ConfigError: unreadable YAML, unknown key, wrong type, out-of-range value.
    """
    from omegaconf import DictConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    path = _preset_path(preset, registry)
    schema = OmegaConf.structured(schema_cls)
    try:
        preset_cfg = OmegaConf.load(path)
    except Exception as exc:  # YAML syntax errors come in many types
        raise ConfigError(f"config file {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(preset_cfg, DictConfig):
        raise ConfigError(f"config file {path} must hold a mapping at the top level")
    where = f"{path.name}: "
    try:
        merged = OmegaConf.merge(schema, preset_cfg)
    except OmegaConfBaseException as exc:
        raise _translate(exc, schema, where) from None
    except TypeError as exc:  # OmegaConf: a mapping where a list belongs, or the reverse
        raise ConfigError(f"config file {path} does not fit the config layout: {exc}") from None
    # keys with a list index (``conditioners.0.options.x=...``) go in one by one: a merged
    # dotlist would turn the list into a mapping with the key "0"
    indexed = [o for o in overrides if _has_list_index(o.split("=", 1)[0])]
    _check_overrides(indexed)  # the others are checked as they are parsed
    override_cfg = parse_overrides([o for o in overrides if o not in indexed])
    try:
        merged = OmegaConf.merge(merged, override_cfg)
        for override in indexed:
            _set_list_item(merged, override)
        cfg = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise _translate(exc, schema, "") from None
    except RecursionError:
        raise ConfigError("the overrides are nested too deeply to fit the config layout") from None
    except TypeError as exc:
        raise ConfigError(f"overrides {list(overrides)} do not fit the config layout: {exc}") from None
    check_fields(cfg)
    return cfg


def to_yaml(cfg: Any) -> str:
    """YAML text of a config object."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(OmegaConf.structured(cfg))


# --------------------------------------------------------------------------------------
# Old import paths: the full pipeline config lives in openinfp.config (above core)
# --------------------------------------------------------------------------------------

_MOVED_TO_TOP = ("PipelineConfig", "load_config", "resolve_plugins")


def _pipeline_config_class() -> type:
    return __getattr__("PipelineConfig")


def __getattr__(name: str) -> Any:
    """``from openinfp.core.config import PipelineConfig`` (and ``load_config``,
    ``resolve_plugins``) keep working: they are looked up in :mod:`openinfp.config`
    on first use, so importing this module imports no stage package."""
    if name in _MOVED_TO_TOP:
        import importlib

        return getattr(importlib.import_module("openinfp.config"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

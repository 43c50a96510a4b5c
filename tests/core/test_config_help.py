"""Every config field explains itself: ``openinfp config keys`` prints its help."""

from __future__ import annotations

import dataclasses
import typing

from openinfp.config import PipelineConfig, describe_fields
from openinfp.core.registry import Registry

PLUGIN_KINDS = ("conditioners", "renderers", "guiders", "motion_spaces", "dataset_formats")


def config_fields(cls: type, prefix: str, seen: set) -> list[tuple[str, dataclasses.Field]]:
    """(key, field) of ``cls`` and of every dataclass nested in it (also inside List/Optional)."""
    if cls in seen:
        return []
    seen.add(cls)
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}{f.name}"
        out.append((key, f))
        for inner in (hints[f.name], *typing.get_args(hints[f.name])):
            if dataclasses.is_dataclass(inner):
                out += config_fields(inner, key + ".", seen)
    return out


def all_config_fields() -> list[tuple[str, dataclasses.Field]]:
    seen: set = set()
    found = config_fields(PipelineConfig, "", seen)
    registry = Registry.create(autoload=False)
    for kind in PLUGIN_KINDS:
        for name, entry in registry.entries(kind).items():
            cls = getattr(entry.spec, "config_cls", None)
            if cls is not None:
                found += config_fields(cls, f"{kind}.{name}.options.", seen)
    return found


def test_walk_reaches_nested_and_plugin_option_dataclasses():
    keys = {key for key, _ in all_config_fields()}
    assert {"model.sampler.steps", "train.lr", "conditioners.name", "output.crf"} <= keys
    assert any(k.startswith("renderers.portrait.options.") for k in keys)
    assert any(k.startswith("guiders.interactive.options.") for k in keys)


def test_every_config_field_has_help():
    missing = [key for key, f in all_config_fields() if not str(f.metadata.get("help", "")).strip()]
    assert not missing, f"config fields without metadata['help']: {missing}"


def test_config_keys_prints_the_help():
    lines = list(describe_fields())
    assert all(": " in line for line in lines), [line for line in lines if ": " not in line]

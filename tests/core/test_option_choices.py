"""One source per option: the CLI's choices and help come from the config fields, and
every field with choices rejects other values with an error naming the key and the choices."""

from __future__ import annotations

import argparse
import dataclasses
import typing

import pytest

from openinfp.cli import build_parser
from openinfp.config import PipelineConfig, load_config
from openinfp.core.config import DEVICES, config_field, field_choices, field_help, validate_structured
from openinfp.core.errors import ConfigError
from openinfp.core.registry import Registry

#: Flags with a fixed set of values that set no config field, with where their choices live.
#: A new flag with choices must use ``add_field_option`` or be listed here (with its source).
CLI_ONLY = {
    ("animate", "--layout"): "openinfp.config.LAYOUTS (AnimateInputs.layout, not a config key)",
    ("bench", "--device"): "openinfp.core.config.DEVICES, the choices of PipelineConfig.device",
    ("eval", "--split"): "shard folder split of the evaluation corpus",
    ("eval", "--agent-side"): "which side of a shard conversation is the agent",
    ("eval", "--space"): "motion spaces that ship a model",
    ("eval", "--systems"): "openinfp.eval SYSTEM_NAMES (rows of the evaluation table)",
    ("export", "--format"): "export formats",
}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry.create(autoload=False)


def choice_actions(parser: argparse.ArgumentParser, command: str = "") -> list[tuple[str, argparse.Action]]:
    """(command, action) for every option with choices, through all sub-commands."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += choice_actions(sub, f"{command} {name}".strip())
        elif action.choices is not None and action.option_strings:
            found.append((command, action))
    return found


def test_every_cli_choice_comes_from_a_config_field_or_is_listed(registry):
    actions = choice_actions(build_parser(registry))
    from_fields = {(cmd, a.option_strings[-1]) for cmd, a in actions if hasattr(a, "config_field")}
    assert {("animate", "--agent-channel"), ("animate", "--agent-speaker"), ("animate", "--body"),
            ("animate", "--device"), ("animate", "--framing"), ("render", "--device"), ("tracks", "--agent-channel"),
            ("reenact", "--framing")} <= from_fields
    for cmd, action in actions:
        flag = action.option_strings[-1]
        if hasattr(action, "config_field"):
            cls, name = action.config_field
            assert tuple(action.choices) == field_choices(cls, name), f"{cmd} {flag}"
            assert field_help(cls, name) in action.help, f"{cmd} {flag}: help is not the field's"
        else:
            assert (cmd, flag) in CLI_ONLY, f"`openinfp {cmd} {flag}` has choices of its own: read them from a " \
                                            "config field (cli_options.add_field_option) or list it in CLI_ONLY"
    listed = {(cmd, a.option_strings[-1]) for cmd, a in actions}
    assert not set(CLI_ONLY) - listed, f"stale CLI_ONLY entries: {set(CLI_ONLY) - listed}"
    bench_device = next(a for cmd, a in actions if (cmd, a.option_strings[-1]) == ("bench", "--device"))
    assert tuple(bench_device.choices) == field_choices(PipelineConfig, "device") == DEVICES


def test_the_cli_rejects_a_value_outside_the_field_choices(registry, capsys):
    parser = build_parser(registry)
    with pytest.raises(SystemExit):
        parser.parse_args(["animate", "p.png", "a.wav", "-o", "o.mp4", "--body", "robot"])
    err = capsys.readouterr().err
    assert "--body" in err and all(m in err for m in field_choices(PipelineConfig, "body.model"))


def fields_with_choices(cls: type, prefix: str = "") -> list[tuple[str, tuple]]:
    """(config key, choices) of every field of ``cls`` and its nested dataclasses that has choices."""
    out = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = prefix + f.name
        if f.metadata.get("choices") is not None:
            out.append((key, tuple(f.metadata["choices"])))
        if dataclasses.is_dataclass(hints[f.name]):
            out += fields_with_choices(hints[f.name], key + ".")
    return out


def test_config_fields_with_choices_reject_other_values(registry):
    keys = fields_with_choices(PipelineConfig)
    assert {"device", "audio.agent_channel", "body.model", "model.sampler.scheduler",
            "output.framing"} <= dict(keys).keys()
    for key, choices in keys:
        assert load_config("default", [f"{key}={choices[0]}"], registry=registry) is not None
        with pytest.raises(ConfigError) as err:
            load_config("default", [f"{key}=bogus"], registry=registry)
        msg = str(err.value)
        assert f"'{key}'" in msg and "bogus" in msg and ", ".join(map(str, choices)) in msg, msg


def test_plugin_options_with_choices_reject_other_values(registry):
    checked = 0
    for kind in ("conditioners", "renderers", "guiders", "motion_spaces", "dataset_formats"):
        for name, entry in registry.entries(kind).items():
            cls = getattr(entry.spec, "config_cls", None)
            if cls is None:
                continue
            for key, choices in fields_with_choices(cls):
                where = f"{kind}.{name}.options"
                with pytest.raises(ConfigError) as err:
                    validate_structured(cls, {key: "bogus"}, where)
                assert f"'{where}.{key}'" in str(err.value) and ", ".join(map(str, choices)) in str(err.value)
                checked += 1
    assert checked >= 3  # portrait framing and expression, body cameras, ...


def test_config_field_follows_dotted_keys():
    assert config_field(PipelineConfig, "model.sampler.scheduler").name == "scheduler"
    with pytest.raises(KeyError):
        config_field(PipelineConfig, "model.nope")


def test_audio_config_built_in_code_is_checked_against_the_same_choices():
    from openinfp.audio.config import AudioConfig
    from openinfp.audio.conversation import _check_config

    with pytest.raises(ConfigError, match="audio.agent_speaker is 'loudest'; valid choices: first, second, most, "
                       "least"):
        _check_config(AudioConfig(agent_speaker="loudest"))

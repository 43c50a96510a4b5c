"""Structured configs: presets, overrides and one-line errors."""

from __future__ import annotations

import pytest

from openinfp.core.config import PipelineConfig, load_config, to_yaml
from openinfp.core.errors import ConfigError
from openinfp.core.registry import Registry


@pytest.fixture()
def reg():
    """The built-in components only (no entry-point discovery)."""
    return Registry.create(autoload=False)


def _yaml(tmp_path, text):
    p = tmp_path / "cfg.yaml"
    p.write_text(text)
    return str(p)


def test_preset_overrides_and_plugin_defaults(tmp_path, reg):
    cfg = load_config("default", ["seed=7", "model.sampler.steps=4", "renderer.name=skeleton",
                                  "motion_space=smplx"], registry=reg)
    assert isinstance(cfg, PipelineConfig)
    assert cfg.seed == 7 and cfg.model.sampler.steps == 4 and cfg.renderer.name == "skeleton"
    # The default (phonetic) conditioner's own option defaults are filled in.
    assert cfg.conditioners[0].name == "phonetic"
    assert cfg.conditioners[0].options["n_mels"] == 40 and "acoustic" in cfg.conditioners[0].options
    assert "steps: 4" in to_yaml(cfg)


def test_unknown_key_names_key_and_valid_keys(reg):
    with pytest.raises(ConfigError) as err:
        load_config("default", ["model.sampler.stepz=3"], registry=reg)
    msg = str(err.value)
    assert "model.sampler.stepz" in msg and "steps" in msg and "scheduler" in msg and "\n" not in msg


def test_unknown_key_in_yaml(tmp_path, reg):
    with pytest.raises(ConfigError, match="unknown config key 'outptu'.*valid keys here: .*output"):
        load_config(_yaml(tmp_path, "outptu: {size: 3}\n"), registry=reg)


def test_wrong_type(reg):
    with pytest.raises(ConfigError, match="model.sampler.steps.*wrong type"):
        load_config("default", ["model.sampler.steps=many"], registry=reg)


def test_invalid_choice(reg):
    with pytest.raises(ConfigError, match="audio.agent_channel.*valid choices: left, right"):
        load_config("default", ["audio.agent_channel=middle"], registry=reg)


def test_unknown_plugin_name_lists_choices(reg):
    with pytest.raises(ConfigError,
                       match="renderer.name: unknown renderer 'portrat'; valid choices: .*portrait.*skeleton"):
        load_config("default", ["renderer.name=portrat"], registry=reg)
    with pytest.raises(ConfigError, match="motion_space: unknown motion space 'tail'; valid choices: head, smplx"):
        load_config("default", ["motion_space=tail"], registry=reg)


def test_bad_plugin_option(reg):
    with pytest.raises(ConfigError, match=r"conditioners\[0\].options.n_mels.*wrong type"):
        load_config("default", ["conditioners=[{name: audio, options: {n_mels: big}}]"], registry=reg)


def test_bad_preset_and_override_syntax(tmp_path, reg):
    with pytest.raises(ConfigError, match="unknown preset 'nope'; valid choices: .*default"):
        load_config("nope", registry=reg)
    with pytest.raises(ConfigError, match="key=value"):
        load_config("default", ["seed"], registry=reg)
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(_yaml(tmp_path, "a: [1, 2\n"), registry=reg)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "absent.yaml"), registry=reg)


def test_shipped_presets_parse(reg):
    for name in reg.presets():
        cfg = load_config(name, registry=reg, resolve=False)
        assert cfg.fps > 0


def test_unknown_plugin_option_names_valid_options(reg):
    with pytest.raises(ConfigError, match=r"conditioners\[0\].options.colour.*valid keys here: .*n_mels"):
        load_config("default", ["conditioners=[{name: audio, options: {colour: red}}]"], registry=reg)


def test_override_into_a_list_entry(reg):
    """``--set conditioners.0.options.visemes=net`` sets one option of the first
    conditioner (a merged dotlist would turn the list into a mapping); an index past the
    list's end, an unknown key or a bad value is refused with the key in the message."""
    cfg = load_config("default", ["conditioners.0.options.visemes=net", "seed=3"], registry=reg)
    assert cfg.conditioners[0].name == "phonetic" and cfg.conditioners[0].options["visemes"] == "net"
    assert cfg.conditioners[0].options["n_mels"] == 40 and cfg.seed == 3  # the rest as before
    with pytest.raises(ConfigError, match=r"conditioners.5.options.visemes.*1 entries"):
        load_config("default", ["conditioners.5.options.visemes=net"], registry=reg)
    with pytest.raises(ConfigError, match=r"conditioners\[0\].colour"):
        load_config("default", ["conditioners.0.colour=red"], registry=reg)
    with pytest.raises(ConfigError, match="visemes"):
        load_config("default", ["conditioners.0.options.visemes=whisper"], registry=reg)

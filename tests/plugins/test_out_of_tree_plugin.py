"""A tiny third-party plugin distribution, discovered through its entry point."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap

import pytest

PLUGIN_SRC = '''
from dataclasses import dataclass

import torch

from openinfp.core.conditions import ConditionTokens
from openinfp.core.hookspecs import hookimpl
from openinfp.core.specs import ConditionerSpec


@dataclass
class LoudnessOptions:
    dim: int = 4
    scale: float = 1.0


class LoudnessConditioner:
    def __init__(self, options: LoudnessOptions):
        self.options = options

    def __call__(self, num_frames: int) -> ConditionTokens:
        return ConditionTokens("loudness", torch.full((num_frames, self.options.dim), self.options.scale))


@hookimpl
def register_conditioners():
    return [ConditionerSpec("loudness", "toyplug:LoudnessConditioner", "toy loudness tokens",
                            config_cls=LoudnessOptions)]
'''


@pytest.fixture()
def plugin_path(tmp_path, monkeypatch):
    (tmp_path / "toyplug.py").write_text(PLUGIN_SRC)
    dist = tmp_path / "toyplug-0.3.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplug\nVersion: 0.3.1\n")
    (dist / "entry_points.txt").write_text("[openinfp]\nloudness = toyplug\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("OPENINFP_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    importlib.invalidate_caches()
    yield tmp_path
    sys.modules.pop("toyplug", None)


def _cli(args, env_extra, cwd):
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, "-m", "openinfp", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_plugin_appears_in_openinfp_plugins(plugin_path):
    out = _cli(["plugins"], {"PYTHONPATH": str(plugin_path)}, plugin_path)
    assert out.returncode == 0, out.stderr
    line = next(l for l in out.stdout.splitlines() if l.strip().startswith("loudness"))
    assert "toyplug 0.3.1" in line and "toy loudness tokens" in line


def test_autoload_switch_hides_plugin(plugin_path):
    out = _cli(["plugins"], {"PYTHONPATH": str(plugin_path), "OPENINFP_DISABLE_PLUGIN_AUTOLOAD": "1"}, plugin_path)
    assert out.returncode == 0, out.stderr
    assert "loudness" not in out.stdout
    assert "head" in out.stdout  # built-ins stay registered


def test_plugin_conditioner_instantiated_by_name_from_config(plugin_path):
    from openinfp.core.config import validate_structured
    from openinfp.core.errors import ConfigError
    from openinfp.core.registry import Registry

    registry = Registry.create()
    assert registry.entries("conditioners")["loudness"].source == "toyplug 0.3.1"
    cfg_yaml = plugin_path / "run.yaml"
    cfg_yaml.write_text(textwrap.dedent("""
        conditioners:
          - name: loudness
            options: {dim: 3}
    """))
    # Only the conditioners are checked here; the other plugin names are this project's.
    from omegaconf import OmegaConf

    from openinfp.core.config import PipelineConfig

    cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(PipelineConfig), OmegaConf.load(cfg_yaml)))
    comp = cfg.conditioners[0]
    conditioner = registry.conditioner(comp.name, comp.options)
    tokens = conditioner(7)
    assert tuple(tokens.tokens.shape) == (7, 3) and tokens.name == "loudness"
    with pytest.raises(ConfigError, match=r"conditioners\[0\].options.colour.*valid keys here: dim, scale"):
        registry.spec("conditioners", "loudness").resolve_options({"colour": 1}, key="conditioners[0].options")
    assert validate_structured(type(conditioner.options), {"scale": 2}, "x") == {"dim": 4, "scale": 2.0}

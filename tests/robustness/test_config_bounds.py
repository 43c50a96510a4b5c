"""Every config value is checked once, at load, against the bounds in its field's
metadata: one-line errors naming the key, for `--set`, preset files and plugin options."""

from __future__ import annotations

import dataclasses
import math

import pytest

from openinfp.core.errors import ConfigError


@pytest.fixture(scope="module")
def registry():
    from openinfp.core.registry import Registry

    return Registry.create(autoload=False)


def _bounded_fields(cls, prefix=""):
    """``(key, field)`` of every field with a ``range``, walking nested dataclasses."""
    obj = cls()
    for f in dataclasses.fields(cls):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from _bounded_fields(type(value), f"{prefix}{f.name}.")
        elif f.metadata.get("range") is not None:
            yield f"{prefix}{f.name}", f


def _all_bounded():
    from openinfp.core.config import PipelineConfig

    return list(_bounded_fields(PipelineConfig))


@pytest.mark.parametrize("key, field", _all_bounded(), ids=[k for k, _ in _all_bounded()])
def test_every_bounded_key_refuses_values_outside_its_range(registry, key, field):
    from openinfp.core.config import load_config

    lo, hi = field.metadata["range"]
    step = 1 if isinstance(lo, int) and isinstance(hi, int) else max(abs(hi) * 1e-3, 1e-6)
    outside = [lo - step, hi + step]
    if field.type in ("float", float):
        outside += ["nan", "inf", "-inf"]
    for value in outside:
        with pytest.raises(ConfigError) as exc:
            load_config("default", [f"{key}={value}"], registry=registry, resolve=False)
        text = str(exc.value)
        assert f"config key '{key}'" in text and "\n" not in text, text
    for value in (lo, hi):  # the bounds themselves are valid
        load_config("default", [f"{key}={value}"], registry=registry, resolve=False)


ISSUE_CASES = [
    ("output.size=100000", "config key 'output.size' is 100000; it must be between 64 and 4096"),
    ("output.size=50000", "config key 'output.size' is 50000"),
    ("fps=-25", "config key 'fps' is -25; it must be between 1 and 120"),
    ("fps=nan", "config key 'fps' is nan; give a finite number between 1 and 120"),
    ("fps=0", "config key 'fps' is 0"),
    ("fps=100000", "config key 'fps' is 100000"),
    ("seed=99999999999999999999", "config key 'seed' is 99999999999999999999; it must be between 0 and 4294967295"),
    ("seed=-1", "config key 'seed' is -1"),
    ("audio.max_duration_s=nan", "config key 'audio.max_duration_s' is nan"),
    ("model.sampler.steps=0", "config key 'model.sampler.steps' is 0; it must be between 1 and 1000"),
    ("x" * 60_000 + "=1", "is 60000 characters long; config keys are at most 200"),
]


@pytest.mark.parametrize("override, message", ISSUE_CASES, ids=[c[0][:30] for c in ISSUE_CASES])
def test_overrides_from_issue_20_give_one_line_errors(bad, tmp_path, run_cli, override, message):
    out = tmp_path / "out"
    code, err = run_cli(["animate", str(bad / "astronaut.png"), str(bad / "stereo.wav"), "-o", str(out / "v.mp4"),
                         "-q", "--set", override])
    assert code == 2 and message in err, err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_preset_files_are_checked_like_overrides(tmp_path, registry):
    from openinfp.core.config import load_config

    path = tmp_path / "cfg.yaml"
    path.write_text("fps: .nan\noutput:\n  size: 20\n")
    with pytest.raises(ConfigError, match="config key 'fps' is nan"):
        load_config(str(path), registry=registry)


def test_plugin_options_are_checked_against_their_bounds(registry):
    from openinfp.body.config import AnnyRenderOptions
    from openinfp.core.config import validate_structured

    with pytest.raises(ConfigError, match="config key 'renderer.options.age' is 3; it must be between 0 and 1"):
        validate_structured(AnnyRenderOptions, {"age": 3.0}, "renderer.options")
    with pytest.raises(ConfigError, match="config key 'renderer.options.batch_frames' is 100000"):
        validate_structured(AnnyRenderOptions, {"batch_frames": 100000}, "renderer.options")
    assert validate_structured(AnnyRenderOptions, {"age": 1.0}, "renderer.options")["age"] == 1.0


def test_unbounded_numbers_must_be_finite_and_fit_64_bits():
    from openinfp.core.config import check_fields

    @dataclasses.dataclass
    class Free:
        x: float = 0.0
        n: int = 0

    check_fields(Free(1e300, 2**62))
    with pytest.raises(ConfigError, match="config key 'x' is nan; give a finite number"):
        check_fields(Free(math.nan, 0))
    with pytest.raises(ConfigError, match="config key 'n' is .* too large for a 64-bit integer"):
        check_fields(Free(0.0, 2**70))


def test_config_keys_lists_every_bounded_key_with_its_bounds(run_cli, capsys):
    import contextlib
    import io

    from openinfp.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["config", "keys"]) == 0
    text = out.getvalue()
    for key, field in _all_bounded():
        lo, hi = field.metadata["range"]
        line = next((ln for ln in text.splitlines() if ln.startswith(key + " (")), None)
        assert line is not None, key
        assert f"[{lo:g}" in line or f"[{lo}" in line, line


def test_cli_size_and_steps_flags_use_the_field_bounds(bad, tmp_path, run_cli):
    code, err = run_cli(["animate", str(bad / "astronaut.png"), str(bad / "stereo.wav"), "-o",
                         str(tmp_path / "v.mp4"), "--steps", "5000"])
    assert code == 2 and "--steps must be at most 1000" in err, err


@pytest.mark.parametrize("seed", [float("nan"), 1e20, -1, 2.5, None])
def test_demo_seed_box_is_validated(seed):
    from openinfp.core.config import SEED_RANGE
    from openinfp.core.errors import InputError
    from openinfp.pipeline.demo import MAX_SEED, _whole_number

    assert SEED_RANGE[0] <= 0 and MAX_SEED <= SEED_RANGE[1]  # every seed the box takes is a valid config seed
    with pytest.raises(InputError, match=f"the seed must be a whole number from 0 to {MAX_SEED}"):
        _whole_number(seed, "seed", 0, MAX_SEED)

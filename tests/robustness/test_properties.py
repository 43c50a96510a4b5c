"""Property-based tests (hypothesis): whatever bytes or values come in, the loaders and
config parsing either succeed or raise the project's own error type
(:class:`~openinfp.core.errors.OpenInfpError`), never anything else.

Derandomised (a fixed example sequence per test) so CI is reproducible; no example
database is written. ``OPENINFP_FUZZ_SCALE=10`` runs a longer random search.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from openinfp.core.errors import OpenInfpError

# OPENINFP_FUZZ_SCALE=10 runs ten times as many (random, not derandomised) examples.
SCALE = float(os.environ.get("OPENINFP_FUZZ_SCALE", "1"))
FUZZ = settings(max_examples=int(60 * SCALE), deadline=None, derandomize=SCALE == 1, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def spaces():
    from openinfp.core.registry import Registry

    registry = Registry.create(autoload=False)
    return {name: registry.motion_space(name) for name in ("head", "smplx")}


@pytest.fixture(scope="module")
def valid_motion_bytes(spaces) -> bytes:
    import torch

    from openinfp.core.motion import MotionSequence

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.npz"
        MotionSequence(torch.zeros(6, spaces["head"].dim), spaces["head"], 25.0,
                       {"agent_speaking": np.zeros(6, bool)}).save(path)
        return path.read_bytes()


def _load_motion(data: bytes, spaces, suffix: str = ".npz"):
    from openinfp.core.motion import MotionSequence

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"m{suffix}"
        path.write_bytes(data)
        try:
            MotionSequence.load(path, spaces=spaces)
        except OpenInfpError:
            pass


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int) -> bytes:
    buf = bytearray(data)
    for pos, value in edits:
        buf[pos % len(buf)] = value
    return bytes(buf[: max(0, len(buf) - cut)])


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8)


# --------------------------------------------------------------------------------------
# Motion .npz reader
# --------------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=4096))
def test_motion_reader_on_arbitrary_bytes(spaces, data):
    _load_motion(data, spaces)


@FUZZ
@given(edits=EDITS, cut=st.integers(0, 400))
def test_motion_reader_on_corrupted_files(spaces, valid_motion_bytes, edits, cut):
    _load_motion(_mutate(valid_motion_bytes, edits, cut), spaces)


ARRAYS = st.one_of(
    hnp.arrays(hnp.floating_dtypes() | hnp.integer_dtypes() | hnp.boolean_dtypes() | hnp.complex_number_dtypes(),
               hnp.array_shapes(min_dims=0, max_dims=3, max_side=5)),
    hnp.arrays(hnp.unicode_string_dtypes(max_len=8), hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)),
    hnp.arrays(hnp.byte_string_dtypes(max_len=8), hnp.array_shapes(min_dims=0, max_dims=1, max_side=4)),
)
KEYS = st.sampled_from(["motion", "fps", "space", "names", "format_version", "annotation.agent_speaking", "other"])


@FUZZ
@given(arrays=st.dictionaries(KEYS, ARRAYS, max_size=7), keep_valid=st.sets(st.sampled_from(
    ["motion", "fps", "space", "names"])))
def test_motion_reader_on_arbitrary_arrays(spaces, valid_motion_bytes, arrays, keep_valid):
    """Valid keys mixed with arrays of any dtype and shape under any of the names."""
    valid = dict(np.load(io.BytesIO(valid_motion_bytes), allow_pickle=False))
    content = {**{k: valid[k] for k in keep_valid}, **arrays}
    buf = io.BytesIO()
    np.savez(buf, **content)
    _load_motion(buf.getvalue(), spaces)


# --------------------------------------------------------------------------------------
# Config parsing
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config_keys():
    """Every dotted key of the default config (leaves and sections), plus the registry."""
    from omegaconf import OmegaConf

    from openinfp.core.config import PipelineConfig
    from openinfp.core.registry import Registry

    def walk(node, prefix):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield path
            if isinstance(value, dict):
                yield from walk(value, path)

    keys = sorted(walk(OmegaConf.to_container(OmegaConf.structured(PipelineConfig)), ""))
    return keys, Registry.create(autoload=False)


VALUES = st.one_of(
    st.integers(-10**12, 10**12).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["true", "null", "[]", "{}", "[1, 2]", "{a: 1}", "nope", "'1'", "${model}", "${oops}",
                     "portrait", "cpu", "cuda", "-1", "1e400", "0x10", "~", "!!python/object:os.system ls"]),
    st.text(max_size=12),
)


@FUZZ
@given(data=st.data())
def test_config_overrides_never_crash(config_keys, data):
    from openinfp.core.config import load_config

    keys, registry = config_keys
    key = st.one_of(st.sampled_from(keys), st.text(max_size=10), st.sampled_from(keys).map(lambda k: k + ".x"))
    overrides = data.draw(st.lists(st.one_of(st.tuples(key, VALUES).map("=".join), st.text(max_size=15)),
                                   max_size=4))
    try:
        load_config("default", overrides, registry=registry)
    except OpenInfpError:
        pass


@FUZZ
@given(text=st.one_of(
    st.text(max_size=200),
    st.lists(st.tuples(st.sampled_from(["model", "renderer", "output", "seed", "fps", "audio", "x", "conditioners"]),
                       VALUES), max_size=5).map(lambda kv: "\n".join(f"{k}: {v}" for k, v in kv)),
))
def test_config_files_never_crash(config_keys, text):
    from openinfp.core.config import load_config

    _, registry = config_keys
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cfg.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(str(path), registry=registry)
        except OpenInfpError:
            pass


# --------------------------------------------------------------------------------------
# Audio and image loaders
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def valid_media() -> dict[str, bytes]:
    import soundfile as sf
    from PIL import Image

    wav, png, jpg = io.BytesIO(), io.BytesIO(), io.BytesIO()
    sf.write(wav, (0.1 * np.sin(np.arange(1600) / 5)).astype(np.float32), 16000, format="WAV")
    img = Image.fromarray((np.arange(32 * 32 * 3) % 251).astype(np.uint8).reshape(32, 32, 3))
    img.save(png, format="PNG")
    img.save(jpg, format="JPEG")
    return {".wav": wav.getvalue(), ".png": png.getvalue(), ".jpg": jpg.getvalue()}


def _read_audio(data: bytes, suffix: str) -> None:
    from openinfp.audio.io import read_audio

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"a{suffix}"
        path.write_bytes(data)
        try:
            wave, rate = read_audio(path, max_duration_s=60)
        except OpenInfpError:
            return
        assert wave.dtype == np.float32 and np.isfinite(wave).all() and rate > 0


def _load_portrait(data: bytes, suffix: str) -> None:
    from openinfp.head.image_io import load_portrait

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"p{suffix}"
        path.write_bytes(data)
        try:
            image = load_portrait(path)
        except OpenInfpError:
            return
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3


@settings(FUZZ, max_examples=int(30 * SCALE))
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".wav", ".flac", ".mp3", ".m4a", ".ogg"]))
def test_audio_reader_on_arbitrary_bytes(data, suffix):
    _read_audio(data, suffix)


@settings(FUZZ, max_examples=int(40 * SCALE))
@given(edits=EDITS, cut=st.integers(0, 3000))
def test_audio_reader_on_corrupted_wav(valid_media, edits, cut):
    _read_audio(_mutate(valid_media[".wav"], edits, cut), ".wav")


@FUZZ
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".png", ".jpg", ".webp", ".bmp", ".tif"]))
def test_image_loader_on_arbitrary_bytes(data, suffix):
    _load_portrait(data, suffix)


@FUZZ
@given(edits=EDITS, cut=st.integers(0, 600), fmt=st.sampled_from([".png", ".jpg"]))
def test_image_loader_on_corrupted_files(valid_media, edits, cut, fmt):
    _load_portrait(_mutate(valid_media[fmt], edits, cut), fmt)


@FUZZ
@given(array=hnp.arrays(hnp.floating_dtypes() | hnp.integer_dtypes() | hnp.boolean_dtypes(),
                        hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=40)))
def test_image_loader_on_arbitrary_arrays(array):
    from openinfp.head.image_io import load_portrait

    try:
        image = load_portrait(array)
    except OpenInfpError:
        return
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3

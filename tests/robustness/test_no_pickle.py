"""Security: nothing the project loads is unpickled.

Each test builds a *live* exploit (a pickle whose loading creates a directory), shows
that plain unpickling does run it, and then that the project's loader refuses the file
with a one-line error and the directory never appears.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from openinfp.core.errors import CheckpointError, InputError


class Payload:
    """Unpickling this creates ``marker`` (a directory)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def _assert_live(path: Path, marker: Path, load) -> None:
    """The exploit works when pickle is allowed (so the refusal below means something)."""
    load(path)
    assert marker.is_dir()
    marker.rmdir()


def _npz_with_payload(path: Path, marker: Path, base: dict) -> None:
    np.savez(path, **{**base, "motion": np.array([Payload(marker), 1.0], dtype=object)})


@pytest.fixture()
def head_motion_file(tmp_path, registry):
    from openinfp.core.motion import MotionSequence

    space = registry.motion_space("head")
    path = tmp_path / "good.npz"
    MotionSequence(torch.zeros(4, space.dim), space, 25.0).save(path)
    return path


def test_motion_file_with_pickled_objects_is_refused_unexecuted(tmp_path, head_motion_file):
    from openinfp.core.motion import MotionSequence

    marker = tmp_path / "PWNED"
    evil = tmp_path / "evil.npz"
    _npz_with_payload(evil, marker, dict(np.load(head_motion_file, allow_pickle=False)))
    _assert_live(evil, marker, lambda p: np.load(p, allow_pickle=True)["motion"])
    with pytest.raises(InputError, match="pickled objects, which are refused"):
        MotionSequence.load(evil)
    assert not marker.exists()


def test_raw_pickle_named_npz_is_refused_unexecuted(tmp_path):
    from openinfp.core.motion import MotionSequence

    marker = tmp_path / "PWNED"
    evil = tmp_path / "motion.npz"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    _assert_live(evil, marker, lambda p: pickle.loads(p.read_bytes()))
    with pytest.raises(InputError, match="refused"):
        MotionSequence.load(evil)
    assert not marker.exists()


def test_beat2_file_with_pickled_objects_is_refused_unexecuted(tmp_path):
    from openinfp.body.beat2 import load_beat2

    marker = tmp_path / "PWNED"
    evil = tmp_path / "beat2.npz"
    np.savez(evil, poses=np.array([Payload(marker)], dtype=object), trans=np.zeros((1, 3)),
             mocap_frame_rate=np.asarray(30))
    with pytest.raises(InputError, match="pickled objects, which are refused"):
        load_beat2(evil)
    assert not marker.exists()


def _tiny_checkpoint(folder: Path) -> Path:
    from openinfp.core.generator import MotionGenerator
    from openinfp.core.model_config import DiTConfig, GuiderConfig
    from openinfp.head.motion_space import head_motion_space

    space = head_motion_space()
    space = space.with_stats(space.neutral(), torch.full((space.dim,), 0.05))
    gen = MotionGenerator.build(GuiderConfig(width=16, bank_size=4, heads=2, audio_layers=1,
                                             token_dims={"audio": 8}),
                                DiTConfig(window=8, context=2, width=16, depth=1, heads=2), space)
    return gen.save_pretrained(folder)


def test_checkpoint_with_pickled_weights_file_is_refused_unexecuted(tmp_path):
    from openinfp.core.generator import MotionGenerator

    folder = _tiny_checkpoint(tmp_path / "ckpt")
    MotionGenerator.from_pretrained(folder, "head")  # the clean folder loads
    marker = tmp_path / "PWNED"
    weights = folder / "dit" / "model.safetensors"
    weights.write_bytes(pickle.dumps({"weight": Payload(marker)}))  # a pickle behind the safetensors name
    _assert_live(weights, marker, lambda p: pickle.loads(p.read_bytes()))
    with pytest.raises(CheckpointError, match="is not a valid safetensors file"):
        MotionGenerator.from_pretrained(folder, "head")
    assert not marker.exists()


def test_checkpoint_with_extra_pickle_is_refused_unexecuted(tmp_path):
    from openinfp.core.generator import MotionGenerator

    folder = _tiny_checkpoint(tmp_path / "ckpt")
    marker = tmp_path / "PWNED"
    extra = folder / "guider" / "pytorch_model.bin"
    torch.save({"weight": Payload(marker)}, extra)
    _assert_live(extra, marker, lambda p: torch.load(p, weights_only=False))
    with pytest.raises(CheckpointError, match="pickled weights are refused"):
        MotionGenerator.from_pretrained(folder, "head")
    assert not marker.exists()


# Loading calls that can unpickle, and the form each must take in the package sources.
_RISKY = {
    r"\bpickle\.loads?\(": "pickle.load",
    r"\bcPickle\b|\bdill\b|\bjoblib\.load\(": "pickle-based loaders",
    r"allow_pickle\s*=\s*True": "allow_pickle=True",
    r"weights_only\s*=\s*False": "weights_only=False",
    r"\bpd\.read_pickle\(|\.read_pickle\(": "read_pickle",
}


def _sources() -> list[Path]:
    import openinfp

    return sorted(Path(openinfp.__file__).parent.rglob("*.py"))


def _call_text(text: str, open_paren: int) -> str:
    """The argument text of the call whose "(" is at ``open_paren`` (balanced parentheses)."""
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren:i + 1]
    return text[open_paren:]


def test_package_sources_never_unpickle():
    hits = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for pattern, what in _RISKY.items():
            for m in re.finditer(pattern, text):
                hits.append(f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}: {what}")
        # every np.load call says allow_pickle=False (numpy's default is safe today, but
        # spelling it out keeps it safe if someone copies the call with other options)
        # torch.load only through its restricted unpickler (bundled speaker models: tensors
        # and plain containers only; see openinfp/audio/bundled.py)
        for m in re.finditer(r"\btorch\.load\(", text):
            if "weights_only=True" not in _call_text(text, m.end() - 1):
                line = text.count(chr(10), 0, m.start()) + 1
                hits.append(f"{path.name}:{line}: torch.load without weights_only=True")
        for m in re.finditer(r"\bnp\.load\(", text):
            call = _call_text(text, m.end() - 1)
            if "allow_pickle=False" not in call:
                hits.append(f"{path.name}:{text.count(chr(10), 0, m.start()) + 1}: np.load without allow_pickle=False")
    assert len(_sources()) > 50 and not hits, hits

import pickle

import numpy as np
import pytest
import torch

from openinfp.body.motion_space import SMPLX_JOINTS, smplx_motion_space
from openinfp.core.errors import InputError
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_space import MotionSlice, MotionSpace
from openinfp.head.motion_space import head_euler, head_motion_space, head_rotation_from_euler

SPACES = {"head": head_motion_space(), "smplx": smplx_motion_space()}


def test_head_space_layout_and_named_access():
    space = head_motion_space()
    assert space.dim == 62 and len(space.names) == 62
    neutral = space.neutral(5)
    assert neutral.shape == (5, 62)
    assert torch.allclose(head_euler(neutral), torch.zeros(5, 3), atol=1e-6)
    assert space.get_component(neutral, "head_scale", "scale").eq(1).all()
    m = space.set(neutral, "head_rotation", head_rotation_from_euler(torch.tensor([[0.1, -0.2, 0.05]] * 5)))
    assert torch.allclose(head_euler(m)[0], torch.tensor([0.1, -0.2, 0.05]), atol=1e-5)
    jaw = space.component_index("arkit", "jawOpen")
    assert space.names[jaw] == "arkit:jawOpen"
    clamped = space.clamp(torch.full((1, 62), 3.0))
    assert clamped[0, space.index("arkit")].max() == 1.0
    with pytest.raises(KeyError, match="slices"):
        space.index("tail")


def test_smplx_space_is_smplx_joint_order():
    space = smplx_motion_space()
    assert space.dim == 55 * 6 + 3 + 52
    rot_names = [n.split(":")[1].split(".")[0] for n in space.names if ".r6d" in n][::6]
    assert tuple(rot_names) == SMPLX_JOINTS
    assert space.group("face") == ("jaw", "eyes", "expression")


def test_normalisation_round_trip():
    space = head_motion_space()
    x = torch.randn(20, 62)
    s2 = space.with_stats(x.mean(0), x.std(0))
    assert torch.allclose(s2.denormalize(s2.normalize(x)), x, atol=1e-5)
    assert torch.allclose(s2.normalize(x).mean(0), torch.zeros(62), atol=1e-5)


def test_motion_npz_round_trip(tmp_path):
    space = head_motion_space()
    motion = space.neutral(30) + 0.01 * torch.randn(30, 62)
    seq = MotionSequence(motion, space, fps=25, annotations={"agent_speaking": np.arange(30) % 2 == 0})
    path = tmp_path / "m.npz"
    seq.save(path)
    back = MotionSequence.load(path, SPACES)
    assert torch.allclose(back.motion, seq.motion)
    assert back.fps == 25 and back.space.name == "head"
    assert np.array_equal(back.annotations["agent_speaking"], seq.annotations["agent_speaking"])
    with np.load(path) as data:
        assert list(data["names"]) == space.names


def test_motion_npz_rejects_mismatched_space_and_pickles(tmp_path):
    space = head_motion_space()
    seq = MotionSequence(space.neutral(4), space)
    path = tmp_path / "m.npz"
    seq.save(path)
    other = MotionSpace("head", (MotionSlice("x", 62, "u", tuple(str(i) for i in range(62)), (0.0,) * 62),))
    with pytest.raises(InputError, match="different layout"):
        MotionSequence.load(path, {"head": other})
    bad = tmp_path / "pickled.npz"
    np.savez(bad, motion=np.zeros((2, 62), np.float32), fps=25.0, space="head",
             names=np.array(space.names, dtype=object))
    with pytest.raises(InputError, match="pickled"):
        MotionSequence.load(bad, SPACES)
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps({"motion": 1}))
    with pytest.raises(InputError, match="pickled objects, which are refused"):
        MotionSequence.load(raw, SPACES)


def test_motion_sequence_validates_shape():
    with pytest.raises(InputError, match=r"\[T, 62\]"):
        MotionSequence(torch.zeros(4, 10), head_motion_space())
    with pytest.raises(InputError, match="NaN"):
        MotionSequence(torch.full((2, 62), float("nan")), head_motion_space())


def test_motion_npz_rejects_non_archives(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"PK\x03\x04 this is not really a zip")
    with pytest.raises(InputError, match="not a readable .npz"):
        MotionSequence.load(junk, SPACES)
    with pytest.raises(InputError, match="does not exist"):
        MotionSequence.load(tmp_path / "missing.npz", SPACES)

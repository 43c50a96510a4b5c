import numpy as np
import pytest
import torch

from openinfp.body.beat2 import SMPLX_EXPRESSION_ANNOTATION, load_beat2, load_beat2_betas, save_beat2
from openinfp.body.convert import axis_angle_to_smplx, neutral_smplx_motion
from openinfp.body.motion_space import joint_rotmats, smplx_motion_space
from openinfp.core.errors import InputError
from openinfp.core.motion import MotionSequence
from openinfp.head.motion_space import head_motion_space


def _random_motion(T: int = 12, fps: float = 30.0) -> MotionSequence:
    gen = torch.Generator().manual_seed(0)
    aa = 0.6 * torch.randn(T, 55, 3, generator=gen)
    motion = axis_angle_to_smplx(aa, torch.randn(T, 3, generator=gen), torch.rand(T, 52, generator=gen))
    return MotionSequence(motion, smplx_motion_space(), fps)


def test_round_trip_and_file_layout(tmp_path):
    seq = _random_motion()
    path = tmp_path / "take.npz"
    betas = np.linspace(-1, 1, 10).astype(np.float32)
    save_beat2(seq, path, betas=betas)
    with np.load(path, allow_pickle=False) as data:
        assert data["poses"].shape == (12, 165) and data["poses"].dtype == np.float32
        assert data["trans"].shape == (12, 3)
        assert data["expressions"].shape == (12, 100)
        assert data["arkit"].shape == (12, 52)
        assert float(data["mocap_frame_rate"]) == 30.0
        assert np.allclose(data["betas"], betas)
        # poses are per-joint axis-angle in SMPL-X order: joint 18 (left elbow) at columns 54:57.
        elbow = torch.from_numpy(data["poses"][:, 54:57])
    from openinfp.core.rotations import axis_angle_to_matrix

    assert torch.allclose(axis_angle_to_matrix(elbow), joint_rotmats(seq.motion)[:, 18], atol=1e-5)
    back = load_beat2(path)
    assert back.space.name == "smplx" and back.fps == 30.0 and back.num_frames == 12
    assert torch.allclose(joint_rotmats(back.motion), joint_rotmats(seq.motion), atol=1e-5)
    assert torch.allclose(back.get("transl"), seq.get("transl"), atol=1e-6)
    assert torch.allclose(back.get("expression"), seq.get("expression"), atol=1e-6)
    assert np.allclose(load_beat2_betas(path), betas)


def test_real_beat2_layout_keeps_smplx_expressions(tmp_path):
    """A file as BEAT2 ships it: 100 SMPL-X expression coefficients, 300 betas, strings."""
    T = 8
    rng = np.random.default_rng(1)
    src = tmp_path / "2_scott_0_1_1.npz"
    expressions = rng.standard_normal((T, 100)).astype(np.float32)
    np.savez(src, poses=(0.2 * rng.standard_normal((T, 165))).astype(np.float32),
             trans=rng.standard_normal((T, 3)).astype(np.float32), expressions=expressions,
             betas=rng.standard_normal(300).astype(np.float32), model=np.asarray("smplx2020"),
             gender=np.asarray("neutral"), mocap_frame_rate=np.asarray(30))
    seq = load_beat2(src)
    assert seq.fps == 30.0 and seq.num_frames == T
    assert torch.count_nonzero(seq.get("expression")) == 0  # no ARKit face in such files
    assert np.allclose(seq.annotations[SMPLX_EXPRESSION_ANNOTATION], expressions)
    out = tmp_path / "again.npz"
    save_beat2(seq, out)
    with np.load(out) as data:
        assert np.allclose(data["expressions"], expressions)


@pytest.mark.parametrize("case, message", [
    ("no_poses", "no 'poses'"),
    ("smplh", "156"),
    ("nan", "NaN"),
    ("no_fps", "frame rate"),
    ("pickle", "pickled"),
    ("bad_trans", "'trans'"),
    ("not_npz", "not a readable"),
])
def test_bad_files_give_one_clear_error(tmp_path, case, message):
    path = tmp_path / f"{case}.npz"
    poses = np.zeros((4, 165), np.float32)
    fps = np.asarray(30.0)
    if case == "no_poses":
        np.savez(path, trans=np.zeros((4, 3)), mocap_frame_rate=fps)
    elif case == "smplh":
        np.savez(path, poses=np.zeros((4, 156)), mocap_frame_rate=fps)
    elif case == "nan":
        poses[1, 3] = np.nan
        np.savez(path, poses=poses, mocap_frame_rate=fps)
    elif case == "no_fps":
        np.savez(path, poses=poses)
    elif case == "pickle":
        np.savez(path, poses=poses, mocap_frame_rate=fps, meta=np.asarray([{"a": 1}], dtype=object))
    elif case == "bad_trans":
        np.savez(path, poses=poses, trans=np.zeros((3, 3)), mocap_frame_rate=fps)
    elif case == "not_npz":
        path.write_bytes(b"this is not a zip file")
    with pytest.raises(InputError, match=message) as info:
        load_beat2(path)
    assert str(path.name) in str(info.value)


def test_save_rejects_head_motion_and_missing_file(tmp_path):
    head = MotionSequence(head_motion_space().neutral(3), head_motion_space())
    with pytest.raises(InputError, match="head_to_smplx"):
        save_beat2(head, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()
    with pytest.raises(InputError, match="does not exist"):
        load_beat2(tmp_path / "missing.npz")


def test_cli_converts_both_ways(tmp_path):
    from openinfp.cli import main

    seq = neutral_smplx_motion(5, fps=20.0)
    ours = tmp_path / "ours.npz"
    seq.save(ours)
    beat = tmp_path / "beat.npz"
    assert main(["beat2", str(ours), str(beat)]) == 0
    assert load_beat2(beat).num_frames == 5
    back = tmp_path / "back.npz"
    assert main(["beat2", str(beat), str(back)]) == 0
    loaded = MotionSequence.load(back, {"smplx": smplx_motion_space()})
    assert torch.allclose(joint_rotmats(loaded.motion), joint_rotmats(seq.motion), atol=1e-5)
    bad = tmp_path / "other.npz"
    np.savez(bad, something=np.zeros(3))
    assert main(["beat2", str(bad), str(tmp_path / "o.npz")]) == 2

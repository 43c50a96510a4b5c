"""The synthetic SMPL-X file loads in the real ``smplx`` package and poses like our FK."""

import numpy as np
import pytest
import torch

from openinfp.body.config import SmplxRenderOptions
from openinfp.body.convert import axis_angle_to_smplx
from openinfp.body.motion_space import joint_position, joint_rotmats
from openinfp.body.skeleton import forward_kinematics
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.interfaces import RenderSource


def test_synthetic_file_has_the_smplx_layout(smplx_model_dir):
    from pathlib import Path

    path = Path(smplx_model_dir) / "smplx" / "SMPLX_NEUTRAL.npz"
    with np.load(path, allow_pickle=False) as data:
        shapes = {k: data[k].shape for k in data.files}
    assert shapes["v_template"] == (10475, 3)
    assert shapes["shapedirs"] == (10475, 3, 400)
    assert shapes["posedirs"] == (10475, 3, 486)
    assert shapes["J_regressor"] == (55, 10475) and shapes["weights"] == (10475, 55)
    assert shapes["kintree_table"] == (2, 55)
    assert shapes["hands_componentsl"] == (45, 45) and shapes["hands_meanr"] == (45,)
    assert shapes["lmk_faces_idx"] == (51,) and shapes["lmk_bary_coords"] == (51, 3)
    assert shapes["f"][1] == 3


def test_smplx_loader_and_forward_pass_agree_with_our_fk(smplx_model_dir):
    from openinfp.body.smplx_renderer import SmplxRenderer

    r = SmplxRenderer(SmplxRenderOptions(model_dir=smplx_model_dir))
    r.setup(RenderSource())
    import smplx

    assert isinstance(r.model, smplx.SMPLX)
    gen = torch.Generator().manual_seed(0)
    aa = 0.5 * torch.randn(5, 55, 3, generator=gen)
    transl = torch.randn(5, 3, generator=gen)
    motion = axis_angle_to_smplx(aa, transl)
    with torch.no_grad():
        out = r.model(**r.smplx_inputs(motion))
    assert out.vertices.shape == (5, 10475, 3)
    ours, _ = forward_kinematics(joint_rotmats(motion), transl=transl)
    assert torch.allclose(out.joints[:, :55], ours, atol=1e-4)
    # The posed mesh follows: the head ellipsoid's vertices stay rigidly around the head joint.
    rest = r.model.v_template
    head_verts = (r.model.lbs_weights[:, joint_position("head")] > 0.99).nonzero()[:, 0]
    d_rest = torch.linalg.norm(rest[head_verts] - rest[head_verts].mean(0), dim=-1)
    d_posed = torch.linalg.norm(out.vertices[3, head_verts] - out.vertices[3, head_verts].mean(0), dim=-1)
    assert torch.allclose(d_rest, d_posed, atol=1e-4)


def test_jaw_follows_arkit_jaw_open(smplx_model_dir):
    from openinfp.body.convert import JAW_OPEN_ANGLE
    from openinfp.body.motion_space import smplx_motion_space
    from openinfp.body.smplx_renderer import SmplxRenderer

    r = SmplxRenderer(SmplxRenderOptions(model_dir=smplx_model_dir))
    space = smplx_motion_space()
    m = space.neutral(2)
    m[1, space.component_index("expression", "jawOpen")] = 1.0
    inputs = r.smplx_inputs(m)
    assert torch.allclose(inputs["jaw_pose"][0], torch.zeros(3))
    assert torch.allclose(inputs["jaw_pose"][1], torch.tensor([JAW_OPEN_ANGLE, 0.0, 0.0]), atol=1e-5)


def test_missing_or_wrong_model_files_give_clear_errors(tmp_path):
    from openinfp.body.smplx_renderer import SmplxRenderer

    with pytest.raises(ConfigError, match="--smplx-model-dir"):
        SmplxRenderer(SmplxRenderOptions())
    with pytest.raises(InputError, match="does not exist"):
        SmplxRenderer(SmplxRenderOptions(model_dir=str(tmp_path / "nope")))
    with pytest.raises(InputError, match="no smplx/SMPLX_NEUTRAL.npz"):
        SmplxRenderer(SmplxRenderOptions(model_dir=str(tmp_path)))
    (tmp_path / "smplx").mkdir()
    (tmp_path / "smplx" / "SMPLX_NEUTRAL.pkl").write_bytes(b"x")
    with pytest.raises(InputError, match="pickles are not loaded"):
        SmplxRenderer(SmplxRenderOptions(model_dir=str(tmp_path)))

"""Anny: retargeting keeps SMPL-X bone directions; the ARKit face moves the mesh."""

import os
from pathlib import Path

import numpy as np
import torch

from openinfp.body.anny_body import ANNY_CORRESPONDENCE, ensure_anny_cache_dir
from openinfp.body.convert import neutral_smplx_motion
from openinfp.body.motion_space import smplx_motion_space
from openinfp.body.retarget_check import JOINT_SEGMENTS, bone_direction_errors, random_test_poses
from openinfp.core.interfaces import RenderSource
from openinfp.core.motion import MotionSequence


def test_retargeting_keeps_bone_directions(anny_body):
    poses = torch.cat([neutral_smplx_motion(1, pose="tpose").motion, neutral_smplx_motion(1).motion,
                       random_test_poses(40, seed=3)])
    errors = bone_direction_errors(anny_body, poses)
    segments, bones = errors["segments"], errors["bones"]
    assert segments.shape == (42, len(JOINT_SEGMENTS))
    assert bones.shape[1] == sum(1 for _, _, end in ANNY_CORRESPONDENCE if end is not None)
    mean = float(segments.mean())
    print(f"\nAnny retargeting, joint-to-joint segments over 42 poses: mean {mean:.2f} deg, "
          f"max {float(segments.max()):.2f} deg; aligned bone axes: mean {float(bones.mean()):.3f} deg")
    assert mean < 10.0
    assert float(bones.max()) < 1.0  # every aligned bone points along its SMPL-X segment
    # Errors come from fixed rest-shape differences, not from the pose: they barely vary.
    assert float((segments - segments[0]).abs().max()) < 1.0


def test_face_moves_the_mouth_and_eyelids(anny_body, anny_cache_dir):
    from openinfp.body.anny_renderer import AnnyRenderer
    from openinfp.body.config import AnnyRenderOptions

    r = AnnyRenderer(AnnyRenderOptions(camera="face", size=256, cache_dir=anny_cache_dir))
    r.setup(RenderSource())
    space = smplx_motion_space()
    base = neutral_smplx_motion(3).motion
    names = space.part("expression").component_names
    expr = space.get(base, "expression").clone()
    expr[1, names.index("jawOpen")] = 1.0
    expr[2, names.index("eyeBlinkLeft")] = 1.0
    expr[2, names.index("eyeBlinkRight")] = 1.0
    seq = MotionSequence(space.set(base, "expression", expr), space)
    frames = [f.astype(np.int16) for f in r.render(seq)]
    cam = r.camera()
    _, _, heads = anny_body.pose(seq.motion[:1], return_bones=True)
    rot, t = r.placement(seq)
    eyes_y = float(cam.project((heads[0, anny_body.bone("eye.L")] @ rot.T + t)[None])[0][0, 1])
    mouth = np.abs(frames[1] - frames[0]).max(-1) > 30
    blink = np.abs(frames[2] - frames[0]).max(-1) > 30
    assert mouth.sum() > 200 and blink.sum() > 30
    mouth_rows, blink_rows = np.nonzero(mouth)[0], np.nonzero(blink)[0]
    assert np.median(mouth_rows) > eyes_y + 0.05 * 256  # the change is below the eyes
    assert abs(np.median(blink_rows) - eyes_y) < 0.04 * 256  # and at eye height for a blink


def test_cache_dir_defaults_under_the_user_cache(monkeypatch, anny_cache_dir):
    import anny.paths

    monkeypatch.delenv("ANNY_CACHE_DIR", raising=False)
    try:
        path = ensure_anny_cache_dir()
        assert path == Path("~/.cache/openinfp/anny").expanduser()
        assert os.environ["ANNY_CACHE_DIR"] == str(path)
        assert anny.paths.get_anny_cache_path() == path
        assert ensure_anny_cache_dir("/tmp/elsewhere") == Path("/tmp/elsewhere")
    finally:
        anny.paths.set_anny_cache_path(anny_cache_dir)

"""Every body renderer draws the body where its camera says it is (silhouette tests)."""

import numpy as np
import pytest
import torch

from openinfp.body.config import AnnyRenderOptions, SkeletonRenderOptions, SmplxRenderOptions
from openinfp.body.convert import head_to_smplx, neutral_smplx_motion
from openinfp.body.motion_space import joint_position, joint_rotmats
from openinfp.body.raster import background_image
from openinfp.body.skeleton import forward_kinematics
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.interfaces import Renderer, RenderSource
from openinfp.core.motion import MotionSequence
from openinfp.head.motion_space import head_motion_space

SIZE = 256
TORSO = ("pelvis", "spine2", "spine3", "neck", "head", "left_shoulder", "right_shoulder")


@pytest.fixture(params=["skeleton", "anny", "smplx"])
def make_renderer(request, smplx_model_dir, anny_cache_dir):
    """A factory ``make(camera) -> renderer`` for each body renderer."""
    name = request.param

    def make(camera: str = "full_body", **kw):
        kw.setdefault("size", SIZE)
        if name == "skeleton":
            from openinfp.body.skeleton_renderer import SkeletonRenderer

            r = SkeletonRenderer(SkeletonRenderOptions(camera=camera, **kw))
        elif name == "anny":
            from openinfp.body.anny_renderer import AnnyRenderer

            r = AnnyRenderer(AnnyRenderOptions(camera=camera, cache_dir=anny_cache_dir, **kw))
        else:
            from openinfp.body.smplx_renderer import SmplxRenderer

            r = SmplxRenderer(SmplxRenderOptions(camera=camera, model_dir=smplx_model_dir, **kw))
        r.setup(RenderSource(label="agent"))
        return r

    make.renderer_name = name
    return make


def _moving_motion() -> MotionSequence:
    """Frame 0 relaxed at the origin; frame 1 moved 0.25 m to the body's left (+x)."""
    seq = neutral_smplx_motion(2)
    space = seq.space
    transl = torch.tensor([[0.0, 0.0, 0.0], [0.25, 0.0, 0.0]])
    return MotionSequence(space.set(seq.motion, "transl", transl), space)


def test_silhouette_is_where_the_camera_says(make_renderer, project, body_mask):
    r = make_renderer("full_body")
    assert isinstance(r, Renderer)
    seq = _moving_motion()
    frames = list(r.render(seq))
    assert len(frames) == 2 and frames[0].shape == (SIZE, SIZE, 3) and frames[0].dtype == np.uint8
    cam = r.camera()
    bg = (background_image(SIZE, SIZE).numpy() * 255 + 0.5).astype(np.uint8)
    masks = [body_mask(f, bg) for f in frames]
    # Torso joints (the model's own when it has them) project onto the silhouette.
    joints, _ = forward_kinematics(joint_rotmats(seq.motion), transl=seq.get("transl"))
    joints = joints + (r.rest_pelvis() - joints[0, joint_position("pelvis")])
    for f in range(2):
        xy = project(r, seq.motion, joints[f], cam)
        for name in TORSO:
            x, y = xy[joint_position(name)].round().long().tolist()
            window = masks[f][max(y - 2, 0):y + 3, max(x - 2, 0):x + 3]
            assert window.any(), f"{r.name}: {name} projects to ({x}, {y}) off the silhouette in frame {f}"
    # The body's rest height, projected, spans the silhouette from head top to soles.
    framing = r.framing()
    top_bottom = torch.tensor([[0.0, framing.top, 0.0], [0.0, framing.bottom, 0.0]])
    ys = cam.project(top_bottom)[0][:, 1]
    rows = np.nonzero(masks[0].any(axis=1))[0]
    assert abs(rows.min() - float(ys[0])) < 0.03 * SIZE and abs(rows.max() - float(ys[1])) < 0.03 * SIZE
    # Centred at frame 0; the step to the body's left shows as a shift to the viewer's right.
    cols0, cols1 = np.nonzero(masks[0])[1], np.nonzero(masks[1])[1]
    assert abs(cols0.mean() - SIZE / 2) < 0.05 * SIZE
    shift = float(cam.project(torch.tensor([[0.25, 0.0, 0.0]]))[0][0, 0] - SIZE / 2)
    assert abs((cols1.mean() - cols0.mean()) - shift) < 0.03 * SIZE


@pytest.mark.parametrize("camera", ["face", "upper_body"])
def test_presets_frame_the_head(make_renderer, project, body_mask, camera):
    r = make_renderer(camera)
    seq = neutral_smplx_motion(1)
    frame = next(iter(r.render(seq)))
    bg = (background_image(SIZE, SIZE).numpy() * 255 + 0.5).astype(np.uint8)
    mask = body_mask(frame, bg)
    cam = r.camera()
    framing = r.framing()
    head_top = cam.project(torch.tensor([[0.0, framing.top, 0.0]]))[0][0]
    rows = np.nonzero(mask.any(axis=1))[0]
    assert abs(rows.min() - float(head_top[1])) < 0.04 * SIZE  # the head top is in view, where expected
    if camera == "face":
        # The head fills the frame: the silhouette is wide at eye height and reaches the bottom.
        eyes_y = int(cam.project(torch.tensor([[0.0, framing.eyes, 0.05]]))[0][0, 1])
        assert mask[eyes_y].sum() > 0.2 * SIZE and mask[-1].any()
    else:
        assert mask[-1].any() and rows.min() > 0.02 * SIZE  # cut at the hips, head not cropped


def test_renderers_reject_head_motion_and_bad_options(make_renderer):
    r = make_renderer("upper_body")
    head = MotionSequence(head_motion_space().neutral(2), head_motion_space())
    with pytest.raises(InputError, match="head_to_smplx"):
        list(r.render(head))
    lifted = head_to_smplx(head)
    assert len(list(r.render(lifted))) == 2
    with pytest.raises(ConfigError, match="camera"):
        make_renderer("portrait")
    with pytest.raises(ConfigError, match="even"):
        make_renderer("face", size=255)

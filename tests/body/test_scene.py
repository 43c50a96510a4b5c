"""Two people in one frame stream."""

import numpy as np
import pytest
import torch

from openinfp.body.config import SkeletonRenderOptions
from openinfp.body.convert import neutral_smplx_motion
from openinfp.body.raster import background_image
from openinfp.body.scene import TwoPersonScene
from openinfp.body.skeleton_renderer import SkeletonRenderer
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.interfaces import RenderSource


def _masks(frame):
    h, w = frame.shape[:2]
    bg = (background_image(w, h).numpy() * 255 + 0.5).astype(np.uint8)
    return np.abs(frame.astype(np.int16) - bg.astype(np.int16)).max(-1) > 6


@pytest.mark.parametrize("layout", ["facing", "side_by_side"])
def test_two_bodies_stand_apart_and_face_as_staged(layout):
    renderer = SkeletonRenderer(SkeletonRenderOptions(camera="full_body", size=256))
    scene = TwoPersonScene(renderer, layout=layout)
    a, b = neutral_smplx_motion(3), neutral_smplx_motion(3)
    frames = list(scene.render_pair(a, b))
    assert len(frames) == 3 and frames[0].shape == (256, scene.width, 3) and scene.width % 2 == 0
    mask = _masks(frames[0])
    cam = scene.camera()
    centres = []
    for i in range(2):
        rot, t = scene.stage(i)
        centres.append(float(cam.project(t[None])[0][0, 0]))
    assert centres[0] < scene.width / 2 < centres[1]
    cols = np.nonzero(mask.any(axis=0))[0]
    # Both bodies are drawn around their staged spots, with a gap between them.
    for c in centres:
        assert mask[:, int(c) - 3:int(c) + 4].any()
    assert not mask[:, int(scene.width / 2) - 2:int(scene.width / 2) + 3].any()
    assert cols.min() < centres[0] and cols.max() > centres[1]
    # Facing: each nose points at the other person; side by side: at the camera.
    noses = []
    for i in range(2):
        rot, _ = scene.stage(i)
        noses.append(rot @ torch.tensor([0.0, 0.0, 1.0]))
    if layout == "facing":
        assert noses[0][0] > 0.5 and noses[1][0] < -0.5
    else:
        assert torch.allclose(noses[0], torch.tensor([0.0, 0.0, 1.0]))


def test_each_participant_moves_independently():
    renderer = SkeletonRenderer(SkeletonRenderOptions(camera="full_body", size=128))
    scene = TwoPersonScene(renderer, layout="side_by_side")
    a = neutral_smplx_motion(2)
    b = neutral_smplx_motion(2)
    space = b.space
    b.motion = space.set(b.motion, "transl", torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.3, 0.0]]))  # partner jumps
    f0, f1 = [_masks(f) for f in scene.render_pair(a, b)]
    half = scene.width // 2
    assert np.array_equal(f0[:, :half - 4], f1[:, :half - 4])  # the agent did not move
    assert not np.array_equal(f0[:, half + 4:], f1[:, half + 4:])


def test_mismatched_motions_and_bad_layout_are_refused():
    renderer = SkeletonRenderer(SkeletonRenderOptions(size=64))
    with pytest.raises(ConfigError, match="layout"):
        TwoPersonScene(renderer, layout="circle")
    scene = TwoPersonScene(renderer)
    with pytest.raises(InputError, match="must match"):
        list(scene.render_pair(neutral_smplx_motion(3), neutral_smplx_motion(4)))


class _FlatRenderer:
    """A renderer that is not a body renderer: fills the frame with a colour per participant."""

    def setup(self, source: RenderSource) -> None:
        self.value = 50 if source.label == "agent" else 200

    def render(self, motion):
        for _ in range(motion.num_frames):
            yield np.full((32, 32, 3), self.value, np.uint8)


def test_other_renderers_are_put_side_by_side():
    scene = TwoPersonScene(_FlatRenderer())
    frames = list(scene.render_pair(neutral_smplx_motion(2), neutral_smplx_motion(2)))
    assert len(frames) == 2 and frames[0].shape == (32, 64, 3)
    assert (frames[0][:, :32] == 50).all() and (frames[0][:, 32:] == 200).all()

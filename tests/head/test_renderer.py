import numpy as np
import pytest
import torch

from openinfp.core.errors import InputError
from openinfp.core.interfaces import Renderer, RenderSource
from openinfp.core.motion import MotionSequence
from openinfp.head.closed_loop import make_motion
from openinfp.head.landmarks import LEFT_EYE, LIPS_INNER, NOSE_TIP
from openinfp.head.motion_space import head_motion_space


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def test_zero_motion_reproduces_the_source(renderer):
    assert isinstance(renderer, Renderer)
    neutral = head_motion_space().neutral()
    frame = renderer.render_frame(neutral)
    assert frame.shape == (512, 512, 3) and frame.dtype == np.uint8
    lm = renderer.target_landmarks(neutral)
    (x0, y0), (x1, y1) = lm.min(0).astype(int), lm.max(0).astype(int)
    assert psnr(frame[y0:y1, x0:x1], renderer.source_frame[y0:y1, x0:x1]) > 35
    assert renderer.source_frame[y0:y1, x0:x1].std() > 20  # a real face crop, not a blank canvas
    # A small motion changes the face (the PSNR check is not vacuous).
    moved = renderer.render_frame(make_motion((3, 0, 0)))
    assert psnr(moved[y0:y1, x0:x1], renderer.source_frame[y0:y1, x0:x1]) < 35


def test_render_streams_frames_of_a_sequence(renderer):
    motion = torch.stack([make_motion((5 * i, 0, 0)) for i in range(4)])
    frames = renderer.render(MotionSequence(motion, head_motion_space(), 25.0))
    assert not isinstance(frames, (list, tuple))
    first = next(frames)
    assert first.shape == (512, 512, 3)
    assert len(list(frames)) == 3


def test_pose_and_expression_move_the_right_pixels(renderer):
    neutral = head_motion_space().neutral()
    base = renderer.target_landmarks(neutral)
    right = renderer.target_landmarks(make_motion((15, 0, 0)))
    down = renderer.target_landmarks(make_motion((0, 10, 0)))
    assert right[NOSE_TIP, 0] - base[NOSE_TIP, 0] > 10  # yaw + turns the nose to the viewer's right
    assert down[NOSE_TIP, 1] - base[NOSE_TIP, 1] > 5  # pitch + nods down (image y grows)
    src = renderer.render_frame(neutral)
    jaw = renderer.render_frame(make_motion(jawOpen=0.8))
    lips = renderer.target_landmarks(make_motion(jawOpen=0.8))[list(LIPS_INNER)]
    cx, cy = lips.mean(0).astype(int)
    # The opened mouth shows a dark cavity where the source had lips/teeth.
    assert jaw[cy - 2:cy + 3, cx - 6:cx + 7].mean() < src[cy - 2:cy + 3, cx - 6:cx + 7].mean() - 30
    blink = renderer.render_frame(make_motion(eyeBlinkLeft=1.0, eyeBlinkRight=1.0))
    eye = base[list(LEFT_EYE)]
    (ex0, ey0), (ex1, ey1) = eye.min(0).astype(int), eye.max(0).astype(int) + 1
    # Closed lids hide the dark iris: the eye region gets brighter and flatter.
    assert blink[ey0:ey1, ex0:ex1].mean() > src[ey0:ey1, ex0:ex1].mean() + 5


def test_full_framing_and_sizes(astronaut):
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig

    img = np.ascontiguousarray(astronaut[:, :501])  # odd width
    r = PortraitRenderer(PortraitRendererConfig(framing="full"))
    r.setup(RenderSource(portrait=img))
    assert r.render_frame(make_motion((10, 0, 0))).shape == (512, 500, 3)
    small = PortraitRenderer(PortraitRendererConfig(size=256))
    small.setup(RenderSource(portrait=img))
    assert small.render_frame(make_motion(jawOpen=0.5)).shape == (256, 256, 3)
    with pytest.raises(InputError, match="even"):
        PortraitRenderer(PortraitRendererConfig(size=255))


def test_bad_inputs(renderer):
    from openinfp.body.motion_space import smplx_motion_space
    from openinfp.head.renderer import PortraitRenderer

    space = smplx_motion_space()
    with pytest.raises(InputError, match="head"):
        next(renderer.render(MotionSequence(space.neutral(2), space, 25.0)))
    with pytest.raises(InputError, match="portrait"):
        PortraitRenderer().setup(RenderSource())


def test_registered_in_the_plugin_registry():
    from openinfp.core.registry import Registry

    r = Registry.create(autoload=False)
    assert "portrait" in r.choices("renderers")
    assert r.renderer("portrait", {"size": 128}).config.size == 128


@pytest.mark.slow
def test_renderer_speed_512():
    from openinfp.head.bench import bench_renderer

    assert bench_renderer(frames=60) >= 30.0

"""Cross-identity reenactment with a real driver whose first frame has the mouth open.

``real3dportrait_May_5s.mp4`` (realdata/talking_video) opens its mouth in frame 0
(tracked jawOpen 0.48, above the clip's median 0.40): relative to frame 0, the portrait's
mouth would only open where hers opens further. Relative to her own neutral, the
re-tracked output jawOpen follows hers.
"""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.arkit import arkit_index

DRIVER = "talking_video/real3dportrait_May_5s.mp4"
PORTRAITS = ("portraits/26_elderly_woman_sunglasses_on_head.jpg", "portraits/24_woman_upper_body_talking_large.jpg")
"""A closed-mouth portrait, and one photographed talking (its open mouth is closed at setup)."""
STEP = 2  # render every second frame (the test stays well under a minute)


def retracked_jaw_correlation(realdata, transfer, portrait: str = PORTRAITS[0]) -> tuple[float, np.ndarray]:
    from openinfp.head.image_io import load_portrait
    from openinfp.head.motion_space import head_motion_space
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig
    from openinfp.head.tracker import HeadTracker

    space = head_motion_space()
    with HeadTracker() as tracker:
        driving = tracker.track_video(realdata / DRIVER, progress=False)
        image = load_portrait(realdata / portrait)
        renderer = PortraitRenderer(PortraitRendererConfig(size=384))
        renderer.setup_tracked(image, tracker.track_image(image))
        motion = transfer(driving)
        drive_jaw = space.get(driving.motion, "arkit")[:, arkit_index("jawOpen")].numpy()
        got, want = [], []
        for k in range(0, motion.num_frames, STEP):
            face = tracker.track_image(renderer.render_frame(motion.motion[k]))
            got.append(face.weights[arkit_index("jawOpen")])
            want.append(drive_jaw[k])
    return float(np.corrcoef(got, want)[0, 1]), np.array(got)


@pytest.mark.slow
@pytest.mark.parametrize("portrait", PORTRAITS)
def test_reenactment_follows_a_driver_whose_first_frame_has_an_open_mouth(realdata, portrait):
    from openinfp.head.reenact import neutral_transfer

    r, jaw = retracked_jaw_correlation(realdata, neutral_transfer, portrait)
    assert r >= 0.8, r
    assert jaw.max() - jaw.min() > 0.2  # the mouth really opens and closes


def test_driver_neutral_ignores_an_open_first_frame():
    import torch

    from openinfp.core.motion import MotionSequence
    from openinfp.head.closed_loop import make_motion
    from openinfp.head.motion_space import head_motion_space
    from openinfp.head.reenact import JAW_GAIN, neutral_transfer

    jaw = [0.6, 0.1, 0.0, 0.3, 0.0, 0.5, 0.05, 0.0]
    seq = MotionSequence(torch.stack([make_motion((5.0 * (i % 3), 0, 0), jawOpen=j) for i, j in enumerate(jaw)]),
                         head_motion_space(), 25.0)
    out = head_motion_space().get(neutral_transfer(seq).motion, "arkit")[:, arkit_index("jawOpen")]
    assert out[0] == pytest.approx(min(1.0, 0.6 * JAW_GAIN), abs=1e-5) and out[2] == pytest.approx(0.0, abs=1e-5)

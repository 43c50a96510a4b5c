"""Blinks close the eyes by painting the lid, also behind glasses (issue 4)."""

import numpy as np
import pytest

from openinfp.head.closed_loop import make_motion
from openinfp.head.landmarks import LEFT_EYE, LEFT_IRIS, RIGHT_EYE, RIGHT_IRIS


def _luma(img):
    return img.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def _iris_disc(shape, lm, iris):
    """Pixels within 0.6 iris radii of the iris centre (pupil and iris, not the lids)."""
    centre, rim = lm[iris[0]], lm[list(iris[1:])]
    radius = 0.6 * np.linalg.norm(rim - centre, axis=1).mean()
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (xx - centre[0]) ** 2 + (yy - centre[1]) ** 2 < radius ** 2


def _eye_mask(shape, points):
    import cv2

    mask = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points).astype(np.int32)], 1)
    return mask.astype(bool)


@pytest.fixture(scope="module")
def grace_renderers(grace_hopper):
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig
    from openinfp.head.tracker import HeadTracker

    with HeadTracker() as tracker:
        face = tracker.track_image(grace_hopper)
    out = {}
    for lids in (True, False):
        r = PortraitRenderer(PortraitRendererConfig(eyelids=lids))
        r.setup_tracked(grace_hopper, face)
        out[lids] = r
    return out


def test_blink_behind_glasses_hides_the_iris_and_leaves_the_frame(grace_renderers):
    painted, warped = grace_renderers[True], grace_renderers[False]
    src = painted.source_frame
    neutral = painted.target_landmarks(make_motion())
    blink = make_motion(eyeBlinkLeft=1.0, eyeBlinkRight=1.0)
    closed, dragged = painted.render_frame(blink), warped.render_frame(blink)
    for eye, iris in ((RIGHT_EYE, RIGHT_IRIS), (LEFT_EYE, LEFT_IRIS)):
        pts = neutral[list(eye)]
        width = np.ptp(pts[:, 0])
        disc = _iris_disc(src.shape, neutral, iris)
        # The source shows a dark pupil and iris; a closed lid hides them (the warped lid
        # leaves most of them visible, as dark streaks).
        assert (_luma(src)[disc] < 70).mean() > 0.5
        assert (_luma(closed)[disc] < 70).mean() < 0.1
        assert (_luma(dragged)[disc] < 70).mean() > 0.2
        # The glasses frame above the eye stays put (the warped lid drags it down).
        x0, x1 = int(pts[:, 0].min()), int(pts[:, 0].max())
        y1 = int(pts[:, 1].min() - 0.2 * width)
        y0 = int(y1 - 0.4 * width)
        still = np.abs(closed[y0:y1, x0:x1].astype(float) - src[y0:y1, x0:x1]).mean()
        moved = np.abs(dragged[y0:y1, x0:x1].astype(float) - src[y0:y1, x0:x1]).mean()
        assert still < 2.0 and moved > 3 * still + 2.0, (still, moved)


def test_zero_and_partial_blinks(grace_renderers):
    r = grace_renderers[True]
    src = r.source_frame
    assert np.array_equal(r.render_frame(make_motion()), src)  # nothing painted at zero motion
    disc = _iris_disc(src.shape, r.target_landmarks(make_motion()), RIGHT_IRIS)
    dark = [(_luma(r.render_frame(make_motion(eyeBlinkRight=b)))[disc] < 70).mean() for b in (0.0, 0.5, 1.0)]
    assert dark[0] > dark[1] > dark[2]  # the lid comes down gradually
    # Only the driven eye closes.
    left = _eye_mask(src.shape, r.target_landmarks(make_motion())[list(LEFT_EYE)])
    one = r.render_frame(make_motion(eyeBlinkRight=1.0))
    assert np.array_equal(one[left], src[left])

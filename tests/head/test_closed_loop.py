"""Closed loop: render known motion onto real photos, re-track, compare (issue 4's done-when)."""

import numpy as np
import pytest

from openinfp.head.closed_loop import closed_loop, sweep_motions


def _check(report, pose=3.0, jaw=0.9, blink=0.8):
    assert report.lost == 0
    assert np.median(report.pose_error_deg) < pose, report.summary()
    assert report.jaw_corr > jaw, report.summary()
    assert report.blink_corr > blink, report.summary()
    assert np.median(report.landmark_error) < 0.05, report.summary()


def test_closed_loop_astronaut(astronaut):
    report = closed_loop(astronaut, sweep_motions(8))
    _check(report)
    # Nods are read in full (pitch was read at 0.6-0.7 when it came from the image plane
    # alone); yaw and roll too (yaw somewhat under, see docs/HEAD.md).
    yaw, pitch, roll = report.pose_gain()
    assert 0.85 < pitch < 1.15 and 0.9 < roll < 1.1 and yaw > 0.7, report.summary()


def test_closed_loop_grace_hopper(grace_hopper):
    # Glasses with thick dark frames just above the eyes: blinks read 0.77 when the lid
    # was warped down (the frame was dragged into the eye); painted lids close the eyes.
    _check(closed_loop(grace_hopper, sweep_motions(8)))


def _variants():
    import cv2
    import skimage.data

    a = skimage.data.astronaut()
    gray = np.repeat(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    rot = cv2.warpAffine(a, cv2.getRotationMatrix2D((256, 256), 12, 1.0), (512, 512), borderMode=cv2.BORDER_REFLECT)
    return {
        "grayscale": gray,
        "rotated12": rot,
        "upscaled": cv2.resize(a, (1100, 1100), interpolation=cv2.INTER_CUBIC),
        "downscaled": cv2.resize(a, (300, 300), interpolation=cv2.INTER_AREA),
        "cropped_offcentre": np.ascontiguousarray(a[20:300, 100:460]),
        "wide": cv2.copyMakeBorder(a, 0, 0, 600, 0, cv2.BORDER_REFLECT),
    }


@pytest.mark.slow
@pytest.mark.parametrize("name", list(_variants()))
def test_closed_loop_transformed_astronaut(name):
    _check(closed_loop(_variants()[name], sweep_motions(8)))

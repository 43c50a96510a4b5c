"""The shipped landmark basis: every landmark on the face's front surface, left-right symmetric."""

from __future__ import annotations

import numpy as np

from openinfp.core.arkit import ARKIT_NAMES, arkit_index
from openinfp.head.basis import head_basis, mirror_partners
from openinfp.head.landmarks import LIPS_INNER_LOWER, LIPS_INNER_UPPER, MOUTH_CORNERS, NUM_LANDMARKS

IRIS_START = 468


def test_no_landmark_is_bound_behind_the_face():
    # A landmark bound to the mouth's inside or the neck sits far behind its neighbours
    # (landmark 415 was 1.5 IOD deep and moved up when the jaw opened).
    from scipy.spatial import cKDTree

    skin = head_basis().neutral[:IRIS_START]
    _, near = cKDTree(skin[:, :2]).query(skin[:, :2], k=7)
    behind = skin[:, 2] - np.median(skin[near[:, 1:], 2], axis=1)
    assert behind.min() > -0.6, int(np.argmin(behind))


def test_partners_pair_every_landmark_once():
    partner = mirror_partners(head_basis().neutral)
    assert (partner >= 0).all() and np.array_equal(partner[partner], np.arange(NUM_LANDMARKS))
    corners = MOUTH_CORNERS
    assert partner[corners[0]] == corners[1]
    assert 20 <= int((partner == np.arange(NUM_LANDMARKS)).sum()) <= 40  # the midline


def test_basis_is_left_right_symmetric():
    b = head_basis()
    partner = mirror_partners(b.neutral)
    flip = np.array([-1.0, 1.0, 1.0])
    for k, name in enumerate(ARKIT_NAMES):
        mirrored = name.replace("Left", "#").replace("Right", "Left").replace("#", "Right")
        np.testing.assert_allclose(b.basis[k], b.basis[arkit_index(mirrored)][partner] * flip, atol=1e-5,
                                   err_msg=name)
    # So an opening jaw lowers both mouth corners alike, and every inner upper-lip point
    # moves down or stays (none jumps up at a corner).
    jaw = b.basis[arkit_index("jawOpen")]
    left, right = MOUTH_CORNERS
    assert abs(jaw[left, 1] - jaw[right, 1]) < 1e-5 and jaw[left, 1] < -0.1
    assert (jaw[list(LIPS_INNER_UPPER), 1] <= 1e-3).all()
    assert (jaw[list(LIPS_INNER_LOWER[1:-1]), 1] < -0.2).all()

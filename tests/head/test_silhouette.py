"""Hidden landmarks of turned faces, the silhouette, and the rings that make way for it."""

from __future__ import annotations

import numpy as np

from openinfp.head.landmarks import FACE_OVAL, LIPS_OUTER, RIGHT_EYE
from openinfp.head.rings import Rings, ring_targets
from openinfp.head.silhouette import hidden_landmarks, hull_reach, onto_silhouette


def yaw(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])


def test_hull_reach_and_onto_silhouette_on_a_square():
    square = np.array([[0, 0], [2, 0], [2, 2], [0, 2], [1.5, 1.0]], float)
    dirs = np.array([[1, 0], [0, -1], [np.sqrt(0.5), np.sqrt(0.5)]])
    assert np.allclose(hull_reach(square, np.array([1.0, 1.0]), dirs), [1.0, 1.0, np.sqrt(2)])
    assert np.allclose(onto_silhouette(square, np.array([4, 0]), np.array([1.0, 1.0])), [[2, 1], [0, 0]])


def test_a_frontal_face_hides_nothing_and_a_turned_one_its_far_side():
    assert not hidden_landmarks(np.eye(3)).any()
    for sign in (-1, 1):
        hidden = hidden_landmarks(yaw(sign * 30))
        oval = [i for i in FACE_OVAL if hidden[i]]
        assert 5 <= len(oval) <= 20 and hidden.sum() < 200
        # Only one side: the hidden outline points all lie on the same side of the midline.
        from openinfp.head.basis import head_basis

        xs = head_basis().neutral[oval, 0] - head_basis().neutral[list(FACE_OVAL), 0].mean()
        assert np.all(np.sign(xs) == np.sign(xs[0]))
    assert not hidden_landmarks(yaw(40))[list(LIPS_OUTER + RIGHT_EYE)].any()


def test_rings_make_way_for_a_widening_outline_and_are_otherwise_unchanged():
    rings = Rings(points=np.array([[12.0, 0.0]]), canon=np.zeros((1, 3)), weight=np.ones(1), oval=np.array([0]),
                  expr=np.zeros(1), direction=np.array([[1.0, 0.0]]), keep=np.array([1.0]))
    outline = np.zeros((478, 2))
    outline[0] = (10.0, 0.0)
    expression = np.zeros((478, 2))
    # A rigid move that keeps the ring beyond its outline point is taken as it is ...
    assert np.allclose(ring_targets(rings, np.array([[14.0, 1.0]]), expression, outline), [[14.0, 1.0]])
    # ... one that would take it inside is pushed out to the distance it keeps.
    outline[0] = (15.0, 0.0)
    assert np.allclose(ring_targets(rings, np.array([[14.0, 1.0]]), expression, outline), [[16.0, 1.0]])

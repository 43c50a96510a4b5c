"""The photo's own expression undone: the jaw follows a lower lip lifted far more than the chin."""

from __future__ import annotations

import numpy as np

from openinfp.head.basis import head_basis
from openinfp.head.expression import JAW_FOLLOW, follow_jaw
from openinfp.head.landmarks import CHIN, FACE_OVAL, LIP_OUTER_CENTER_LOWER


def _yell_undone() -> tuple[np.ndarray, np.ndarray]:
    """A photo face whose lower lip and chin sit low (a yell), and that face undone the
    way the basis undoes a yell: the lower lip lifted 0.5, the chin only 0.2."""
    neutral = head_basis().neutral
    photo = neutral.copy()
    lip_y, chin_y = neutral[LIP_OUTER_CENTER_LOWER, 1], neutral[CHIN, 1]
    below_lip = photo[:, 1] < lip_y + 0.02
    photo[below_lip, 1] -= 0.3
    undone = photo.copy()
    t = np.clip((lip_y - 0.3 - photo[:, 1]) / (lip_y - chin_y), 0.0, 1.0)  # 0 at the lip, 1 at the chin
    undone[below_lip, 1] += (0.5 - 0.3 * t)[below_lip]
    return photo, undone


def test_chin_takes_its_share_of_the_lower_lips_extra_rise():
    photo, undone = _yell_undone()
    out = follow_jaw(photo, undone)
    extra = (undone[LIP_OUTER_CENTER_LOWER, 1] - photo[LIP_OUTER_CENTER_LOWER, 1]) - (undone[CHIN, 1] - photo[CHIN, 1])
    assert extra > 0.25
    assert np.isclose(out[CHIN, 1] - undone[CHIN, 1], JAW_FOLLOW * extra, atol=1e-6)
    # the lip itself stays where it closes
    assert np.isclose(out[LIP_OUTER_CENTER_LOWER, 1], undone[LIP_OUTER_CENTER_LOWER, 1])
    # Between lip and chin the points keep their order (no fold), and the stretch is less.
    assert out[LIP_OUTER_CENTER_LOWER, 1] - out[CHIN, 1] < undone[LIP_OUTER_CENTER_LOWER, 1] - undone[CHIN, 1]
    # Far from the mouth (forehead, the face's far sides) nothing moves.
    top = [i for i in FACE_OVAL if undone[i, 1] > undone[LIP_OUTER_CENTER_LOWER, 1]]
    np.testing.assert_allclose(out[top], undone[top])


def test_nothing_moves_when_the_chin_rises_with_the_lip():
    photo = head_basis().neutral
    same = photo.copy()
    same[:, 1] += 0.1  # everything lifted alike
    np.testing.assert_array_equal(follow_jaw(photo, same), same)
    np.testing.assert_array_equal(follow_jaw(photo, photo), photo)

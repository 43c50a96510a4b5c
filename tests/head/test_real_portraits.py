"""The portrait renderer on the real photos of the development set (``realdata/portraits``).

Per photo: the head framing stays inside the photo; where the warp samples past the canvas
edge the fill is mirrored, not edge stripes; a grayscale photo stays grayscale (and sepia
keeps its single tint); a photo's own open mouth closes while listening (inner-lip gap of
MediaPipe landmarks re-tracked on the output); the background outside the person does
not move. Three representative photos run by default, all 30 under ``-m slow``.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.head.closed_loop import make_motion
from openinfp.head.photo_check import (
    EXTREMES,
    HOLES,
    SMEAR_BAR,
    STRIPES,
    TURNED,
    hole_share,
    past_canvas,
    stripe_score,
)

FAST = ("18_woman_scream_hands_on_head.jpg", "02_bw_lincoln_small_beard.jpg", "30_man_tight_crop_small.png")
"""An open-mouth scream with hands in the hair, a tiny grayscale scan, a tight small crop."""
TIGHT = ("28_man_glasses_smile_turned_tight.png", "17_woman_glasses_pout_tight_small.jpg")
"""Tight photos with the face cut by the photo's edge (an ear, a cheek), whose turned frame
samples deep past the canvas. On 28 a plain mirror there doubled the ear (+0.21, failed
on main); the fill now fades into the mirror's blurred colours with its grain (-0.03)."""
TURNED_BACK = ("19_man_yelling_small.jpg", "28_man_glasses_smile_turned_tight.png")
"""Photos turned 24-28 degrees that tore when turned back towards the camera."""
SMEARED = ("19_man_yelling_small.jpg", "28_man_glasses_smile_turned_tight.png", "17_woman_glasses_pout_tight_small.jpg")
"""Photos that smeared worst on main when turned (a far cheek and jaw, a far side, an ear)."""
GHOSTED = [("28_man_glasses_smile_turned_tight.png", ((-15, 0, 0), (15, 0, 0), (20, 10, 8))),
           ("19_man_yelling_small.jpg", ((15, 0, 0), (-20, -8, -6)))]
"""Turned photos whose background showed a ghost of the head where it had been, at the
poses it showed at."""
GHOST_BAR = 4.5
"""Largest ghost score (``ghost.Ghost.score``, gray levels) at those poses (some room
above today's worst, 3.7, for tracker differences between CPUs; main's worst, 5.3 and
11.8, still fail). Main
before the mirrored plate: 28 5.6 / 11.8 (a pale arc beside the cheek), 19 3.7 / 5.3 (a
grey strip beside the hair); then 28 3.7 / 3.1, 19 3.6 / 1.6. 28 at yaw +15 scored 5.0
(main 6.7): a faint island of the segmentation in the window beside the head moved with
it; without such islands (``background._without_islands``) and with the plate kept near the
person's core (``background._near_core``; 18's speckled sleeve drew it in square blocks)
28 scores 2.0 / 1.9 / 1.4 (yaw -15, +15, (20, 10, 8))."""
TORN = [make_motion(ypr) for ypr in (
    (-20, 0, 0), (-15, 0, 0), (-10, 0, 0), (-20, -8, -6), (-40, 0, 0), (0, 0, -20), (0, 0, 20), (-30, -30, 0),
    (-30, 30, 0), (-20, 0, -8), (20, 0, 0), (20, 8, 6))]
"""Turns back towards the camera for the turned photos (yaw < 0), with nods, rolls and
diagonals, and the other way."""
TEAR_BAR = 1.5
"""Largest tear (``warp_quality.tear``: a crack of background under the jaw, per mille of
the face) at any of :data:`TORN`: the renderer's limit is 1.0 at the measured directions,
a little more can show between them. Before the limit took the tear in: 19 at yaw -10 /
-15 / -20: 2.0 / 3.2 / 3.6 (the wedge between jaw and lapel, plain at 512 px)."""


def _all_photos() -> list[str]:
    """Names of the photos (for parametrising at collection; the fixture decides skipping)."""
    root = os.environ.get("OPENINFP_REALDATA") or Path(__file__).resolve().parents[3] / "shared" / "realdata"
    folder = Path(root) / "portraits"
    return sorted(p.name for p in folder.glob("[0-9]*")) if folder.is_dir() else list(FAST)


def setup(path: Path, tracker):
    from openinfp.head.image_io import load_portrait
    from openinfp.head.renderer import PortraitRenderer

    image = load_portrait(path)
    try:
        face = tracker.track_image(image, name=path.name)
    except InputError:
        pytest.skip(f"MediaPipe finds no face in {path.name}")
    renderer = PortraitRenderer()
    renderer.setup_tracked(image, face)
    return image, face, renderer


def check_photo(path: Path, tracker) -> None:
    """Every check of :func:`openinfp.head.photo_check.check_photo` (framing, stripes,
    grayscale, the open mouth closing, still background, holes; bars and their history in
    that module) passes; a photo without a face is skipped."""
    from openinfp.head.photo_check import check_photo as measure

    report = measure(path, tracker, smear=False)
    if not report.face_found:
        pytest.skip(f"MediaPipe finds no face in {path.name}")
    assert report.passed, (path.name, report.failures)


@pytest.fixture(scope="module")
def tracker():
    from openinfp.head.tracker import HeadTracker

    with HeadTracker() as t:
        yield t


@pytest.mark.parametrize("name", FAST)
def test_real_portrait(realdata, tracker, name):
    check_photo(realdata / "portraits" / name, tracker)


CLOSED_CHIN = ("18_woman_scream_hands_on_head.jpg", "19_man_yelling_small.jpg")
"""A scream and a yell, whose lower lip sits close above the chin in the photo."""
CHIN_STRETCH = 1.5
"""Largest ratio of the closed face's lower-lip-to-chin height (canonical, landmarks 17 to
152) to the photo's. Before the chin followed the lower lip: 2.10 (18), 1.72 (19), 2.97
(20), a smooth lip-coloured band and a long chin on 19; now 1.33, 1.22 (20: 1.59)."""


@pytest.mark.parametrize("name", CLOSED_CHIN)
def test_closing_a_yell_does_not_stretch_the_chin(realdata, tracker, name):
    """Undoing a wide-open mouth lifts the lower lip; the chin comes along (``follow_jaw``)
    instead of the skin between them being stretched to twice its height."""
    from openinfp.head.landmarks import CHIN, LIP_OUTER_CENTER_LOWER

    _, face, renderer = setup(realdata / "portraits" / name, tracker)
    closed = renderer._require().face.shape
    height = closed[LIP_OUTER_CENTER_LOWER, 1] - closed[CHIN, 1]
    assert height <= CHIN_STRETCH * (face.shape[LIP_OUTER_CENTER_LOWER, 1] - face.shape[CHIN, 1]), name


@pytest.mark.parametrize("name", TIGHT)
def test_tight_photo_fill_past_the_edge_is_no_copy(realdata, tracker, name):
    """Where a turned head at the photo's edge samples past it, the fill is neither edge
    stripes nor a mirrored copy of what lies at the edge (28's ear)."""
    _, _, renderer = setup(realdata / "portraits" / name, tracker)
    turned = renderer.render_frame(TURNED)
    inner = past_canvas(renderer, TURNED)
    assert inner.sum() >= 200, name  # the pose does sample past the edge
    assert stripe_score(turned, inner) - stripe_score(renderer.source_frame, inner) <= STRIPES, name


@pytest.mark.parametrize("name", TURNED_BACK)
def test_turned_photo_turned_back_keeps_its_face_whole(realdata, tracker, name):
    """The far side of a turned photo widens when it turns back: no background in the face."""
    _, _, renderer = setup(realdata / "portraits" / name, tracker)
    back = [make_motion((sign * a, 0, 0)) for a in (10, 15, 20, 40) for sign in (-1, 1)]
    holes = [hole_share(renderer, m) for m in back + [make_motion((20, 8, 6)), make_motion((-20, -8, -6))]]
    assert max(holes) <= HOLES, np.round(holes, 4)


def check_smear(path: Path, tracker) -> None:
    _, _, renderer = setup(path, tracker)
    scores = [renderer.smear(m) for m in EXTREMES]
    assert max(scores) <= SMEAR_BAR, (path.name, np.round(scores, 1))


@pytest.mark.parametrize("name", SMEARED)
def test_turned_photo_does_not_smear(realdata, tracker, name):
    """At any pose the motion space allows, the warp magnifies little of the person near the
    face (the turn limit measured per photo and direction eases what would smear)."""
    check_smear(realdata / "portraits" / name, tracker)


@pytest.mark.parametrize("name", TURNED_BACK)
def test_turned_photo_turned_back_does_not_tear(realdata, tracker, name):
    """Where the photo's jaw lies over the collar (19), turning back towards the camera
    opens no crack of background between them: the turn limit keeps the tear under its bar."""
    _, _, renderer = setup(realdata / "portraits" / name, tracker)
    scores = [renderer.tear(m) for m in TORN]
    assert max(scores) <= TEAR_BAR, (name, np.round(scores, 2))
    # the measure does see the tear where the turn is drawn past the limit
    if name.startswith("19_"):
        assert renderer.tear(make_motion((-20, 0, 0)), limited=False) > 2.0 * TEAR_BAR


@pytest.mark.parametrize(("name", "poses"), GHOSTED)
def test_turned_photo_leaves_no_ghost(realdata, tracker, name, poses):
    """Where the head moves away, the still background continues: no outline or pale band
    shows where the head was (``ghost.py``)."""
    from openinfp.head.ghost import ghost

    _, _, renderer = setup(realdata / "portraits" / name, tracker)
    src = renderer._require()
    motions = [make_motion(ypr) for ypr in poses]
    scores = [ghost(renderer.render_frame(m), src.image, src.background.mask, renderer.person_alpha(m)).score
              for m in motions]
    assert max(scores) <= GHOST_BAR, (name, np.round(scores, 1))


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in _all_photos() if n not in SMEARED])
def test_no_smear_at_extreme_poses_all(realdata, tracker, name):
    check_smear(realdata / "portraits" / name, tracker)


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in _all_photos() if n not in FAST])
def test_real_portrait_all(realdata, tracker, name):
    check_photo(realdata / "portraits" / name, tracker)


def test_head_crop_stays_inside_and_zooms_in_on_tight_photos():
    from openinfp.head.framing import head_crop, outside_share

    lm = np.zeros((478, 2))
    lm[:, 0], lm[:, 1] = 100.0, 100.0
    lm[10], lm[152] = (100.0, 20.0), (100.0, 180.0)  # forehead top, chin: face 160 px high
    wide = head_crop(lm, 2000, 1500, 2.4)
    assert wide.side == 384 and wide.x0 == 0 and wide.y0 == 0  # pushed inside, not padded
    tight = head_crop(lm, 200, 260, 2.4)
    assert tight.side == 200 and outside_share(tight, 200, 260) == 0.0


CARRIED_BAR = 4.0
"""Most background (per mille of the face) a turned-back frame may carry along beside the
face (:func:`carried_background`). 28 turned back: 7.6-8.2 before the face mesh let colour
take back the background sliver past its far cheek (a pale crescent), 2.2-2.5 after."""


def carried_background(renderer, motion, raw: np.ndarray) -> float:
    """Output pixels of ``motion`` drawn as person (warped person alpha >= 0.5) that sample
    what the segmentation ``raw`` ``[H, W]`` calls background, just outside the frame's face
    outline (within 0.1 face heights), per mille of the face: the photo's background
    stretched with the face, beside it."""
    from openinfp.head.landmarks import FACE_OVAL

    alpha = renderer.person_alpha(motion)
    x, y = renderer.source_positions(motion)
    seg = cv2.remap(raw, x, y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
    outline = renderer.target_landmarks(motion)[list(FACE_OVAL)]
    face = np.zeros(alpha.shape, np.uint8)
    cv2.fillPoly(face, [np.round(outline).astype(np.int32)], 1)
    grow = max(1, round(0.1 * float(np.ptp(outline[:, 1]))))
    near = cv2.dilate(face, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))) > 0
    beside = (alpha >= 0.5) & (seg < 0.5) & near & (face == 0)
    return 1000.0 * float(beside.sum()) / max(1, int(face.sum()))


def test_turned_photo_turned_back_carries_no_background_beside_its_cheek(realdata, tracker):
    """28 (turned ~25 degrees, bright window behind) turned back towards the camera: the
    background sliver the face mesh reaches past its far cheek stays background, so it is
    not stretched with the cheek into a pale crescent beside it."""
    from openinfp.head.background import person_mask

    _, _, renderer = setup(realdata / "portraits" / "28_man_glasses_smile_turned_tight.png", tracker)
    raw = person_mask(renderer.photo_canvas)
    scores = [carried_background(renderer, make_motion(ypr), raw) for ypr in ((-15, 0, 0), (-20, -8, -6))]
    assert max(scores) <= CARRIED_BAR, np.round(scores, 1)

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
from openinfp.head.landmarks import (
    LIP_INNER_CENTER_LOWER,
    LIP_INNER_CENTER_UPPER,
    interocular_distance,
)

FAST = ("18_woman_scream_hands_on_head.jpg", "02_bw_lincoln_small_beard.jpg", "30_man_tight_crop_small.png")
"""An open-mouth scream with hands in the hair, a tiny grayscale scan, a tight small crop."""
LISTENING = make_motion((0.0, 6.0, 0.0))
TURNED = make_motion((20.0, 10.0, 8.0))
STRIPES = 0.15
"""How much more striped than the photo itself (same pixels of the zero frame) an area the
frame samples past the canvas may be. Photos have their own direction (hair, tree
trunks: 0.1-0.74 on those areas). Turned frames of 15, 21, 22, 30, 17, 25, 12, 28: the
fill (``extension.py``) minus photo -0.47 to +0.02; the same areas edge-replicated: +0.05
to +0.86 (caught on 12, 17, 25, 28; 22 samples a flat area now)."""
TIGHT = ("28_man_glasses_smile_turned_tight.png", "17_woman_glasses_pout_tight_small.jpg")
"""Tight photos with the face cut by the photo's edge (an ear, a cheek), whose turned frame
samples deep past the canvas. On 28 a plain mirror there doubled the ear (+0.21, failed
on main); the fill now fades into the mirror's blurred colours with its grain (-0.03)."""
FLAT = 4.0
"""Mean Sobel magnitude (gray levels) below which an area counts as flat."""
STILL_LEVELS = 4
"""Largest 99th-percentile change (of 255) of background pixels: a 1-px shift of any
textured background changes far more (before this work: 13-183)."""
TURNS = [make_motion(ypr) for ypr in ((-20, 0, 0), (-15, 0, 0), (-10, 0, 0), (10, 0, 0), (15, 0, 0), (20, 0, 0),
                                     (0, -15, 0), (0, 15, 0), (20, 8, 6), (-20, -8, -6), (40, 0, 0), (-40, 0, 0))]
"""Turns both ways, nods and mixed poses (40 degrees is drawn at the renderer's turn limit)."""
HOLES = 0.012
"""Largest share of the face (inside its target outline) where the still background shows
through. Before the silhouette work: up to 0.058 (23 turned back 40 degrees), 0.027 (19),
0.023 (28), 0.016 (21); now at most 0.0093 (at 256 px)."""
TURNED_BACK = ("19_man_yelling_small.jpg", "28_man_glasses_smile_turned_tight.png")
"""Photos turned 24-28 degrees that tore when turned back towards the camera."""
EXTREMES = [make_motion(ypr) for ypr in (
    (20, 0, 0), (-20, 0, 0), (40, 0, 0), (-40, 0, 0), (0, 15, 0), (0, -15, 0), (0, 40, 0), (0, -40, 0),
    (20, 8, 6), (-20, -8, -6), (30, 30, 0), (-30, -30, 0), (30, -30, 0), (-30, 30, 0), (0, 0, 30), (0, 0, -30),
    (30, -30, 8), (-30, 30, -8))]
"""Turns, nods, diagonals and rolls up to and past the renderer's limits, both ways (so
every photo is also turned towards the side it hides)."""
SMEAR_BAR = 60.0
"""Largest smear (``warp_quality.smear``: person near the face magnified more than 3x, per
mille of the face) at any of :data:`EXTREMES`. Seen at 512 px: up to 35 nothing shows,
from about 50 a smear is plain. Main before the measured turn limits: the worst pose of
every photo scored 102-315 (19: 137, 28: 274, 17: 290, 23: 258, 20: 150, 30: 254; the
frontal 26: 102, 02: 138); now 29-58 (05: 58.4 and 15: 57.0 at yaw/pitch -30/-30; 02: 45)."""
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
OPEN_GAP = 0.1
"""Inner-lip gap (share of the pupil distance) above which a photo's mouth counts as open."""
CLOSED_GAP = 0.1
"""... and below which the listening frame's counts as closed (closed lips read under 0.05;
before the closed-lip redraw a scream, a yell and a shocked "O" read 0.12, 0.14 and 0.33)."""


def _all_photos() -> list[str]:
    """Names of the photos (for parametrising at collection; the fixture decides skipping)."""
    root = os.environ.get("OPENINFP_REALDATA") or Path(__file__).resolve().parents[3] / "shared" / "realdata"
    folder = Path(root) / "portraits"
    return sorted(p.name for p in folder.glob("[0-9]*")) if folder.is_dir() else list(FAST)


def lip_gap(landmarks: np.ndarray) -> float:
    """Inner-lip gap at the middle of the mouth, in pupil distances."""
    return float(np.linalg.norm(landmarks[LIP_INNER_CENTER_UPPER, :2] - landmarks[LIP_INNER_CENTER_LOWER, :2])
                 / interocular_distance(landmarks))


def stripe_score(frame: np.ndarray, region: np.ndarray) -> float:
    """1 - min/max of the mean |gradient| along x and along y over ``region`` (0: as rough
    across as along, 1: pure stripes, as edge replication draws)."""
    g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0))[region].mean()
    gy = np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1))[region].mean()
    if max(gx, gy) < FLAT:  # a flat area (e.g. a black vignette) draws no stripes
        return 0.0
    return float(1.0 - min(gx, gy) / max(gx, gy, 1e-6))


def hole_share(renderer, motion) -> float:
    """Share of the target face outline where the warped person mask is under 0.5."""
    from openinfp.head.landmarks import FACE_OVAL

    face = np.zeros((renderer.config.size,) * 2, np.uint8)
    outline = renderer.target_landmarks(motion)[list(FACE_OVAL)]
    cv2.fillPoly(face, [np.round(outline).astype(np.int32)], 1)
    return float(((renderer.person_alpha(motion) < 0.5) & (face > 0)).sum() / max(1, face.sum()))


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
    from openinfp.head.background import person_mask
    from openinfp.head.framing import outside_share

    image, face, renderer = setup(path, tracker)
    h, w = image.shape[:2]
    # Framing: the canvas lies inside the photo.
    assert outside_share(renderer.crop, w, h) == 0.0
    listening, turned = renderer.render_frame(LISTENING), renderer.render_frame(TURNED)
    # Where the turned frame samples past the canvas, the fill is no edge stripe.
    mx, my = renderer.source_positions(TURNED)
    size = turned.shape[0]
    beyond = (mx < -2) | (my < -2) | (mx > size + 1) | (my > size + 1)
    # Only areas at least ~9 px deep: a sliver along the edge shows the photo's own edge.
    inner = cv2.erode(beyond.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
    if inner.sum() >= 200:
        own = stripe_score(renderer.source_frame, inner)
        assert stripe_score(turned, inner) - own <= STRIPES, path.name
    # Grayscale in, grayscale out (no red mouth, no cream teeth).
    wide = renderer.render_frame(make_motion(jawOpen=1.0))
    photo_chroma = np.ptp(image.astype(np.int16), axis=2)
    if photo_chroma.max() <= 2:
        for frame in (listening, turned, wide):
            assert np.ptp(frame.astype(np.int16), axis=2).max() <= 3, path.name
    # A photo's own open mouth closes while listening.
    if lip_gap(face.landmarks) > OPEN_GAP:
        try:
            gap = lip_gap(tracker.track_image(listening).landmarks)
        except InputError:
            pytest.fail(f"{path.name}: no face re-tracked on the listening frame")
        assert gap < 0.4 * lip_gap(face.landmarks) and gap < CLOSED_GAP, (path.name, gap)
    # The background outside the person (in the photo and in the frame) stays still.
    # (Pixels sampled past the canvas edge are extension, checked for stripes above.)
    person = (person_mask(renderer.photo_canvas) > 0.1) | (person_mask(turned) > 0.1) | beyond
    # Segmentation edges are soft: the band within 10 px of the person counts as neither.
    background = cv2.dilate(person.astype(np.uint8), np.ones((21, 21), np.uint8)) == 0
    if background.sum() >= 500:
        change = np.abs(turned.astype(np.int16) - renderer.source_frame.astype(np.int16)).max(2)
        assert np.percentile(change[background], 99) <= STILL_LEVELS, path.name
    # No holes in the face at any of the turns.
    holes = [hole_share(renderer, m) for m in TURNS]
    assert max(holes) <= HOLES, (path.name, np.round(holes, 4))


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
    from openinfp.head.expression import LOWER_LIP_MID
    from openinfp.head.landmarks import CHIN

    _, face, renderer = setup(realdata / "portraits" / name, tracker)
    closed = renderer._require().face.shape
    height = closed[LOWER_LIP_MID, 1] - closed[CHIN, 1]
    assert height <= CHIN_STRETCH * (face.shape[LOWER_LIP_MID, 1] - face.shape[CHIN, 1]), name


@pytest.mark.parametrize("name", TIGHT)
def test_tight_photo_fill_past_the_edge_is_no_copy(realdata, tracker, name):
    """Where a turned head at the photo's edge samples past it, the fill is neither edge
    stripes nor a mirrored copy of what lies at the edge (28's ear)."""
    _, _, renderer = setup(realdata / "portraits" / name, tracker)
    turned = renderer.render_frame(TURNED)
    mx, my = renderer.source_positions(TURNED)
    size = turned.shape[0]
    beyond = (mx < -2) | (my < -2) | (mx > size + 1) | (my > size + 1)
    inner = cv2.erode(beyond.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
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

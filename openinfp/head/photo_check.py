"""The real-photo checks of the portrait renderer, for any photo (``openinfp check-photos``).

The same measures the tests run on the development set's real portraits, so they can run on
photos the project does not have. Per photo, with the default renderer:

* **framing**: share of the head crop outside the photo (0: the crop moved inside);
* **stripes**: where a turned frame samples past the canvas, how much more striped (one
  gradient direction dominating, as edge replication draws) the fill is than the photo's
  own pixels there (:func:`stripe_score`);
* **grayscale**: a black-and-white photo's frames stay gray (no painted red mouth);
* **mouth**: a photo's own open mouth closes while listening (inner-lip gap re-tracked by
  MediaPipe on the output, :func:`lip_gap`);
* **background**: pixels away from the person (in the photo and in the turned frame) do not
  change when the head turns;
* **holes**: the still background never shows inside the face outline at 12 turns
  (:func:`hole_share`);
* **smear**: the warp magnifies little of the person near the face at 18 extreme poses
  (:meth:`PortraitRenderer.smear`).

A photo in which MediaPipe finds no face is reported as such and not failed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional

import cv2
import numpy as np

from openinfp.core.errors import InputError
from openinfp.head.closed_loop import make_motion
from openinfp.head.landmarks import FACE_OVAL, LIP_INNER_CENTER_LOWER, LIP_INNER_CENTER_UPPER, interocular_distance

log = logging.getLogger(__name__)

LISTENING = make_motion((0.0, 6.0, 0.0))
TURNED = make_motion((20.0, 10.0, 8.0))
TURNS = [make_motion(ypr) for ypr in ((-20, 0, 0), (-15, 0, 0), (-10, 0, 0), (10, 0, 0), (15, 0, 0), (20, 0, 0),
                                     (0, -15, 0), (0, 15, 0), (20, 8, 6), (-20, -8, -6), (40, 0, 0), (-40, 0, 0))]
"""Turns both ways, nods and mixed poses (40 degrees is drawn at the renderer's turn limit)."""
EXTREMES = [make_motion(ypr) for ypr in (
    (20, 0, 0), (-20, 0, 0), (40, 0, 0), (-40, 0, 0), (0, 15, 0), (0, -15, 0), (0, 40, 0), (0, -40, 0),
    (20, 8, 6), (-20, -8, -6), (30, 30, 0), (-30, -30, 0), (30, -30, 0), (-30, 30, 0), (0, 0, 30), (0, 0, -30),
    (30, -30, 8), (-30, 30, -8))]
"""Turns, nods, diagonals and rolls up to and past the renderer's limits, both ways."""

STRIPES = 0.15
"""How much more striped than the photo's own pixels an area sampled past the canvas may be
(photos have their own direction, hair or tree trunks: 0.1-0.74; edge replication adds
+0.05 to +0.86 on the development set's tight photos, the mirrored fill -0.47 to +0.02)."""
FLAT = 4.0
"""Mean Sobel magnitude (gray levels) below which an area counts as flat (draws no stripes)."""
STILL_LEVELS = 4
"""Largest 99th-percentile change (of 255) of background pixels (a 1-px shift of a textured
background changes far more: 13-183 before the still background)."""
HOLES = 0.012
"""Largest share of the face outline where the still background shows through."""
SMEAR_BAR = 60.0
"""Largest smear (per mille of the face magnified more than 3x); from about 50 it is plain."""
OPEN_GAP = 0.1
"""Inner-lip gap (share of the pupil distance) above which a photo's mouth counts as open."""
CLOSED_GAP = 0.1
"""... and below which the listening frame's counts as closed (closed lips read under 0.05)."""
GRAY_CHROMA = 2
"""A photo whose channels never differ by more than this is grayscale; its frames may by 3."""


def lip_gap(landmarks: np.ndarray) -> float:
    """Inner-lip gap at the middle of the mouth of ``[478, 2+]`` landmarks, in pupil distances."""
    return float(np.linalg.norm(landmarks[LIP_INNER_CENTER_UPPER, :2] - landmarks[LIP_INNER_CENTER_LOWER, :2])
                 / interocular_distance(landmarks))


def stripe_score(frame: np.ndarray, region: np.ndarray) -> float:
    """1 - min/max of the mean |gradient| along x and along y of RGB ``frame`` ``[H, W, 3]``
    over the boolean ``region`` ``[H, W]`` (0: as rough across as along, 1: pure stripes)."""
    g = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gx = np.abs(cv2.Sobel(g, cv2.CV_32F, 1, 0))[region].mean()
    gy = np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1))[region].mean()
    if max(gx, gy) < FLAT:  # a flat area (e.g. a black vignette) draws no stripes
        return 0.0
    return float(1.0 - min(gx, gy) / max(gx, gy, 1e-6))


def hole_share(renderer, motion) -> float:
    """Share of the target face outline where the warped person mask is under 0.5."""
    face = np.zeros((renderer.config.size,) * 2, np.uint8)
    outline = renderer.target_landmarks(motion)[list(FACE_OVAL)]
    cv2.fillPoly(face, [np.round(outline).astype(np.int32)], 1)
    return float(((renderer.person_alpha(motion) < 0.5) & (face > 0)).sum() / max(1, face.sum()))


def past_canvas(renderer, motion, deep: bool = True) -> np.ndarray:
    """``[S, S]`` bool: output pixels of ``motion`` that sample past the canvas; with ``deep``
    only areas at least ~9 px deep (a sliver along the edge shows the photo's own edge)."""
    mx, my = renderer.source_positions(motion)
    size = renderer.config.size
    beyond = (mx < -2) | (my < -2) | (mx > size + 1) | (my > size + 1)
    return cv2.erode(beyond.astype(np.uint8), np.ones((9, 9), np.uint8)) > 0 if deep else beyond


@dataclass
class PhotoReport:
    """What :func:`check_photo` measured on one photo (``None``: the check does not apply)."""

    name: str
    face_found: bool
    outside: float = 0.0
    stripes: Optional[float] = None
    gray_chroma: Optional[int] = None
    own_gap: Optional[float] = None
    listening_gap: Optional[float] = None
    background_change: Optional[float] = None
    holes: float = 0.0
    smear: Optional[float] = None
    failures: list[str] = field(default_factory=list)
    error: Optional[str] = None
    """Why the photo could not be read (then nothing else was measured)."""

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    def to_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def _fmt(value: Optional[float], digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def check_photo(path: Path, tracker, smear: bool = True) -> PhotoReport:
    """Run the renderer on the photo at ``path`` and measure every check (see the module doc).

    Args:
        tracker: an open :class:`~openinfp.head.tracker.HeadTracker` (reused across photos).
        smear: also measure the smear at the 18 extreme poses (the slowest check).
    """
    from openinfp.head.background import person_mask
    from openinfp.head.framing import outside_share
    from openinfp.head.image_io import load_portrait
    from openinfp.head.renderer import PortraitRenderer

    path = Path(path)
    try:
        image = load_portrait(path)
    except InputError as exc:
        return PhotoReport(path.name, face_found=False, error=str(exc))
    try:
        face = tracker.track_image(image, name=path.name)
    except InputError as exc:
        if "no face" in str(exc):
            return PhotoReport(path.name, face_found=False)
        raise
    renderer = PortraitRenderer()
    renderer.setup_tracked(image, face)
    rep = PhotoReport(path.name, face_found=True)
    h, w = image.shape[:2]
    if renderer.crop is not None:
        rep.outside = outside_share(renderer.crop, w, h)
        if rep.outside > 0.0:
            rep.failures.append(f"framing: {rep.outside:.1%} of the crop outside the photo")
    listening, turned = renderer.render_frame(LISTENING), renderer.render_frame(TURNED)
    inner = past_canvas(renderer, TURNED)
    if inner.sum() >= 200:
        rep.stripes = stripe_score(turned, inner) - stripe_score(renderer.source_frame, inner)
        if rep.stripes > STRIPES:
            rep.failures.append(f"stripes: the fill past the canvas {rep.stripes:+.2f} more striped than the photo")
    if np.ptp(image.astype(np.int16), axis=2).max() <= GRAY_CHROMA:
        wide = renderer.render_frame(make_motion(jawOpen=1.0))
        rep.gray_chroma = int(max(np.ptp(f.astype(np.int16), axis=2).max() for f in (listening, turned, wide)))
        if rep.gray_chroma > GRAY_CHROMA + 1:
            rep.failures.append(f"grayscale: frames show colour (channel spread {rep.gray_chroma})")
    rep.own_gap = lip_gap(face.landmarks)
    if rep.own_gap > OPEN_GAP:
        try:
            rep.listening_gap = lip_gap(tracker.track_image(listening, name=f"{path.name} (listening)").landmarks)
        except InputError:
            rep.failures.append("mouth: no face re-tracked on the listening frame")
        else:
            if not (rep.listening_gap < 0.4 * rep.own_gap and rep.listening_gap < CLOSED_GAP):
                rep.failures.append(f"mouth: the photo's open mouth stays open while listening "
                                    f"(gap {rep.own_gap:.2f} -> {rep.listening_gap:.2f})")
    # (pixels sampled past the canvas are extension, checked for stripes above)
    person = ((person_mask(renderer.photo_canvas) > 0.1) | (person_mask(turned) > 0.1)
              | past_canvas(renderer, TURNED, deep=False))
    background = cv2.dilate(person.astype(np.uint8), np.ones((21, 21), np.uint8)) == 0  # soft edges: neither
    if background.sum() >= 500:
        change = np.abs(turned.astype(np.int16) - renderer.source_frame.astype(np.int16)).max(2)
        rep.background_change = float(np.percentile(change[background], 99))
        if rep.background_change > STILL_LEVELS:
            rep.failures.append(f"background: moves when the head turns ({rep.background_change:.0f} levels)")
    rep.holes = max(hole_share(renderer, m) for m in TURNS)
    if rep.holes > HOLES:
        rep.failures.append(f"holes: background inside the face ({rep.holes:.1%} of it)")
    if smear:
        rep.smear = max(renderer.smear(m) for m in EXTREMES)
        if rep.smear > SMEAR_BAR:
            rep.failures.append(f"smear: {rep.smear:.0f} per mille of the face stretched over 3x")
    return rep


def photo_paths(items: Iterable[Path]) -> list[Path]:
    """Image files among ``items`` (folders are listed, sorted); raises if there are none."""
    suffixes = {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}
    out: list[Path] = []
    for item in map(Path, items):
        if item.is_dir():
            out += sorted(p for p in item.iterdir() if p.suffix.lower() in suffixes and p.is_file())
        elif item.is_file():
            out.append(item)
        else:
            raise InputError(f"{item}: no such file or folder")
    if not out:
        raise InputError("no photos to check (give image files or folders holding .jpg/.png/... files)")
    return out


def format_reports(reports: list[PhotoReport]) -> str:
    """A markdown table of the reports, then one line per failure."""
    rows = ["| photo | outside | stripes | gray | mouth gap (photo -> listening) | background | holes | smear | |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        if r.error is not None:
            rows.append(f"| {r.name} | unreadable | | | | | | | FAIL |")
            continue
        if not r.face_found:
            rows.append(f"| {r.name} | no face found | | | | | | | - |")
            continue
        mouth = _fmt(r.own_gap) + ("" if r.listening_gap is None else f" -> {_fmt(r.listening_gap)}")
        gray = "-" if r.gray_chroma is None else str(r.gray_chroma)
        rows.append(f"| {r.name} | {r.outside:.3f} | {_fmt(r.stripes)} | {gray} | {mouth} | "
                    f"{_fmt(r.background_change, 1)} | {r.holes:.4f} | {_fmt(r.smear, 1)} | "
                    f"{'ok' if r.passed else 'FAIL'} |")
    faces = [r for r in reports if r.face_found]
    unreadable = [r for r in reports if r.error is not None]
    rows.append("")
    rows.append(f"{sum(r.passed for r in faces)} of {len(faces)} photos with a face pass"
                f" ({len(reports) - len(faces) - len(unreadable)} without a face"
                + (f", {len(unreadable)} unreadable)" if unreadable else ")"))
    rows += [f"  {r.name}: {f}" for r in faces for f in r.failures]
    rows += [f"  {r.name}: {r.error}" for r in unreadable]
    return "\n".join(rows)

"""The ``portrait`` renderer: a still portrait + ``head`` motion -> frames.

How motion is interpreted (all relative to the source's own tracked face, so a zero
motion reproduces the source exactly):

* ``head_rotation`` R: the head turns by R in the camera frame about its pivot
  (``R_out = R @ R_source``); identity = the source's own orientation.
* ``head_translation`` (x right, y up) in the source face's inter-ocular distances:
  on-screen shift of the head; z is ignored (use ``head_scale``).
* ``head_scale``: size relative to the source face.
* ``arkit`` w: with ``expression="absolute"`` (default) the mouth's weights are what the
  face should show: the photo's own mouth expression is undone (landmarks move by
  ``B @ (w - u)``, ``u`` = :func:`openinfp.head.expression.undone_weights`), and parted
  lips in the photo take the opening the weights give, so all zeros closes a screaming
  photo's mouth; brows, gaze and the face's shape stay the photo's own. With
  ``expression="relative"`` the weights are added on top of the photo's expression
  (``B @ w``).

The face landmarks are moved by this 3D model and projected; a ring of points around
the face (hair, ears) follows the head rigidly, fading to still below the chin (neck)
and at the canvas border; fixed points on the torso keep the shoulders rigid;
:mod:`openinfp.head.warp` turns those displacements into one dense remap per frame, and
the warped person is laid over the still background (:mod:`openinfp.head.background`).
The canvas is a head crop inside the photo (:mod:`openinfp.head.framing`). The mouth interior is painted where the
lips open wider than in the source, and a blink's closing lid is painted over the eye
(:mod:`openinfp.head.eyelids`) rather than warped down.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch

from openinfp.core.arkit import arkit_index
from openinfp.core.errors import InputError
from openinfp.core.interfaces import RenderSource
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import rot6d_to_matrix
from openinfp.head.background import (
    StillBackground,
    composite_still,
    person_mask,
    prepare_still_background,
    torso_points,
    with_face,
)
from openinfp.head.basis import head_basis
from openinfp.head.closed_lips import lip_colour, redraw_closed_lips, redraw_strength
from openinfp.head.compositing import (
    MouthPalette,
    SourceTeeth,
    hide_teeth,
    mouth_palette,
    opening_strength,
    paint_mouth_interior,
    prepare_source_teeth,
)
from openinfp.head.config import HeadConfig
from openinfp.head.expression import follow_jaw, lips_parted, middle_gap, set_lip_gap, undone_weights
from openinfp.head.extension import extend_canvas
from openinfp.head.eyelids import LidSkin, paint_closing_lids, prepare_lid_skin
from openinfp.head.framing import Crop, crop_to_canvas, face_height, head_crop
from openinfp.head.image_io import load_portrait
from openinfp.head.landmarks import (
    CHIN,
    FACE_OVAL,
    LEFT_EYE_LOWER,
    LEFT_EYE_UPPER,
    LEFT_IRIS,
    LIPS_INNER,
    RIGHT_EYE_LOWER,
    RIGHT_EYE_UPPER,
    RIGHT_IRIS,
    polygon_area,
)
from openinfp.head.motion_space import HEAD_SPACE_NAME, head_motion_space
from openinfp.head.pose_limit import TurnLimits, limit_turn
from openinfp.head.renderer_config import PortraitRendererConfig
from openinfp.head.rings import Rings, build_rings, ring_targets
from openinfp.head.silhouette import hidden_landmarks, hidden_outline_on_silhouette
from openinfp.head.tracker import HeadTracker, TrackedFace
from openinfp.head.turn_limits import measure_turn_limits
from openinfp.head.warp import ControlWarp, border_points, forward_triangle_warp
from openinfp.head.warp_quality import carried, smear, tear


@dataclass
class _Source:
    """The source prepared on the output canvas."""

    image: np.ndarray          # [H, W, 3] uint8 canvas at output resolution
    face: TrackedFace          # tracked on the original portrait
    sigma: float               # output px per canonical unit
    center: np.ndarray         # [2] head pivot on the canvas (x, y down)
    points: np.ndarray         # [N, 2] control points on the canvas (478 landmarks, rings, torso, border)
    rings: Rings               # the ring points around the face
    hidden_oval: np.ndarray    # [K] outline landmarks the photo hides (kept on the silhouette)
    control: np.ndarray        # [C] indices of the points the warp uses (hidden landmarks left out)
    movable: np.ndarray        # [C] bool: control points the warp may move (all but torso and border)
    mouth_area: float          # source inner-lip area in the face's canonical frame (IOD^2)
    lid_skin: LidSkin          # the canvas with closed-lid skin in the eyes (painted blinks)
    teeth: SourceTeeth | None  # the portrait's own teeth, when its lips are parted
    palette: MouthPalette      # mouth-interior colours taken from the photo
    undone: np.ndarray         # [52] the photo's own expression weights the renderer removes
    parted: bool               # the photo's lips are parted (their gap follows the motion)
    background: StillBackground | None  # still background (None: the warp moves it)
    warp: ControlWarp
    extended: np.ndarray       # [H + 2 pad, W + 2 pad, C] what the remap reads (``extension.py``; C = 4 with alpha)
    pad: int                   # px of extension on each side of ``extended``
    turn_limits: TurnLimits | None = None  # how far this photo turns each way (None: max_turn everywhere)


class PortraitRenderer:
    """Landmark-driven mesh warp of a portrait (see the module docstring).

    Implements :class:`openinfp.core.interfaces.Renderer`.
    """

    motion_spaces = (HEAD_SPACE_NAME,)

    def __init__(self, config: PortraitRendererConfig | None = None) -> None:
        self.config = config or PortraitRendererConfig()
        if self.config.size < 16 or self.config.size % 2:
            raise InputError(f"portrait renderer: size must be an even number >= 16, got {self.config.size}")
        if self.config.grid_step < 1:
            raise InputError("portrait renderer: grid_step must be >= 1")
        self._src: _Source | None = None
        self.crop: Crop | None = None
        """The head crop in the portrait's pixels (``None`` for ``framing="full"``)."""
        self.photo_canvas: np.ndarray | None = None
        """The photo on the canvas as it is (``source_frame`` has its own expression undone)."""

    # ----- setup --------------------------------------------------------------------
    def setup(self, source: RenderSource) -> None:
        """Track the source face and precompute the warp (once per portrait)."""
        if source.portrait is None:
            raise InputError("the portrait renderer needs a source portrait (RenderSource.portrait)")
        image = load_portrait(source.portrait)
        with HeadTracker(HeadConfig(face_index=self.config.face_index)) as tracker:
            face = tracker.track_image(image, name=f"the {source.label} portrait")
        self.setup_tracked(image, face)

    def setup_tracked(self, image: np.ndarray, face: TrackedFace) -> None:
        """Like :meth:`setup` with an already tracked ``face`` of ``image`` (RGB uint8).

        With ``expression="absolute"`` a photo whose own mouth expression is undone (an
        open mouth, a pout) is first redrawn with that expression taken away, by a
        forward triangle warp (a backward map cannot squeeze parted lips shut: it has no
        inverse there); every frame is then rendered relative to that closed-mouth face,
        and an opening mouth shows the photo's own teeth.
        """
        canvas, origin, k = self._frame(image, face)
        self.photo_canvas = canvas
        lm = (face.landmarks[:, :2].astype(np.float64) - origin) * k
        sigma, center = face.scale * k, (face.center - origin) * k
        mask = person_mask(canvas) if self.config.still_background else None
        teeth = prepare_source_teeth(canvas, lm)
        undone = undone_weights(face.weights) if self.config.expression == "absolute" else np.zeros(52)
        parted = self.config.expression == "absolute" and lips_parted(face.shape)
        self._build(canvas, lm, face, sigma, center, mask, teeth, undone, parted)
        if undone.max() < MIN_UNDONE and not parted:
            self._measure_turn_limits()
            return
        src = self._require()
        tg = self._targets(head_motion_space().neutral())
        pts = src.points[src.control]
        closed = forward_triangle_warp(canvas, pts, pts + self._displacements(src, tg)[src.control],
                                       src.warp.triangles)
        if parted:
            closed = hide_teeth(closed, tg.warp_landmarks)
            strength = redraw_strength(middle_gap(face.shape))
            if strength > 0.0:
                closed = redraw_closed_lips(closed, tg.warp_landmarks, lip_colour(canvas, lm), sigma, strength)
        neutral_face = replace(face, shape=tg.canonical, weights=np.clip(face.weights - undone, 0.0, 1.0))
        self._build(closed, tg.warp_landmarks, neutral_face, sigma, center, mask, teeth, np.zeros(52), False)
        self._measure_turn_limits()

    def _measure_turn_limits(self) -> None:
        """This photo's turn and roll limits (:func:`openinfp.head.turn_limits.measure_turn_limits`:
        the largest turn each way whose warp neither smears nor tears)."""
        src = self._require()
        if self.config.max_turn <= 0:
            return
        src.turn_limits = measure_turn_limits(
            src.warp, src.points[list(FACE_OVAL)], _person_mask(src), src.background is not None,
            self.config.max_turn,
            lambda motion: self._warp_displacements(src, self._targets(motion, limited=False)))

    def _warp_displacements(self, src: _Source, tg: _Targets) -> tuple[np.ndarray, np.ndarray]:
        """The warp's control-point displacements ``[K, 2]`` for targets ``tg`` (unfolded when
        configured) and the target face outline ``[len(FACE_OVAL), 2]``."""
        disp = self._displacements(src, tg)[src.control]
        if self.config.unfold:
            disp = src.warp.unfold(disp, src.movable)
        return disp, tg.warp_landmarks[list(FACE_OVAL)]

    def smear(self, motion: torch.Tensor, limited: bool = True) -> float:
        """How much of the person near the face one motion ``[62]`` smears, per mille of the
        face (:func:`openinfp.head.warp_quality.smear`); ``limited=False``: with the turn
        drawn as given, past this photo's turn limit."""
        src = self._require()
        tg = self._targets(motion, limited=limited)
        xy = self._map(src, tg)
        return smear(xy, carried(_person_mask(src), xy), tg.warp_landmarks[list(FACE_OVAL)], self.config.grid_step)

    def tear(self, motion: torch.Tensor, limited: bool = True) -> float:
        """How much of the photo's person one motion ``[62]`` tears open under the jaw, per
        mille of the face (:func:`openinfp.head.warp_quality.tear`, on the full frame);
        ``limited=False``: with the turn drawn as given. 0.0 without a still background."""
        src = self._require()
        if src.background is None:
            return 0.0
        tg = self._targets(motion, limited=limited)
        mask = src.background.mask
        return tear(carried(mask, self._map(src, tg)), mask, tg.warp_landmarks[list(FACE_OVAL)])

    def _build(self, canvas: np.ndarray, lm: np.ndarray, face: TrackedFace, sigma: float, center: np.ndarray,
               mask: np.ndarray | None, teeth: SourceTeeth | None, undone: np.ndarray, parted: bool) -> None:
        """Control points, warp and per-portrait paint sources for ``canvas`` with the
        face's landmarks ``lm`` ``[478, 2]`` on it."""
        h, w = canvas.shape[:2]
        # Landmarks the photo hides behind the turned face are left out of the warp, and
        # hidden outline points ride on the silhouette (see silhouette.py).
        hidden = hidden_landmarks(face.rotation)
        is_oval = np.isin(np.arange(len(lm)), FACE_OVAL)
        hidden_oval = np.flatnonzero(hidden & is_oval)
        tracked, lm = lm, hidden_outline_on_silhouette(lm, hidden_oval)
        rings = build_rings(lm, face.shape, face.rotation, sigma, center, h, w, hidden)
        border = border_points(h, w, spacing=max(h, w) / 8)
        moving = np.concatenate([lm, rings.points])
        background, torso = None, np.zeros((0, 2))
        if mask is not None:
            person = with_face(mask, tracked, mesh=bool(hidden.any()), image=canvas)
            background = prepare_still_background(canvas, person)
            face_px = face_height(lm)
            torso = torso_points(mask, lm[CHIN, 1] + TORSO_BELOW_CHIN * face_px, TORSO_SPACING * face_px, moving)
        points = np.concatenate([moving, torso, border])
        control = np.flatnonzero(np.concatenate([~(hidden & ~is_oval), np.ones(len(points) - len(lm), bool)]))
        extended, pad = extend_canvas(canvas, None if background is None else background.alpha)
        self._src = _Source(
            image=canvas, face=face, sigma=sigma, center=center, points=points, rings=rings,
            hidden_oval=hidden_oval, control=control, movable=control < len(moving),
            mouth_area=polygon_area(face.shape[list(LIPS_INNER), :2]), lid_skin=prepare_lid_skin(canvas, lm),
            teeth=teeth, palette=mouth_palette(canvas, lm), undone=undone, parted=parted, background=background,
            warp=ControlWarp(points[control], h, w, step=self.config.grid_step), extended=extended, pad=pad,
        )

    def _frame(self, image: np.ndarray, face: TrackedFace) -> tuple[np.ndarray, np.ndarray, float]:
        """The canvas at output resolution, its top-left in source pixels and the scale."""
        h, w = image.shape[:2]
        if self.config.framing == "full":
            ew, eh = w - w % 2, h - h % 2
            self.crop = None
            return np.ascontiguousarray(image[:eh, :ew]), np.zeros(2), 1.0
        crop = head_crop(face.landmarks, w, h, self.config.crop_scale)
        self.crop = crop
        return crop_to_canvas(image, crop, self.config.size), crop.origin, self.config.size / crop.side

    # ----- rendering ----------------------------------------------------------------
    @property
    def source_frame(self) -> np.ndarray:
        """The source as it appears on the output canvas (what zero motion renders; with
        ``expression="absolute"`` the photo's own mouth expression is already undone)."""
        return self._require().image

    @property
    def turn_limits(self) -> TurnLimits | None:
        """This photo's turn limit per direction, measured at setup (``None`` with
        ``max_turn=0``: no limit)."""
        return self._require().turn_limits

    def _require(self) -> _Source:
        if self._src is None:
            raise RuntimeError("PortraitRenderer.setup() must be called before render()")
        return self._src

    def render(self, motion: MotionSequence) -> Iterator[np.ndarray]:
        """Yield one ``[H, W, 3]`` uint8 RGB frame per motion frame."""
        self._require()
        space = head_motion_space()
        if motion.space.name != HEAD_SPACE_NAME or motion.space.names != space.names:
            raise InputError(f"the portrait renderer draws the {HEAD_SPACE_NAME!r} motion space, "
                             f"got {motion.space.name!r}")
        for row in motion.motion:
            yield self.render_frame(row)

    def target_landmarks(self, motion: torch.Tensor) -> np.ndarray:
        """Where the 478 landmarks land on the canvas for one motion ``[62]``: ``[478, 2]``
        (with the lids where a blink puts them, though the lids are painted, not warped)."""
        return self._targets(motion).landmarks

    def _targets(self, motion: torch.Tensor, limited: bool = True) -> _Targets:
        """Where things go for one motion ``[62]``; ``limited=False``: the turn drawn as
        given (measuring the turn limit)."""
        src = self._require()
        space = head_motion_space()
        m = motion.detach().to(torch.float32).cpu()
        rot_m = rot6d_to_matrix(space.get(m, "head_rotation")).numpy()
        if limited and self.config.max_turn > 0:
            rot_m = (src.turn_limits.limit(rot_m) if src.turn_limits is not None
                     else limit_turn(rot_m, self.config.max_turn))
        trans = space.get(m, "head_translation").numpy().astype(np.float64)
        scale = float(space.get(m, "head_scale")[0])
        weights = np.clip(space.get(m, "arkit").numpy().astype(np.float64), 0.0, 1.0)
        absolute = self.config.expression == "absolute"
        if absolute:
            weights = weights - src.undone
        rot = rot_m @ src.face.rotation
        sigma = src.sigma * scale
        center = src.center + src.sigma * np.array([trans[0], -trans[1]])

        def project(p: np.ndarray) -> np.ndarray:
            cam = p @ rot.T
            return np.stack([sigma * cam[:, 0] + center[0], -sigma * cam[:, 1] + center[1]], 1)

        basis = head_basis()
        # The closing part of a blink is painted (see eyelids.py), not warped: warping
        # the lid down drags brows and glasses frames into the eye.
        closing = np.clip(weights[list(_BLINKS)], 0.0, 1.0) if self.config.eyelids else np.zeros(2)
        warp_weights = weights.copy()
        warp_weights[list(_BLINKS)] -= closing
        rest = project(src.face.shape)
        canonical = src.face.shape + basis.offsets(warp_weights)
        if absolute and src.parted:
            canonical = set_lip_gap(canonical, basis.shape(weights + src.undone), basis.neutral)
            canonical = follow_jaw(src.face.shape, canonical)
        warp_lm = project(canonical)
        mouth = opening_strength(polygon_area(canonical[list(LIPS_INNER), :2]), src.mouth_area)
        # Irises ride with the lids (no lid sweeps across a still iris) plus gaze.
        expression = warp_lm - rest  # the non-rigid part of each landmark's motion
        for iris, upper, lower in ((RIGHT_IRIS, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER),
                                   (LEFT_IRIS, LEFT_EYE_UPPER, LEFT_EYE_LOWER)):
            warp_lm[list(iris)] += expression[list(upper) + list(lower)].mean(0)
        lm = warp_lm
        if closing.any():
            lm = warp_lm + project(np.tensordot(closing, basis.basis[list(_BLINKS)], axes=1)) - center
        return _Targets(lm, warp_lm, project(src.rings.canon), expression, closing, mouth, canonical)

    @staticmethod
    def _displacements(src: _Source, tg: _Targets) -> np.ndarray:
        """Control-point displacements ``[N, 2]`` for one frame's targets (fixed points: 0)."""
        n_lm = tg.warp_landmarks.shape[0]
        n_ring = tg.ring.shape[0]
        outline = hidden_outline_on_silhouette(tg.warp_landmarks, src.hidden_oval)
        disp = np.zeros_like(src.points)
        disp[:n_lm] = outline - src.points[:n_lm]
        disp[n_lm:n_lm + n_ring] = ring_targets(src.rings, tg.ring, tg.expression, outline) - src.rings.points
        return disp

    def _map(self, src: _Source, tg: _Targets) -> np.ndarray:
        """The frame's backward map ``[H, W, 2]`` float32 (x, y on the canvas)."""
        return src.warp.backward_map_xy(self._warp_displacements(src, tg)[0])

    def source_positions(self, motion: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Where each output pixel of one motion ``[62]`` samples the canvas: ``(x, y)``, each
        ``[H, W]`` float32 (outside ``[0, W-1] x [0, H-1]``: mirrored at the edge)."""
        src = self._require()
        xy = self._map(src, self._targets(motion))
        return xy[..., 0], xy[..., 1]

    def person_alpha(self, motion: torch.Tensor) -> np.ndarray:
        """Where the person's pixels land for one motion ``[62]``: the warped person mask
        ``[H, W]`` float32 in [0, 1] (the still background shows where it is below 1);
        without a still background the whole canvas moves (all ones)."""
        src = self._require()
        if src.background is None:
            return np.ones(src.image.shape[:2], np.float32)
        return carried(src.background.mask, self._map(src, self._targets(motion)))

    def render_frame(self, motion: torch.Tensor) -> np.ndarray:
        """Render one motion vector ``[62]`` -> ``[H, W, 3]`` uint8 RGB."""
        src = self._require()
        tg = self._targets(motion)
        xy = self._map(src, tg)
        # Past the canvas edge: mirrored, fading into a blur (extension.py; no stripes, no
        # second ear).
        warped = cv2.remap(src.extended, xy + np.float32(src.pad), None, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        frame = warped if src.background is None else composite_still(warped, src.image, src.background)
        if tg.closing.any():
            paint_closing_lids(frame, xy, tg.warp_landmarks, tg.landmarks, tg.closing, src.lid_skin)
        if self.config.mouth_interior:
            paint_mouth_interior(frame, tg.landmarks, tg.mouth_strength, src.teeth, src.palette)
        return frame


@dataclass
class _Targets:
    """Where things go on the canvas for one motion frame."""

    landmarks: np.ndarray       # [478, 2] full target (lids closed by the blink)
    warp_landmarks: np.ndarray  # [478, 2] what the warp moves the landmarks to (no blink closure)
    ring: np.ndarray            # [R, 2] rigidly moved ring points
    expression: np.ndarray      # [478, 2] non-rigid motion of the warped landmarks
    closing: np.ndarray         # [2] blink weight painted per eye (subject's right, left)
    mouth_strength: float       # 0..1 blend of the painted mouth interior
    canonical: np.ndarray       # [478, 3] the warped face in the canonical frame (no blink closure)


MIN_UNDONE = 0.05
"""The photo is redrawn without its own expression once some undone weight reaches this."""
TORSO_BELOW_CHIN = 0.6
"""Fixed torso control points start this many face heights below the chin (the warp
fades out over the neck above them)."""
TORSO_SPACING = 0.35
"""Spacing of the torso control points, in face heights."""
_BLINKS = (arkit_index("eyeBlinkRight"), arkit_index("eyeBlinkLeft"))
"""Blink weights in the order of :data:`openinfp.head.eyelids.EYES`."""


def _person_mask(src: _Source) -> np.ndarray:
    """``[H, W]`` float32 person alpha on the canvas (all ones without a still background:
    then the warp moves everything)."""
    return src.background.mask if src.background is not None else np.ones(src.image.shape[:2], np.float32)

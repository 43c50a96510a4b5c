"""Head tracker: image or video -> head pose + ARKit-52 weights (the ``head`` space).

MediaPipe's face mesh (``mediapipe==0.10.21``, weights inside the wheel) gives 478
landmarks; :mod:`openinfp.head.fitting` turns them into pose and blendshape weights.

Coordinates of :attr:`TrackedFace.landmarks`: x, y in pixels of the input image (y
down), z in pixels away from the camera (MediaPipe's depth rescaled to true depth).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Optional

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import matrix_to_rot6d
from openinfp.head.basis import head_basis
from openinfp.head.config import HeadConfig
from openinfp.head.fitting import PoseFit, fit_pose_and_expression
from openinfp.head.image_io import PortraitLike, load_portrait
from openinfp.head.landmarks import interocular_distance
from openinfp.head.motion_space import head_motion_space
from openinfp.head.smoothing import OneEuroFilter

MAX_FACES = 6
"""How many faces MediaPipe looks for in a still image (the largest is picked by default)."""

SMALL_FACE_CROP = 3.0
"""Side of the square crop the face mesh reads around a small face, in face-box widths."""


@dataclass
class TrackedFace:
    """One tracked face.

    Attributes:
        landmarks: ``[478, 3]`` float32: x, y pixels (y down), z pixels away from camera.
        motion: ``[62]`` torch float32 in the ``head`` space: rotation relative to
            facing the camera, translation 0 and scale 1 (a still image is its own
            neutral position), ARKit weights fitted to the landmarks.
        bbox: ``(x0, y0, x1, y1)`` pixel box of the landmarks.
        rotation: ``[3, 3]`` head rotation, camera frame (x right, y up, z to viewer).
        scale: pixels per canonical unit (the face's pupil-to-pupil distance in px).
        center: ``[2]`` image position (x, y down) of the head's rotation pivot.
        weights: ``[52]`` ARKit weights (same as in ``motion``).
        shape: ``[478, 3]`` the face in the canonical frame (inter-ocular units).
        image_size: ``(H, W)`` of the tracked image.
        fit_rms: pose-fit residual (inter-ocular units); large values mean a poor fit.
    """

    landmarks: np.ndarray
    motion: torch.Tensor
    bbox: tuple[int, int, int, int]
    rotation: np.ndarray
    scale: float
    center: np.ndarray
    weights: np.ndarray
    shape: np.ndarray
    image_size: tuple[int, int]
    fit_rms: float = 0.0

    @property
    def interocular_px(self) -> float:
        return interocular_distance(self.landmarks)


def motion_vector(rotation: np.ndarray, translation: np.ndarray, scale: float, weights: np.ndarray) -> torch.Tensor:
    """Assemble a ``[62]`` head-space vector from its parts (by slice name)."""
    space = head_motion_space()
    vec = space.neutral()
    vec = space.set(vec, "head_rotation", matrix_to_rot6d(torch.as_tensor(rotation, dtype=torch.float32)))
    vec = space.set(vec, "head_translation", torch.as_tensor(translation, dtype=torch.float32))
    vec = space.set(vec, "head_scale", torch.tensor([scale], dtype=torch.float32))
    return space.set(vec, "arkit", torch.as_tensor(weights, dtype=torch.float32))


def _mesh_to_pixels(face_landmarks, width: int, height: int) -> np.ndarray:
    z_scale = head_basis().z_scale
    return np.array([[p.x * width, p.y * height, p.z * width * z_scale] for p in face_landmarks.landmark],
                    dtype=np.float64)


def _fit(landmarks_px: np.ndarray) -> PoseFit:
    camera = landmarks_px * np.array([1.0, -1.0, -1.0])  # -> x right, y up, z to viewer
    return fit_pose_and_expression(camera)


def _face_detector():
    """MediaPipe's full-range face detector (faces down to a few per cent of the frame)."""
    from openinfp.quiet import QuietMediaPipeGraph, quiet_environment

    quiet_environment()
    import mediapipe as mp

    return QuietMediaPipeGraph(lambda: mp.solutions.face_detection.FaceDetection(
        model_selection=1, min_detection_confidence=0.5))


def _tile_starts(length: int, side: int) -> np.ndarray:
    """Starts of tiles of ``side`` px covering ``length`` px, overlapping by about half."""
    return np.unique(np.linspace(0, length - side, max(1, int(np.ceil(2 * length / side)) - 1)).astype(int))


def _dedupe(faces: list[np.ndarray]) -> list[np.ndarray]:
    """Drop faces found twice (overlapping tiles): same nose tip within half a face width."""
    kept: list[np.ndarray] = []
    for face in faces:
        width = np.ptp(face[:, 0])
        if all(np.linalg.norm(face[1, :2] - k[1, :2]) > 0.5 * width for k in kept):
            kept.append(face)
    return kept


def _bbox(landmarks: np.ndarray) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(landmarks[:, :2].min(0)).astype(int)
    x1, y1 = np.ceil(landmarks[:, :2].max(0)).astype(int)
    return int(x0), int(y0), int(x1), int(y1)


class HeadTracker:
    """Tracks faces with MediaPipe and fits the ``head`` motion space.

    Args:
        config: :class:`HeadConfig` (face index, minimum face size, smoothing).

    MediaPipe graphs are created lazily and reused; call :meth:`close` (or use as a
    context manager) to free them early.
    """

    def __init__(self, config: Optional[HeadConfig] = None) -> None:
        self.config = config or HeadConfig()
        self._static = None
        self._full_range = None

    # ----- lifecycle ----------------------------------------------------------------
    def close(self) -> None:
        if self._static is not None:
            self._static.close()
            self._static = None
        if self._full_range is not None:
            self._full_range.close()
            self._full_range = None

    def __enter__(self) -> "HeadTracker":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _face_mesh(static: bool, max_faces: int):
        from openinfp.quiet import QuietMediaPipeGraph, quiet_environment

        quiet_environment()  # C++ log levels must be set before mediapipe loads
        import mediapipe as mp

        return QuietMediaPipeGraph(lambda: mp.solutions.face_mesh.FaceMesh(
            static_image_mode=static, max_num_faces=max_faces, refine_landmarks=True,
            min_detection_confidence=0.5, min_tracking_confidence=0.5))

    # ----- images -------------------------------------------------------------------
    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """All faces in an RGB image as ``[478, 3]`` pixel landmarks, largest first."""
        if self._static is None:
            self._static = self._face_mesh(True, max(MAX_FACES, self.config.face_index + 1))
        faces = self._detect_in(image, 0, 0)
        h, w = image.shape[:2]
        if not faces and max(h, w) > 1.3 * min(h, w):
            # MediaPipe's short-range detector sees the whole frame squeezed to a square, so a
            # face in a wide or tall picture can be too small for it: retry on square tiles.
            side = min(h, w)
            for start in _tile_starts(max(h, w), side):
                y0, x0 = (start, 0) if h > w else (0, start)
                faces += self._detect_in(image[y0:y0 + side, x0:x0 + side], x0, y0)
            faces = _dedupe(faces)
        if len(faces) <= self.config.face_index:
            faces = _dedupe(faces + self._detect_small(image))
        return sorted(faces, key=lambda lm: -np.prod(np.ptp(lm[:, :2], axis=0)))

    def _detect_small(self, image: np.ndarray) -> list[np.ndarray]:
        """Faces too small for the face mesh's own short-range detector (a full-length or group
        photo: a face under about a fifth of the frame): MediaPipe's full-range face detector
        finds their boxes, and the mesh runs on a square crop of SMALL_FACE_CROP box widths
        around each, where the face is large enough."""
        if self._full_range is None:
            self._full_range = _face_detector()
        h, w = image.shape[:2]
        boxes = self._face_boxes(image, 0, 0)
        side = min(h, w) // 2
        if not boxes and side >= 128:
            # the full-range detector still needs a face of about a tenth of what it sees:
            # look again at half-size tiles overlapping by half
            for ty in _tile_starts(h, side):
                for tx in _tile_starts(w, side):
                    boxes += self._face_boxes(image[ty:ty + side, tx:tx + side], tx, ty)
        found = []
        for cx, cy, size in boxes:
            half = 0.5 * SMALL_FACE_CROP * size
            x0, y0 = max(0, int(cx - half)), max(0, int(cy - half))
            x1, y1 = min(w, int(cx + half)), min(h, int(cy + half))
            if x1 - x0 >= 32 and y1 - y0 >= 32:
                found += self._detect_in(image[y0:y1, x0:x1], x0, y0)
        return found

    def _face_boxes(self, image: np.ndarray, x0: int, y0: int) -> list[tuple[float, float, float]]:
        """Full-range detections as ``(centre x, centre y, box side)`` in the parent's pixels."""
        h, w = image.shape[:2]
        out = []
        for det in self._full_range.process(np.ascontiguousarray(image)).detections or []:
            box = det.location_data.relative_bounding_box
            out.append((x0 + (box.xmin + box.width / 2) * w, y0 + (box.ymin + box.height / 2) * h,
                        max(box.width * w, box.height * h)))
        return out

    def _detect_in(self, image: np.ndarray, x0: int, y0: int) -> list[np.ndarray]:
        h, w = image.shape[:2]
        result = self._static.process(np.ascontiguousarray(image))
        return [_mesh_to_pixels(f, w, h) + np.array([x0, y0, 0.0]) for f in (result.multi_face_landmarks or [])]

    def track_image(self, image: PortraitLike, name: Optional[str] = None) -> TrackedFace:
        """Track the chosen face of one image (path or array).

        Raises:
            InputError: no face, fewer faces than ``face_index + 1``, or a face smaller
                than ``min_face_px``.
        """
        what = name or (str(image) if not isinstance(image, np.ndarray) else "image")
        rgb = load_portrait(image)
        faces = self.detect(rgb)
        idx = self.config.face_index
        if not faces:
            raise InputError(f"no face found in {what}; the face must be clearly visible, roughly frontal, and at "
                             f"least {self.config.min_face_px} px wide")
        if idx >= len(faces):
            raise InputError(f"{what}: face index {idx} requested but only {len(faces)} face(s) found "
                             f"(0 = largest)")
        return self._track_landmarks(faces[idx], rgb.shape[:2], what)

    def _track_landmarks(self, landmarks: np.ndarray, image_size: tuple[int, int], what: str) -> TrackedFace:
        size = 2.5 * interocular_distance(landmarks)
        if size < self.config.min_face_px:
            raise InputError(f"the face in {what} is too small to track: {size:.0f} px wide (2.5 x pupil "
                             f"distance); the minimum is {self.config.min_face_px} px, use a larger or closer photo")
        fit = _fit(landmarks)
        motion = motion_vector(fit.rotation, np.zeros(3), 1.0, fit.weights)
        return TrackedFace(
            landmarks=landmarks.astype(np.float32), motion=motion, bbox=_bbox(landmarks),
            rotation=fit.rotation, scale=fit.scale, center=np.array([fit.translation[0], -fit.translation[1]]),
            weights=fit.weights, shape=fit.shape, image_size=tuple(image_size), fit_rms=fit.rms,
        )

    # ----- videos -------------------------------------------------------------------
    def track_frames(self, frames: Iterator[np.ndarray], what: str = "video") -> Iterator[Optional[TrackedFace]]:
        """Track a stream of RGB frames in MediaPipe's tracking mode.

        Yields one :class:`TrackedFace` per frame, or ``None`` where no face was found.
        Not smoothed (see :meth:`track_video`).
        """
        mesh = self._face_mesh(False, max(1, self.config.face_index + 1))
        try:
            for frame in frames:
                h, w = frame.shape[:2]
                result = mesh.process(np.ascontiguousarray(frame))
                faces = [_mesh_to_pixels(f, w, h) for f in (result.multi_face_landmarks or [])]
                faces.sort(key=lambda lm: -np.prod(np.ptp(lm[:, :2], axis=0)))
                if len(faces) <= self.config.face_index:
                    yield None
                    continue
                try:
                    yield self._track_landmarks(faces[self.config.face_index], (h, w), what)
                except InputError:  # too small in this frame: treat as missing
                    yield None
        finally:
            mesh.close()

    def track_video(self, path: str | os.PathLike, progress: bool = True) -> MotionSequence:
        """Track a video file into a :class:`MotionSequence` at the video's frame rate.

        Rotation is relative to facing the camera; translation (inter-ocular units of the
        first tracked frame, x right, y up) and scale are relative to the first frame
        with a face; ARKit weights are absolute. Frames without a face repeat the last
        tracked motion (annotation ``face_found`` marks them). Smoothed causally by a
        One Euro filter per slice (``HeadConfig.smoothing``), which follows fast lip and
        lid motion without lag.

        Raises:
            InputError: unreadable video, or no face in any frame.
        """
        from tqdm import tqdm

        from openinfp.core.video import probe_video, read_frames

        p = Path(path)
        info = probe_video(p, count_frames=False)  # the frame count only sizes the progress bar
        fps = info["fps"] or 25.0
        frames = tqdm(read_frames(p), total=info["frames"] or None, desc=f"tracking {p.name}", unit="frame",
                      disable=not progress, leave=False)
        return self.motion_from_faces(self.track_frames(frames, str(p)), fps, str(p))

    def motion_from_faces(self, faces: Iterable[Optional[TrackedFace]], fps: float, what: str = "video"
                          ) -> MotionSequence:
        """Per-frame tracked faces (``None`` = no face) -> the smoothed motion of :meth:`track_video`.

        Raises:
            InputError: no face in any frame.
        """
        space = head_motion_space()
        rows: list[Optional[np.ndarray]] = []
        found: list[bool] = []
        ref: Optional[TrackedFace] = None
        last: Optional[np.ndarray] = None
        smoother = self._smoother(fps)
        for face in faces:
            if face is None:
                found.append(False)
                rows.append(last)
                continue
            if ref is None:
                ref = face
            translation = np.array([(face.center[0] - ref.center[0]) / ref.scale,
                                    -(face.center[1] - ref.center[1]) / ref.scale, 0.0])
            vec = motion_vector(face.rotation, translation, face.scale / ref.scale, face.weights).numpy()
            if smoother is not None:
                vec = smoother(vec)
            last = vec
            rows.append(vec)
            found.append(True)
        if ref is None:
            raise InputError(f"no face found in any frame of {what}; faces must be visible and at least "
                             f"{self.config.min_face_px} px wide")
        first = next(r for r in rows if r is not None)
        motion = np.stack([first if r is None else r for r in rows]).astype(np.float32)
        motion = space.clamp(torch.from_numpy(motion))
        return MotionSequence(motion, space, fps, annotations={"face_found": np.asarray(found)})

    def _smoother(self, fps: float) -> Optional[OneEuroFilter]:
        """One Euro filter over the 62-vector: pose smoothed more, face less."""
        level = self.config.smoothing
        if level <= 0:
            return None
        space = head_motion_space()
        min_cutoff = np.zeros(space.dim)
        beta = np.zeros(space.dim)
        d_cutoff = np.zeros(space.dim)
        # (min cut-off Hz, beta, speed cut-off Hz), tuned with `openinfp check-video` on a
        # real talking video and on a still face with sensor noise (docs/HEAD.md). The speed
        # estimate reacts within a frame (3 Hz): at 1 Hz the jaw trailed the lips by half a
        # frame and the head lagged a moving talker, for hardly less jitter on a still face.
        for name, (cut, b, d_cut) in {"head_rotation": (1.0, 5.0, 3.0), "head_translation": (1.0, 5.0, 3.0),
                                      "head_scale": (1.0, 5.0, 3.0), "arkit": (3.0, 8.0, 3.0)}.items():
            min_cutoff[space.index(name)] = cut / level
            beta[space.index(name)] = b / level
            d_cutoff[space.index(name)] = d_cut
        return OneEuroFilter(fps, min_cutoff, beta, d_cutoff)

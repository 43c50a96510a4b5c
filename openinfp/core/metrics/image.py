"""Image-level metrics: PSNR, SSIM, and identity/geometry consistency by re-tracking.

* PSNR: ``10 log10(MAX^2 / MSE)`` over all pixels and channels.
* SSIM: Wang et al., IEEE TIP 2004: Gaussian window (sigma 1.5, 11x11), K1 = 0.01,
  K2 = 0.03, weighted (not sample-corrected) local statistics, computed per colour
  channel and averaged, borders of half a window excluded. Equals
  ``skimage.metrics.structural_similarity(..., gaussian_weights=True,
  use_sample_covariance=False, channel_axis=-1)``.
* Identity/geometry consistency: landmarks of each rendered frame (MediaPipe face mesh,
  the same model as the head tracker) are aligned to the source portrait's landmarks by
  a 2-D similarity transform on landmarks that expressions do not move (forehead, nose,
  eye corners, cheek sides); the mean residual distance, divided by the source's
  inter-ocular distance (outer eye corners), measures how far the rendered face's
  shape drifts from the source face. Out-of-plane head rotation also raises it (a 2-D
  similarity cannot undo it), so compare systems on the same motion, or on frames
  with small yaw/pitch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np

from openinfp.core.errors import DependencyError, InputError
from openinfp.core.metrics.features import ArrayLike, as_array

# MediaPipe face-mesh landmark ids (canonical 468/478-point topology).
RIGHT_EYE_OUTER = 33
"""Outer corner of the subject's right eye (left in the image)."""
LEFT_EYE_OUTER = 263
"""Outer corner of the subject's left eye."""
RIGID_LANDMARKS: tuple[int, ...] = (
    10, 151, 9,                  # forehead, mid-line, down to between the brows
    168, 6, 197, 195, 5, 4, 1,   # nose bridge to nose tip
    33, 133, 362, 263,           # eye corners (outer right, inner right, inner left, outer left)
    127, 234, 93, 356, 454, 323,  # face sides at temple, ear and cheek height
)
"""Landmarks that expressions barely move: the support of the identity alignment."""


def _image(x: ArrayLike, what: str) -> np.ndarray:
    arr = as_array(x, what)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise InputError(f"{what}: expected an [H, W] or [H, W, C] image, got shape {arr.shape}")
    return arr


def psnr(a: ArrayLike, b: ArrayLike, data_range: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB; ``inf`` for identical images."""
    x, y = _image(a, "PSNR image"), _image(b, "PSNR reference")
    if x.shape != y.shape:
        raise InputError(f"PSNR: image shapes differ ({x.shape} vs {y.shape})")
    mse = float(((x - y) ** 2).mean())
    if mse == 0.0:
        return float("inf")
    return float(10.0 * np.log10(data_range ** 2 / mse))


def ssim(a: ArrayLike, b: ArrayLike, data_range: float = 255.0, sigma: float = 1.5) -> float:
    """Mean structural similarity (Wang et al. 2004), channels averaged. 1 = identical."""
    from scipy.ndimage import gaussian_filter

    x, y = _image(a, "SSIM image"), _image(b, "SSIM reference")
    if x.shape != y.shape:
        raise InputError(f"SSIM: image shapes differ ({x.shape} vs {y.shape})")
    truncate = 3.5
    half = int(truncate * sigma + 0.5)  # window radius: 11x11 for sigma 1.5
    if min(x.shape[:2]) < 2 * half + 1:
        raise InputError(f"SSIM: images must be at least {2 * half + 1} pixels on each side")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    scores = []
    for ch in range(x.shape[2]):
        xa, ya = x[:, :, ch], y[:, :, ch]

        def blur(img: np.ndarray) -> np.ndarray:
            return gaussian_filter(img, sigma=sigma, truncate=truncate)

        mx, my = blur(xa), blur(ya)
        vx, vy, cxy = blur(xa * xa) - mx * mx, blur(ya * ya) - my * my, blur(xa * ya) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        scores.append(s[half:-half, half:-half].mean())
    return float(np.mean(scores))


def similarity_align(points: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``points`` ``[N, 2]`` mapped by the least-squares similarity transform onto ``target``.

    Closed form (Umeyama 1991): centre both sets, take the SVD of their cross-covariance
    for the rotation (reflections excluded), then the scale and translation.
    """
    mp, mt = points.mean(0), target.mean(0)
    p, t = points - mp, target - mt
    u, sv, vt = np.linalg.svd(t.T @ p)
    d = np.sign(np.linalg.det(u @ vt)) or 1.0
    fix = np.diag([1.0, d])
    rot = u @ fix @ vt
    var = (p ** 2).sum()
    scale = float((sv * np.diag(fix)).sum() / var) if var > 0 else 1.0
    return scale * p @ rot.T + mt


def interocular(landmarks: np.ndarray) -> float:
    """Distance between the outer eye corners of ``[478|468, 2]`` landmarks (pixels)."""
    return float(np.linalg.norm(landmarks[RIGHT_EYE_OUTER] - landmarks[LEFT_EYE_OUTER]))


def landmark_nme(landmarks: ArrayLike, reference: ArrayLike, indices: Optional[Sequence[int]] = None,
                 align: bool = True) -> float:
    """Mean landmark distance divided by the reference's inter-ocular distance.

    Args:
        landmarks, reference: ``[N, 2]`` pixel coordinates (MediaPipe topology).
        indices: landmarks to compare (default: all).
        align: first map ``landmarks`` onto ``reference`` by a similarity transform
            fitted on the same landmarks (removes in-plane pose and size).
    """
    lm, ref = as_array(landmarks, "landmarks"), as_array(reference, "reference landmarks")
    if lm.shape != ref.shape or lm.ndim != 2:
        raise InputError(f"landmark error: shapes {lm.shape} and {ref.shape} differ or are not [N, 2]")
    iod = interocular(ref)
    if iod <= 0:
        raise InputError("landmark error: the reference's eye corners coincide")
    sel = list(range(lm.shape[0])) if indices is None else list(indices)
    a, b = lm[sel], ref[sel]
    if align:
        a = similarity_align(a, b)
    return float(np.linalg.norm(a - b, axis=1).mean() / iod)


class FaceLandmarker:
    """MediaPipe face mesh (478 landmarks, shipped in the ``mediapipe`` wheel), lazily built.

    Args:
        video: tracking mode (landmarks of one frame seed the next), for frame sequences.
    """

    def __init__(self, video: bool = True) -> None:
        from openinfp.quiet import QuietMediaPipeGraph, quiet_environment

        quiet_environment()
        try:
            import mediapipe as mp
        except ImportError as exc:  # pragma: no cover - declared dependency
            raise DependencyError("re-tracking needs mediapipe==0.10.21") from exc
        self._mesh = QuietMediaPipeGraph(lambda: mp.solutions.face_mesh.FaceMesh(
            static_image_mode=not video, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5))

    def __call__(self, frame: np.ndarray) -> Optional[np.ndarray]:
        """``[478, 2]`` pixel coordinates of the face in an ``[H, W, 3]`` uint8 RGB frame, or None."""
        frame = np.asarray(frame)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise InputError(f"re-tracking needs [H, W, 3] uint8 RGB frames, got {frame.dtype} {frame.shape}")
        result = self._mesh.process(np.ascontiguousarray(frame))
        if not result.multi_face_landmarks:
            return None
        h, w = frame.shape[:2]
        pts = result.multi_face_landmarks[0].landmark
        return np.array([[p.x * w, p.y * h] for p in pts], dtype=np.float64)

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> "FaceLandmarker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class IdentityConsistency:
    """Result of :func:`identity_consistency`.

    Attributes:
        nme_mean, nme_median: rigid-landmark error over frames with a face, in
            inter-ocular distances (NaN when no frame had a face).
        detected: fraction of frames where a face was found (a renderer that breaks
            the face shows up here first).
        frames: number of frames scored.
    """

    nme_mean: float
    nme_median: float
    detected: float
    frames: int


def identity_consistency(frames: Iterable[np.ndarray], source: np.ndarray,
                         landmarker: Optional[FaceLandmarker] = None) -> IdentityConsistency:
    """Re-track rendered ``frames`` and compare their face shape with the ``source`` portrait.

    Raises:
        InputError: no face is found in the source portrait.
    """
    own = landmarker is None
    still = FaceLandmarker(video=False)
    try:
        ref = still(np.asarray(source))
    finally:
        still.close()
    if ref is None:
        raise InputError("identity consistency: no face found in the source portrait")
    tracker = landmarker or FaceLandmarker(video=True)
    errors, total = [], 0
    try:
        for frame in frames:
            total += 1
            lm = tracker(frame)
            if lm is not None:
                errors.append(landmark_nme(lm, ref, RIGID_LANDMARKS))
    finally:
        if own:
            tracker.close()
    if total == 0:
        raise InputError("identity consistency: no frames given")
    e = np.asarray(errors)
    return IdentityConsistency(float(e.mean()) if e.size else float("nan"),
                               float(np.median(e)) if e.size else float("nan"), e.size / total, total)

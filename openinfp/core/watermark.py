"""Invisible provenance watermark: key-seeded low-frequency spread spectrum in luma.

Embedding
    A key is hashed (SHAKE-256) into a ``G x G`` grid of standard-normal cell gains
    ``g`` (``G = GRID = 64``). The pattern at any frame size ``H x W`` is the smooth
    cubic (Keys) interpolation of that grid in *normalised* frame coordinates,
    ``P = U_H g U_W^T`` scaled to unit RMS, so the same pattern covers a 512x512
    portrait, a 1024x512 side-by-side or a body scene, and survives rescaling (a
    half-size copy holds the same pattern at half size). ``STRENGTH`` (RMS, in 8-bit
    levels) times ``P`` is added equally to R, G and B: luma changes, chroma does not.
    Cells span 8 px on a 512 px side, so the pattern's energy lies at periods of about
    16-64 px (8-32 px in a half-size copy): low-to-mid spatial frequencies, which H.264
    keeps at low bitrates. The pattern is the same in every frame, so static content
    is coded once and the mark rides along in the predicted frames; trimming or
    changing the frame rate does not affect it.

Detection
    Each frame's luma is area-resized to a ``4G x 4G`` analysis grid, high-passed
    (content below the pattern's band removed) and locally variance-normalised (smooth
    regions, where the mark dominates, weigh more than texture). The residuals are
    averaged over frames (moving content averages out, the fixed mark does not) and
    projected onto the cells (``U^T r U``). What is left of the content there is
    strongly coloured (most of its power sits at low cell frequencies, while the
    mark's is spread evenly), so the cell map is spectrally whitened: each 2D Fourier
    coefficient is divided by the local RMS of the spectrum around it. The whitened
    evidence ``v`` is correlated with the key's gains::

        score = <v, g> / ||v||

    For a video that does not carry this key's mark, ``v`` is computed from content
    alone (the whitening too), so it is independent of ``g``; ``g`` is i.i.d. standard
    normal, so ``score`` is *exactly* standard normal whatever the content is. A
    threshold of 4 therefore gives a false-positive probability of 3.2e-5 per video;
    ``docs/PROVENANCE.md`` checks this on real and noise videos.

Limits: the key is public (open source), so this marks outputs against accidental
loss of provenance (re-encoding, resizing, stripped metadata), not against someone who
deliberately subtracts the pattern. Crops, flips and rotations are not handled.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np

from openinfp.core.errors import InputError

DEFAULT_KEY = "openinfp/provenance/v1"
"""Key of the project's watermark (public: anyone can verify)."""

GRID = 64
"""Cells per frame side of the pattern (normalised coordinates, any aspect ratio)."""

ANALYSIS = 4 * GRID
"""Side of the square luma grid the detector works on."""

STRENGTH = 1.8
"""RMS of the added luma pattern, in 8-bit levels (PSNR about 43 dB)."""

WATERMARK_TAG = "openinfp-wm1"
"""Value of the ``watermark`` container tag of marked videos (scheme and version)."""

THRESHOLD = 4.0
"""Detection threshold on the score (standard normal for unmarked videos)."""

_HIGHPASS_SIGMA = 2.0  # analysis px (half a cell): removes content below the mark's band
_NORM_SIGMA = 2.0  # analysis px (half a cell): neighbourhood of the local variance estimate
_NORM_FLOOR = 2.0  # 8-bit levels: about the coding noise of a re-encode; flat regions count as this noisy
_WHITEN_RADIUS = 2  # cell-domain frequencies: the spectrum is averaged over (2r+1)^2 of them


def cell_gains(key: str = DEFAULT_KEY, grid: int = GRID) -> np.ndarray:
    """The key's ``[grid, grid]`` float64 i.i.d. standard-normal cell gains.

    Derived from SHAKE-256 of the key by the Box-Muller transform, so the pattern does
    not depend on the version of numpy or of any random generator.
    """
    return _cell_gains(str(key), int(grid)).copy()


@functools.lru_cache(maxsize=16)
def _cell_gains(key: str, grid: int) -> np.ndarray:
    n = grid * grid
    pairs = (n + 1) // 2
    raw = hashlib.shake_256(f"openinfp-watermark|{key}|{grid}".encode()).digest(8 * pairs)
    words = np.frombuffer(raw, dtype="<u4").astype(np.float64).reshape(pairs, 2)
    u1 = (words[:, 0] + 1.0) / 2.0**32  # (0, 1]: log is finite
    u2 = words[:, 1] / 2.0**32
    radius = np.sqrt(-2.0 * np.log(u1))
    normals = np.concatenate([radius * np.cos(2 * np.pi * u2), radius * np.sin(2 * np.pi * u2)])
    gains = normals[:n].reshape(grid, grid)
    gains.setflags(write=False)
    return gains


def _keys_cubic(x: np.ndarray) -> np.ndarray:
    # Keys' cubic convolution kernel (a = -0.5): smooth, but keeps more of the cells'
    # mid frequencies than a B-spline, where natural images have less energy.
    ax = np.abs(x)
    near = 1.5 * ax**3 - 2.5 * ax**2 + 1
    far = -0.5 * ax**3 + 2.5 * ax**2 - 4 * ax + 2
    return np.where(ax < 1, near, np.where(ax < 2, far, 0.0))


@functools.lru_cache(maxsize=32)
def interpolation_matrix(n: int, grid: int = GRID) -> np.ndarray:
    """``[n, grid]`` cubic interpolation weights from cell centres to ``n`` pixel centres.

    Pixel ``i`` sits at ``(i + 0.5) / n`` of the side, cell ``j`` at ``(j + 0.5) / grid``:
    the pattern depends on normalised coordinates only, not on the pixel count.
    """
    x = (np.arange(n) + 0.5) / n * grid - 0.5
    m = _keys_cubic(x[:, None] - np.arange(grid)[None, :])
    m.setflags(write=False)
    return m


@functools.lru_cache(maxsize=8)
def _pattern(height: int, width: int, key: str, grid: int) -> np.ndarray:
    p = interpolation_matrix(height, grid) @ _cell_gains(key, grid) @ interpolation_matrix(width, grid).T
    p = (p / np.sqrt(np.mean(p**2))).astype(np.float32)
    p.setflags(write=False)
    return p


def watermark_pattern(height: int, width: int, key: str = DEFAULT_KEY, grid: int = GRID) -> np.ndarray:
    """The key's pattern at frame size ``height x width``: float32 ``[H, W]``, unit RMS."""
    if height < 2 or width < 2:
        raise InputError(f"cannot watermark a {width}x{height} frame; frames need at least 2x2 pixels")
    return _pattern(int(height), int(width), str(key), int(grid))


@functools.lru_cache(maxsize=8)
def _delta(height: int, width: int, key: str, strength: float) -> np.ndarray:
    d = np.rint(strength * _pattern(height, width, key, GRID)).astype(np.int16)
    d.setflags(write=False)
    return d


def embed_watermark(frame: np.ndarray, key: str = DEFAULT_KEY, strength: float = STRENGTH) -> np.ndarray:
    """Return a watermarked copy of one RGB frame.

    Args:
        frame: ``[H, W, 3]`` uint8 RGB.
        key: watermark key.
        strength: RMS of the luma change in 8-bit levels.

    Returns:
        ``[H, W, 3]`` uint8: ``frame + round(strength * P)`` on every channel, clipped.
    """
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InputError(f"watermark needs [H, W, 3] uint8 RGB frames, got {frame.dtype} {frame.shape}")
    if not (math.isfinite(strength) and strength >= 0):
        raise InputError(f"watermark strength must be a non-negative number, got {strength}")
    if frame.shape[0] < 2 or frame.shape[1] < 2:
        raise InputError(f"cannot watermark a {frame.shape[1]}x{frame.shape[0]} frame; need at least 2x2 pixels")
    delta = _delta(frame.shape[0], frame.shape[1], str(key), float(strength))
    out = frame.astype(np.int16)
    out += delta[:, :, None]
    return np.clip(out, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WatermarkResult:
    """Outcome of watermark detection.

    Attributes:
        score: correlation z-score; standard normal for videos without the mark.
        present: ``score >= threshold``.
        threshold: the decision threshold used.
        frames: number of frames analysed.
        false_alarm: probability that an unmarked video scores at least ``score``.
    """

    score: float
    present: bool
    threshold: float
    frames: int
    false_alarm: float


def frame_luma(frame: np.ndarray) -> np.ndarray:
    """``[H, W]`` float32 luma (BT.601) of an ``[H, W, 3]`` RGB frame, or a ``[H, W]``
    luma frame passed through."""
    frame = np.asarray(frame)
    if frame.ndim == 2:
        return frame.astype(np.float32)
    if frame.ndim == 3 and frame.shape[2] == 3:
        f = frame.astype(np.float32)
        return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    raise InputError(f"frames must be [H, W, 3] RGB or [H, W] luma, got shape {frame.shape}")


def frame_residual(luma: np.ndarray) -> np.ndarray:
    """The detector's per-frame evidence map: ``[ANALYSIS, ANALYSIS]`` float64.

    Area-resize to the analysis grid, subtract a wide Gaussian blur (content below the
    mark's band), divide by the local power of what is left (the locally optimal
    weighting for a Gaussian host of varying variance: texture counts less than smooth
    regions, where the mark stands out).
    """
    import cv2  # lazy: only detection and the evaluation need OpenCV

    luma = np.asarray(luma, dtype=np.float32)
    if luma.ndim != 2 or luma.shape[0] < 2 or luma.shape[1] < 2:
        raise InputError(f"cannot analyse a frame of shape {luma.shape}")
    small = cv2.resize(luma, (ANALYSIS, ANALYSIS), interpolation=cv2.INTER_AREA).astype(np.float64)
    high = small - cv2.GaussianBlur(small, (0, 0), _HIGHPASS_SIGMA, borderType=cv2.BORDER_REFLECT)
    local = cv2.GaussianBlur(high * high, (0, 0), _NORM_SIGMA, borderType=cv2.BORDER_REFLECT)
    return high / (local + _NORM_FLOOR**2)


def whiten_cells(cells: np.ndarray, radius: int = _WHITEN_RADIUS) -> np.ndarray:
    """Spectrally whiten a ``[G, G]`` cell map: ``[G, G]`` float64.

    Each 2D DFT coefficient is divided by the RMS of the coefficients in the
    ``(2 radius + 1)^2`` neighbourhood of its frequency (circularly). Content left in
    the cell map after high-passing still has most of its power at low cell
    frequencies; the mark's gains are white, so flattening the spectrum gives the
    frequencies where the content is weak their fair weight (on re-encoded test videos:
    minimum scores up from 3.3 to 7.7 for textured photos under a moving camera). The
    filter is computed from the map itself, never from a key, which keeps the score's
    null distribution exactly N(0, 1).
    """
    spectrum = np.fft.fft2(np.asarray(cells, dtype=np.float64))
    power = np.abs(spectrum) ** 2
    local = np.zeros_like(power)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            local += np.roll(power, (dy, dx), axis=(0, 1))
    local /= (2 * radius + 1) ** 2
    floor = 1e-12 * float(local.mean()) + 1e-300  # an all-zero map stays all zero
    return np.real(np.fft.ifft2(spectrum / np.sqrt(local + floor)))


class WatermarkDetector:
    """Accumulate frames of one video, then score them against a key.

    Frames may be any size (each is resized to the analysis grid); mixing sizes is
    allowed. Memory is constant: one ``[ANALYSIS, ANALYSIS]`` running sum.
    """

    def __init__(self, key: str = DEFAULT_KEY, threshold: float = THRESHOLD) -> None:
        self.key = key
        self.threshold = float(threshold)
        self._sum = np.zeros((ANALYSIS, ANALYSIS), np.float64)
        self.frames = 0

    def add(self, frame: np.ndarray) -> None:
        """Add one ``[H, W, 3]`` RGB or ``[H, W]`` luma frame."""
        self._sum += frame_residual(frame_luma(frame))
        self.frames += 1

    def cell_map(self) -> np.ndarray:
        """``[GRID, GRID]``: the mean residual projected onto the cells (before whitening)."""
        u = interpolation_matrix(ANALYSIS, GRID)
        return u.T @ (self._sum / max(self.frames, 1)) @ u

    def evidence(self) -> np.ndarray:
        """Per-cell evidence ``v`` (``[GRID, GRID]``): the whitened :meth:`cell_map`.
        Independent of the key, so one video can be scored against many."""
        return whiten_cells(self.cell_map())

    def result(self, key: Optional[str] = None) -> WatermarkResult:
        """Score the accumulated frames against ``key`` (default: the detector's)."""
        if self.frames == 0:
            raise InputError("no frames to analyse for a watermark")
        return score_evidence(self.evidence(), key or self.key, self.threshold, self.frames)


def score_evidence(evidence: np.ndarray, key: str = DEFAULT_KEY, threshold: float = THRESHOLD,
                   frames: int = 0) -> WatermarkResult:
    """Correlate per-cell evidence ``[GRID, GRID]`` with a key's gains."""
    from scipy.special import ndtr

    norm = float(np.linalg.norm(evidence))
    score = float(np.sum(evidence * _cell_gains(str(key), GRID)) / norm) if norm > 0 else 0.0
    return WatermarkResult(score=score, present=score >= threshold, threshold=float(threshold),
                           frames=int(frames), false_alarm=float(ndtr(-score)))


def detect_watermark(frames: Iterable[np.ndarray], key: str = DEFAULT_KEY,
                     threshold: float = THRESHOLD) -> WatermarkResult:
    """Detect the watermark in a sequence of ``[H, W, 3]`` RGB (or ``[H, W]`` luma) frames."""
    detector = WatermarkDetector(key, threshold)
    for frame in frames:
        detector.add(frame)
    return detector.result()

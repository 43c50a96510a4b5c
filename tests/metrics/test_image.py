"""PSNR, SSIM and identity consistency by re-tracking (real MediaPipe on a real photo)."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.core.metrics.image import (
    RIGID_LANDMARKS,
    FaceLandmarker,
    identity_consistency,
    interocular,
    landmark_nme,
    psnr,
    similarity_align,
    ssim,
)


def test_psnr_known_values():
    a = np.zeros((8, 8, 3), np.uint8)
    assert psnr(a, a) == float("inf")
    assert psnr(a, a + 10) == pytest.approx(10 * np.log10(255 ** 2 / 100))
    assert psnr(np.zeros((4, 4)), np.ones((4, 4)), data_range=1.0) == pytest.approx(0.0)
    with pytest.raises(InputError, match="shapes"):
        psnr(a, np.zeros((4, 4, 3)))


def test_ssim_identity_and_agreement_with_scikit_image(astronaut):
    from skimage.metrics import structural_similarity

    img = astronaut[100:228, 150:278]
    assert ssim(img, img) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noisy = np.clip(img + rng.normal(0, 20, img.shape), 0, 255).astype(np.uint8)
    ref = structural_similarity(img, noisy, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                data_range=255, channel_axis=-1)
    assert ssim(img, noisy) == pytest.approx(ref, abs=1e-6)
    assert ssim(img, noisy) < 0.9


def test_similarity_alignment_recovers_a_transform():
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(20, 2)) * 50
    c, s = np.cos(0.3), np.sin(0.3)
    moved = 1.7 * pts @ np.array([[c, -s], [s, c]]).T + np.array([12.0, -40.0])
    np.testing.assert_allclose(similarity_align(moved, pts), pts, atol=1e-9)


def test_landmark_nme_normalised_by_interocular():
    ref = np.zeros((478, 2))
    ref[33], ref[263] = (0.0, 0.0), (100.0, 0.0)
    assert interocular(ref) == 100.0
    shifted = ref + np.array([5.0, 0.0])
    assert landmark_nme(shifted, ref, align=False) == pytest.approx(0.05)
    assert landmark_nme(shifted, ref, align=True) == pytest.approx(0.0, abs=1e-12)


def _rotate(img, degrees):
    import cv2

    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def _narrow(img, factor):
    """The photo squeezed horizontally to ``factor`` of its width, centred on black."""
    import cv2

    h, w = img.shape[:2]
    out = np.zeros_like(img)
    face = cv2.resize(img, (int(w * factor), h))
    x = (w - face.shape[1]) // 2
    out[:, x:x + face.shape[1]] = face
    return out


def test_identity_consistency_on_a_real_portrait(astronaut):
    # Independent photos, not a video: track each one on its own.
    with FaceLandmarker(video=False) as still:
        same = identity_consistency([astronaut, _rotate(astronaut, 8), astronaut[::2, ::2].repeat(2, 0).repeat(2, 1)],
                                    astronaut, landmarker=still)
        narrow = identity_consistency([_narrow(astronaut, 0.75)], astronaut, landmarker=still)
    assert same.detected == 1.0 and same.frames == 3
    # In-plane rotation and resampling keep the face shape: about 1% of the eye distance.
    assert same.nme_mean < 0.015
    # A face squeezed to 75% width is a different geometry.
    assert narrow.detected == 1.0 and narrow.nme_mean > 0.03
    blank = identity_consistency([np.zeros_like(astronaut)], astronaut)
    assert blank.detected == 0.0 and np.isnan(blank.nme_mean)
    with pytest.raises(InputError, match="no face"):
        identity_consistency([astronaut], np.zeros_like(astronaut))


def test_rigid_landmarks_are_valid_mesh_ids(astronaut):
    with FaceLandmarker(video=False) as lm:
        pts = lm(astronaut)
    assert pts is not None and pts.shape == (478, 2)
    assert max(RIGID_LANDMARKS) < 468
    # The outer eye corners are on either side of the nose tip.
    assert pts[33, 0] < pts[1, 0] < pts[263, 0]

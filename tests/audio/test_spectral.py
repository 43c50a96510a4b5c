"""Our numpy STFT/mel against scipy and librosa."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.audio.spectral import mel_filterbank, mel_spectrogram, power_spectrogram


def test_power_spectrogram_matches_scipy_stft():
    from scipy.signal import stft

    x = np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    ours = power_spectrogram(x, n_fft=400, hop=160)
    _, _, z = stft(x, nperseg=400, noverlap=240, window="hann", boundary="zeros", padded=False,
                   return_onesided=True, scaling="spectrum")
    theirs = (np.abs(z) * np.hanning(401)[:-1].sum()) ** 2  # undo scipy's window-sum scaling
    n = min(ours.shape[0], theirs.shape[1])
    np.testing.assert_allclose(ours[:n], theirs.T[:n], rtol=1e-3, atol=1e-3)


def test_mel_filterbank_shape_and_triangles():
    bank = mel_filterbank(16000, 512, 40, 60.0, 7600.0)
    assert bank.shape == (40, 257) and bank.min() >= 0
    peaks = bank.argmax(axis=1)
    assert np.all(np.diff(peaks) >= 0) and peaks[0] < 5 and peaks[-1] > 215
    tone = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000).astype(np.float32)
    mel = mel_spectrogram(tone, 16000, 512, 160, 40, fmin=60.0, fmax=7600.0)
    centre = np.argmax(mel.mean(axis=0))
    assert abs(peaks[centre] * 16000 / 512 - 1000) < 120


@pytest.mark.slow
def test_mel_matches_librosa():
    librosa = pytest.importorskip("librosa")
    x = np.random.default_rng(1).standard_normal(16000).astype(np.float32)
    ref = librosa.feature.melspectrogram(y=x, sr=16000, n_fft=400, hop_length=160, n_mels=40).T
    np.testing.assert_allclose(mel_spectrogram(x, 16000, 400, 160, 40), ref, rtol=1e-4, atol=1e-6 * ref.max())

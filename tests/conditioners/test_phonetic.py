"""The ``phonetic`` conditioner: PocketSphinx viseme posteriors of both tracks, voice-independent."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.audio import ConversationAudio
from openinfp.core.interfaces import ConditionInputs


def _wave(realdata, name):
    from openinfp.audio.io import read_audio

    wave, _ = read_audio(realdata / "speech" / "vctk" / f"{name}.flac")
    n = len(wave) // 640 * 640
    return wave[:n].astype(np.float32)


def _dtw(a: np.ndarray, b: np.ndarray) -> float:
    """Mean per-step cost of the best monotone alignment of ``[Ta, D]`` and ``[Tb, D]`` (L1 cost)."""
    cost = np.abs(a[:, None, :] - b[None, :, :]).sum(-1)
    acc = np.full((len(a) + 1, len(b) + 1), np.inf)
    steps = np.zeros_like(acc)
    acc[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            k = int(np.argmin((acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1])))
            pi, pj = ((i - 1, j - 1), (i - 1, j), (i, j - 1))[k]
            acc[i, j] = acc[pi, pj] + cost[i - 1, j - 1]
            steps[i, j] = steps[pi, pj] + 1
    return float(acc[-1, -1] / steps[-1, -1])


@pytest.fixture(scope="module")
def conditioner():
    from openinfp.core.registry import Registry

    return Registry.create(autoload=False).conditioner("phonetic", {})


def _posteriors(conditioner, wave):
    audio = ConversationAudio(wave, np.zeros_like(wave))
    agent, partner = conditioner.encode(ConditionInputs(audio=audio), len(wave) // 640)
    return agent, partner


def test_tokens_are_the_audio_features_plus_viseme_posteriors(conditioner, realdata):
    from openinfp.conditioners.audio import AudioConditioner
    from openinfp.data.visemes import SILENCE, VISEMES

    wave = _wave(realdata, "p225_003")
    agent, partner = _posteriors(conditioner, wave)
    assert agent.name == "audio" and (agent.role, partner.role) == ("agent", "partner")
    nv = len(VISEMES)
    assert agent.tokens.shape == (len(wave) // 640, 49 + nv) and conditioner.feature_dim == 49 + nv
    acoustic = AudioConditioner().encode(ConditionInputs(audio=ConversationAudio(wave, np.zeros_like(wave))),
                                         len(wave) // 640)[0]
    np.testing.assert_allclose(agent.tokens[:, :49].numpy(), acoustic.tokens.numpy(), atol=1e-6)
    post = agent.tokens[:, 49:].numpy()
    np.testing.assert_allclose(post.sum(1), 1.0, atol=1e-4)
    sil = VISEMES.index(SILENCE)
    # the silent partner track is all silence; the speaker's speech frames mostly are not
    assert np.allclose(partner.tokens[:, 49 + sil].numpy(), 1.0)
    act = agent.tokens[:, 48].numpy() > 0.5
    assert act.sum() > 50 and float(np.mean(post[act, sil] < 0.5)) > 0.8
    # open vowels ("aa") and lip closures ("PP") are both found in "...snack for her brother Bob"
    assert post[:, VISEMES.index("aa")].max() > 0.5 and post[:, VISEMES.index("PP")].max() > 0.5


@pytest.mark.slow
def test_same_words_two_voices_agree_more_than_two_sentences_one_voice(conditioner, realdata):
    """p225 and p226 read the same sentences (VCTK); posteriors of one sentence by the two
    voices are closer (DTW) than two different sentences by one voice."""
    def speech(name):
        agent, _ = _posteriors(conditioner, _wave(realdata, name))
        act = agent.tokens[:, 48].numpy() > 0.5
        idx = np.flatnonzero(act)
        return agent.tokens[idx[0]: idx[-1] + 1, 49:].numpy()

    same_words = [_dtw(speech(f"p225_{s}"), speech(f"p226_{s}")) for s in ("003", "008")]
    same_voice = [_dtw(speech("p225_003"), speech("p225_008")), _dtw(speech("p226_003"), speech("p226_008"))]
    assert max(same_words) < min(same_voice), (same_words, same_voice)


@pytest.mark.slow
def test_chunked_encoding_agrees_with_whole_tracks(conditioner, realdata):
    """Streaming encodes window by window: a track split in two 3 s chunks gives mostly the same visemes."""
    wave = _wave(realdata, "p225_003")
    whole = _posteriors(conditioner, wave)[0].tokens[:, 49:].numpy()
    half = (len(wave) // 640 // 2) * 640
    parts = [_posteriors(conditioner, w)[0].tokens[:, 49:].numpy() for w in (wave[:half], wave[half:])]
    chunked = np.concatenate(parts)
    assert chunked.shape == whole.shape
    assert float(np.mean(chunked.argmax(1) == whole.argmax(1))) > 0.7

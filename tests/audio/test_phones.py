"""Phone timing of real speech with PocketSphinx: forced alignment and phone recognition."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from openinfp.audio.phones import (
    ARPABET_TO_ESPEAK,
    align_phones,
    normalise_transcript,
    recognize_phones,
    speech_span,
    to_espeak_events,
)
from openinfp.data.visemes import phoneme_to_viseme


def _utterance(realdata, name):
    from openinfp.audio.io import read_audio

    root = realdata / "speech"
    with open(root / "transcripts.tsv", encoding="utf-8") as fh:
        texts = {r["file"]: r["transcript"] for r in csv.DictReader(fh, delimiter="\t")}
    wave, sr = read_audio(root / name)
    assert sr == 16000
    return wave.astype(np.float32), texts.get(name, "")


def test_every_arpabet_phone_has_a_speech_viseme():
    for phone, mnemonic in ARPABET_TO_ESPEAK.items():
        assert phoneme_to_viseme(mnemonic) != "sil", phone
    assert phoneme_to_viseme("A:") == "aa" and phoneme_to_viseme("b") == "PP" and phoneme_to_viseme("u:") == "U"


def test_normalise_transcript_drops_punctuation_and_unknown_words():
    assert normalise_transcript("Six spoons, of fresh snow-peas! Qwxzzy.") == ["six", "spoons", "of", "fresh", "snow",
                                                                              "peas"]


def test_alignment_times_the_words_of_a_real_utterance(realdata):
    """VCTK p225_003: the aligned phones spell the transcript and cover its speech in order."""
    wave, text = _utterance(realdata, "vctk/p225_003.flac")
    phones = align_phones(wave, text)
    speech = [p for p in phones if not p.is_silence]
    names = [p.phone for p in speech]
    # "six spoons of fresh snow peas" starts S IH K S S P UW N Z
    assert names[:9] == ["S", "IH", "K", "S", "S", "P", "UW", "N", "Z"]
    assert names[-3:] == ["B", "AA", "B"]  # "... brother Bob"
    starts = [p.start for p in phones]
    assert starts == sorted(starts) and abs(phones[-1].end - len(wave) / 16000) < 0.02
    # the timing agrees with the audio: speech phones are much louder than the silences
    def db(p):
        seg = wave[int(p.start * 16000): int(p.end * 16000)]
        return 10 * np.log10(np.mean(seg ** 2) + 1e-12)
    sil = [db(p) for p in phones if p.is_silence and p.end - p.start > 0.1]
    voc = [db(p) for p in speech if p.phone in ("AA", "IY", "UW", "AE")]
    assert np.median(voc) > np.median(sil) + 15
    s0, s1 = speech_span(phones)
    assert 0.0 <= s0 < 0.5 and s1 > len(wave) / 16000 - 0.6


def test_recognition_agrees_with_alignment_on_mouth_shapes(realdata):
    """Without the transcript, recognised visemes match the aligned ones on most speech frames."""
    wave, text = _utterance(realdata, "vctk/p225_003.flac")
    def frames(phones):
        grid = np.full(int(len(wave) / 160), "sil", dtype=object)
        for p in phones:
            if not p.is_silence:
                grid[int(p.start * 100): int(p.end * 100)] = phoneme_to_viseme(ARPABET_TO_ESPEAK[p.phone])
        return grid
    ref, rec = frames(align_phones(wave, text)), frames(recognize_phones(wave))
    speech = ref != "sil"
    agree = float(np.mean(ref[speech] == rec[speech]))
    assert agree > 0.5, agree
    assert float(np.mean((rec != "sil") == speech)) > 0.85


def test_espeak_events_mark_phrase_pauses_and_the_end(realdata):
    wave, text = _utterance(realdata, "vctk/p225_003.flac")
    phones = align_phones(wave, text)
    events = to_espeak_events(phones, offset=10.0)
    assert events[0][0] == pytest.approx(10.0)
    long_pauses = [p for p in phones if p.is_silence and p.end - p.start >= 0.15 and p.start > 0]
    assert sum(e == "_:" for _, e in events[1:]) >= len(long_pauses) - 1 >= 1
    assert any(e.startswith("'") for _, e in events)  # stressed vowels
    assert all(phoneme_to_viseme(e) != "sil" for _, e in events if not e.startswith("_"))


def test_recognition_does_not_depend_on_what_was_decoded_before(realdata):
    """The shared decoder is reset per call: the same utterance gives the same phones
    first, again, and after another speaker's utterance."""
    first, other = sorted((realdata / "speech" / "librispeech").glob("*.flac"))[:2]
    from openinfp.audio.io import read_audio

    (a, _), (b, _) = read_audio(first), read_audio(other)
    assert a.size > 16000 and b.size > 16000
    once = recognize_phones(a)
    again = recognize_phones(a)
    recognize_phones(b)
    after_other = recognize_phones(a)
    assert len(once) > 20 and once == again == after_other

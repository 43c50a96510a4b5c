"""Phone timing of real speech with PocketSphinx (offline, weights shipped in the wheel).

Two ways to time the phones of a 16 kHz mono utterance:

* :func:`align_phones` — forced alignment of a known transcript (CMUdict pronunciations,
  the wheel's US English acoustic model). Words missing from the dictionary are
  dropped from the text; if nothing is left, or the aligner fails, phone recognition
  is used instead.
* :func:`recognize_phones` — phone recognition with the wheel's phone language model
  (``en-us-phone.lm.bin``): no transcript needed, any voice; the phone error rate is
  high (tens of percent) but vowel/consonant classes and mouth-relevant places of
  articulation come out mostly right, which is what the lip rules need.

Both return :class:`PhoneSegment` lists in seconds with CMU/ARPAbet phone names
(``SIL`` for silence and noise). :func:`to_espeak_events` converts them into the
``(time, eSpeak mnemonic)`` events the synthetic corpus uses, so the viseme and
listener rules of :mod:`openinfp.data` apply to real speech unchanged: pauses of at
least ``phrase_pause_s`` become phrase ends (``_:``), long vowels are marked stressed.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.errors import InputError

PS_FRAME_S = 0.01
"""PocketSphinx frames are 10 ms."""

# ARPAbet (CMUdict, no stress digits) -> the eSpeak NG mnemonic with the same mouth shape
ARPABET_TO_ESPEAK: dict[str, str] = {
    "AA": "A:", "AE": "a", "AH": "V", "AO": "O:", "AW": "aU", "AY": "aI", "B": "b", "CH": "tS", "D": "d",
    "DH": "D", "EH": "E", "ER": "3:", "EY": "eI", "F": "f", "G": "g", "HH": "h", "IH": "I", "IY": "i:",
    "JH": "dZ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "N", "OW": "oU", "OY": "OI", "P": "p", "R": "r",
    "S": "s", "SH": "S", "T": "t", "TH": "T", "UH": "U", "UW": "u:", "V": "v", "W": "w", "Y": "j", "Z": "z",
    "ZH": "Z",
}
VOWELS: frozenset[str] = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY",
                                    "UH", "UW"})
SILENCE = "SIL"


@dataclass(frozen=True)
class PhoneSegment:
    """One phone: ARPAbet name (``SIL`` = silence/noise), start and end in seconds."""

    phone: str
    start: float
    end: float

    @property
    def is_silence(self) -> bool:
        return self.phone not in ARPABET_TO_ESPEAK


def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return get_model_path()


@lru_cache(maxsize=1)
def _dictionary_words() -> frozenset[str]:
    words = set()
    with open(os.path.join(_model_dir(), "en-us", "cmudict-en-us.dict"), encoding="utf-8") as fh:
        for line in fh:
            head = line.split(" ", 1)[0]
            words.add(head.split("(", 1)[0])
    return frozenset(words)


def _pcm16(wave: np.ndarray) -> bytes:
    if wave.ndim != 1:
        raise InputError(f"phone timing needs a mono waveform, got shape {tuple(wave.shape)}")
    return (np.clip(np.asarray(wave, dtype=np.float32), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def normalise_transcript(text: str) -> list[str]:
    """Lower-case words the dictionary knows (punctuation stripped; unknown words dropped)."""
    words = re.findall(r"[a-z][a-z']*", text.lower().replace("’", "'"))
    known = _dictionary_words()
    return [w.strip("'") for w in words if w.strip("'") in known]


def _segments(raw: list[tuple[str, int, int]], duration: float) -> list[PhoneSegment]:
    """Frame ranges -> contiguous :class:`PhoneSegment` covering ``[0, duration]``."""
    out: list[PhoneSegment] = []
    t = 0.0
    for name, start, end in raw:
        s, e = start * PS_FRAME_S, min((end + 1) * PS_FRAME_S, duration)
        if e <= t:
            continue
        s = max(s, t)
        if s > t + 1e-6:
            out.append(PhoneSegment(SILENCE, t, s))
        phone = name if name in ARPABET_TO_ESPEAK else SILENCE
        if out and phone == SILENCE and out[-1].phone == SILENCE:
            out[-1] = PhoneSegment(SILENCE, out[-1].start, e)
        else:
            out.append(PhoneSegment(phone, s, e))
        t = e
    if duration > t + 1e-6:
        out.append(PhoneSegment(SILENCE, t, duration))
    return out


@lru_cache(maxsize=1)
def _phone_decoder():
    """One phone-loop decoder per process, with batch cepstral mean normalisation over
    each whole utterance. Its feature state still carries over from one utterance to the
    next (the same audio decoded again, or after other audio, gave other phones), so
    :func:`recognize_phones` resets it before each call."""
    from pocketsphinx import Decoder

    return Decoder(allphone=os.path.join(_model_dir(), "en-us", "en-us-phone.lm.bin"), lw=2.0, beam=1e-20,
                   pbeam=1e-20, cmn="batch", loglevel="FATAL")


def recognize_phones(wave: np.ndarray) -> list[PhoneSegment]:
    """Phones of ``wave`` (``[N]`` float32, 16 kHz) by phone recognition (no transcript)."""
    duration = len(wave) / SAMPLE_RATE
    if len(wave) < SAMPLE_RATE // 10 or not np.any(wave):
        return [PhoneSegment(SILENCE, 0.0, duration)] if duration > 0 else []
    dec = _phone_decoder()
    dec.reinit_feat()  # results must not depend on what this process decoded before
    dec.start_utt()
    dec.process_raw(_pcm16(wave), full_utt=True)
    dec.end_utt()
    return _segments([(s.word, s.start_frame, s.end_frame) for s in dec.seg()], duration)


def align_phones(wave: np.ndarray, transcript: str) -> list[PhoneSegment]:
    """Phones of ``wave`` by forced alignment of ``transcript`` (falls back to recognition)."""
    from pocketsphinx import Decoder

    words = normalise_transcript(transcript)
    duration = len(wave) / SAMPLE_RATE
    if not words or len(wave) < SAMPLE_RATE // 10:
        return recognize_phones(wave)
    pcm = _pcm16(wave)
    try:
        dec = Decoder(loglevel="FATAL")
        dec.set_align_text(" ".join(words))
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
        dec.set_alignment()
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()
        alignment = dec.get_alignment()
        raw = [(p.name, p.start, p.start + p.duration - 1) for w in alignment for p in w]
    except RuntimeError:
        return recognize_phones(wave)
    if not any(name in ARPABET_TO_ESPEAK for name, _, _ in raw):
        return recognize_phones(wave)
    return _segments(raw, duration)


def phone_timing(wave: np.ndarray, transcript: str | None = None) -> list[PhoneSegment]:
    """Forced alignment when a transcript is given, phone recognition otherwise."""
    return align_phones(wave, transcript) if transcript else recognize_phones(wave)


def to_espeak_events(phones: list[PhoneSegment], offset: float = 0.0, phrase_pause_s: float = 0.15,
                     stress_min_s: float = 0.09) -> list[tuple[float, str]]:
    """``(absolute time s, eSpeak mnemonic)`` events of ``phones`` (shifted by ``offset``).

    Silences of ``phrase_pause_s`` or more become ``_:`` (a phrase end, where listeners
    nod); shorter ones ``_``. Vowels lasting ``stress_min_s`` or more get eSpeak's primary
    stress mark (the rules raise brows on them). A final ``_`` marks the end of speech.
    """
    events: list[tuple[float, str]] = []
    for p in phones:
        t = offset + p.start
        if p.is_silence:
            events.append((t, "_:" if p.end - p.start >= phrase_pause_s else "_"))
            continue
        mn = ARPABET_TO_ESPEAK[p.phone]
        if p.phone in VOWELS and p.end - p.start >= stress_min_s:
            mn = "'" + mn
        events.append((t, mn))
    if phones and not phones[-1].is_silence:
        events.append((offset + phones[-1].end, "_"))
    return events


def speech_span(phones: list[PhoneSegment]) -> tuple[float, float]:
    """``(first speech start, last speech end)`` in seconds; ``(0, 0)`` without speech."""
    speech = [p for p in phones if not p.is_silence]
    if not speech:
        return 0.0, 0.0
    return speech[0].start, speech[-1].end


class StreamingPhoneRecognizer:
    """Phone recognition of one track as its audio arrives (live mode).

    One PocketSphinx phone-loop decoder that keeps its search state across
    :meth:`feed` calls, so each call decodes only the new samples. Cepstral mean
    normalisation is live (running over everything decoded so far) rather than
    batch over a whole utterance as in :func:`recognize_phones`: the future of a live
    utterance is unknown. :meth:`segments` is the decoder's current best path; its last
    phones may still change as more audio comes.
    """

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoder = Decoder(allphone=os.path.join(_model_dir(), "en-us", "en-us-phone.lm.bin"), lw=2.0,
                                beam=1e-20, pbeam=1e-20, cmn="live", loglevel="FATAL")
        self._in_utt = False
        self._fed = 0  # samples fed into the current utterance

    @property
    def in_utterance(self) -> bool:
        return self._in_utt

    @property
    def samples_fed(self) -> int:
        """Samples fed since :meth:`start` (0 outside an utterance)."""
        return self._fed

    def start(self) -> None:
        """Begin an utterance (ends the current one first)."""
        if self._in_utt:
            self.end()
        self._decoder.start_utt()
        self._in_utt, self._fed = True, 0

    def feed(self, wave: np.ndarray) -> None:
        """Decode ``[n]`` float32 16 kHz samples that follow those already fed."""
        if not self._in_utt:
            raise RuntimeError("StreamingPhoneRecognizer.feed outside an utterance")  # caller bug
        if wave.shape[0]:
            self._decoder.process_raw(_pcm16(wave))
            self._fed += wave.shape[0]

    def segments(self) -> list[PhoneSegment]:
        """Phones of the current utterance so far, seconds from its start (``[]`` outside one)."""
        if not self._in_utt or self._fed < SAMPLE_RATE // 100:
            return []
        raw = [(s.word, s.start_frame, s.end_frame) for s in self._decoder.seg()]
        return _segments(raw, self._fed / SAMPLE_RATE)

    def end(self) -> list[PhoneSegment]:
        """Finish the utterance; returns its final phones (seconds from its start)."""
        if not self._in_utt:
            return []
        self._decoder.end_utt()
        raw = [(s.word, s.start_frame, s.end_frame) for s in self._decoder.seg()]
        duration = self._fed / SAMPLE_RATE
        self._in_utt, self._fed = False, 0
        return _segments(raw, duration) if duration > 0 else []

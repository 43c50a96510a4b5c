"""Speech synthesis with eSpeak NG from the ``espeakng-loader`` wheel (ctypes, no system install).

eSpeak NG is initialised in synchronous mode with phoneme events enabled, so every
utterance comes back with the timing of each phoneme and word: the synthetic corpus
drives jaw and lips from these events, and tests use the speech as real audio input.

The library holds process-wide state, so calls are serialised by a lock.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

import numpy as np

from openinfp.core.errors import DependencyError, InputError

ESPEAK_SAMPLE_RATE = 22_050
"""eSpeak NG's native output rate (Hz)."""

# espeak_AUDIO_OUTPUT / options / events / parameters from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_SENTENCE, _EVENT_END, _EVENT_PHONEME = 0, 1, 2, 5, 7
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4
_CHARS_UTF8 = 1


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class PhonemeEvent:
    """One phoneme of synthesized speech.

    Attributes:
        time: start time in seconds from the start of the utterance.
        phoneme: eSpeak phoneme mnemonic (e.g. ``"a"``, ``"m"``, ``"_:"`` for a pause).
    """

    time: float
    phoneme: str


@dataclass(frozen=True)
class WordEvent:
    """One word: start time (s), and its character span in the text."""

    time: float
    text_position: int
    length: int


@dataclass
class Utterance:
    """Synthesized speech: ``wave`` ``[N]`` float32 at ``sample_rate`` plus events."""

    wave: np.ndarray
    sample_rate: int
    phonemes: list[PhonemeEvent]
    words: list[WordEvent]

    @property
    def duration(self) -> float:
        return self.wave.shape[0] / self.sample_rate


class _Engine:
    """The initialised library (one per process)."""

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - declared dependency
            raise DependencyError("speech synthesis needs the espeakng-loader package") from exc
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        self.lib.espeak_Initialize.restype = ctypes.c_int
        rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, _INITIALIZE_PHONEME_EVENTS)
        if rate <= 0:
            raise DependencyError("eSpeak NG failed to initialise from the espeakng-loader wheel")
        self.sample_rate = rate
        self.lock = threading.Lock()
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, str, int, int]] = []
        # Keep a reference to the callback so it is not garbage collected.
        self._callback = _SynthCallback(self._on_audio)
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]

    def _on_audio(self, wav, numsamples, events) -> int:
        if numsamples > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            label = ""
            if ev.type == _EVENT_PHONEME:
                label = bytes(ev.id.string).split(b"\0", 1)[0].decode("utf-8", "replace")
            self._events.append((ev.type, ev.sample, label, ev.text_position, ev.length))
            i += 1
        return 0

    def synth(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int) -> Utterance:
        with self.lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise InputError(f"eSpeak NG has no voice {voice!r}; try e.g. 'en-us', 'en', 'en-gb-x-rp', 'en-us+f3' "
                                 "(variants: list_variants())")
            self.lib.espeak_SetParameter(_RATE, int(rate), 0)
            self.lib.espeak_SetParameter(_PITCH, int(pitch), 0)
            self.lib.espeak_SetParameter(_RANGE, int(pitch_range), 0)
            self.lib.espeak_SetParameter(_VOLUME, 100, 0)
            self._chunks, self._events = [], []
            # eSpeak seeds its noise source from the clock: fix it so a script speaks the
            # same way in every process (the wave still depends on what this process spoke before).
            if hasattr(self.lib, "espeak_ng_SetRandSeed"):
                self.lib.espeak_ng_SetRandSeed(ctypes.c_long(0))
            buf = ctypes.create_string_buffer(text.encode("utf-8"))
            err = self.lib.espeak_Synth(buf, len(buf), 0, 0, 0, _CHARS_UTF8, None, None)
            if err != 0:
                raise InputError(f"eSpeak NG failed to synthesize text (error {err})")
            self.lib.espeak_Synchronize()
            chunks, events = self._chunks, self._events
        wave = (np.concatenate(chunks) if chunks else np.zeros(0, np.int16)).astype(np.float32) / 32768.0
        sr = self.sample_rate
        phonemes = [PhonemeEvent(sample / sr, label) for t, sample, label, _, _ in events if t == _EVENT_PHONEME]
        words = [WordEvent(sample / sr, pos - 1, length) for t, sample, _, pos, length in events if t == _EVENT_WORD]
        return Utterance(wave, sr, phonemes, words)


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


def synthesize(
    text: str,
    voice: str = "en-us",
    rate: int = 165,
    pitch: int = 50,
    pitch_range: int = 50,
    sample_rate: Optional[int] = 16_000,
) -> Utterance:
    """Speak ``text`` with eSpeak NG.

    Args:
        text: what to say (UTF-8; SSML is not interpreted).
        voice: eSpeak voice name, optionally with a variant (``"en-us+f3"``).
        rate: words per minute (80..450).
        pitch: base pitch 0..100.
        pitch_range: pitch variation 0..100 (0 = monotone).
        sample_rate: resample the wave to this rate (default 16 kHz, the project's
            rate); ``None`` keeps eSpeak's native 22.05 kHz. Event times are in seconds,
            so they do not change.

    Returns:
        An :class:`Utterance` with the waveform and phoneme/word timings.
    """
    if not text or not text.strip():
        raise InputError("cannot synthesize empty text")
    utt = _engine().synth(text, voice, rate, pitch, pitch_range)
    if sample_rate is not None and sample_rate != utt.sample_rate and utt.wave.size:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(sample_rate, utt.sample_rate)
        wave = resample_poly(utt.wave, sample_rate // g, utt.sample_rate // g).astype(np.float32)
        utt = Utterance(wave, sample_rate, utt.phonemes, utt.words)
    return utt


def list_variants() -> list[str]:
    """Voice variant names shipped in the wheel (append as ``"en-us+NAME"``)."""
    from pathlib import Path

    import espeakng_loader

    root = Path(espeakng_loader.get_data_path()) / "voices" / "!v"
    variants = sorted(p.name for p in root.iterdir()) if root.exists() else []
    return variants

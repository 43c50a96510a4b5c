"""A freshly loaded, private eSpeak NG instance, for reproducible synthetic conversations.

eSpeak NG keeps process-wide state between utterances (e.g. the phase of its pitch
"flutter"), so the same text spoken twice in one process gives slightly different
waveforms, and a conversation would depend on which conversations the same process
spoke before it. :func:`private_espeak` loads a private copy of the library (a temp
copy of the ``.so`` gets its own globals), initialises it, and unloads it afterwards,
so each conversation starts from the same state. Loading costs about 10-30 ms.

It reuses the ctypes binding of :mod:`openinfp.audio.espeak` (``_Engine``), only
changing which library file is loaded.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import tempfile
import threading
from math import gcd
from typing import Iterator

import numpy as np

from openinfp.audio import espeak as _espeak
from openinfp.core.errors import DependencyError


class PrivateEngine(_espeak._Engine):
    """An eSpeak NG engine backed by its own copy of the shared library."""

    def __init__(self, seed: int = 0) -> None:  # noqa: D107 - the parent's fields, another library file
        try:
            import espeakng_loader
        except ImportError as exc:  # pragma: no cover - declared dependency
            raise DependencyError("speech synthesis needs the espeakng-loader package") from exc
        tmpdir = tempfile.mkdtemp(prefix="openinfp-espeak-")
        copy = os.path.join(tmpdir, "libespeak-ng-private.so")
        try:
            shutil.copyfile(espeakng_loader.get_library_path(), copy)
            self.lib = ctypes.CDLL(copy)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)  # the loaded mapping stays valid
        self.lib.espeak_Initialize.restype = ctypes.c_int
        rate = self.lib.espeak_Initialize(_espeak._AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                          espeakng_loader.get_data_path().encode(), _espeak._INITIALIZE_PHONEME_EVENTS)
        if rate <= 0:
            raise DependencyError("eSpeak NG failed to initialise from the espeakng-loader wheel")
        self.sample_rate = rate
        # eSpeak's own noise generator, and libc's rand() that some of its voices use
        self.lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
        ctypes.CDLL(None).srand(ctypes.c_uint(seed))
        self.lock = threading.Lock()
        self._chunks = []
        self._events = []
        self._callback = _espeak._SynthCallback(self._on_audio)
        self.lib.espeak_SetSynthCallback(self._callback)
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.POINTER(ctypes.c_uint), ctypes.c_void_p,
        ]

    def speak(self, text: str, voice: str, rate: int, pitch: int, pitch_range: int,
              sample_rate: int = 16_000) -> _espeak.Utterance:
        """Like :func:`openinfp.audio.espeak.synthesize`, on this private instance."""
        utt = self.synth(text, voice, rate, pitch, pitch_range)
        if sample_rate != utt.sample_rate and utt.wave.size:
            from scipy.signal import resample_poly

            g = gcd(sample_rate, utt.sample_rate)
            wave = resample_poly(utt.wave, sample_rate // g, utt.sample_rate // g).astype(np.float32)
            utt = _espeak.Utterance(wave, sample_rate, utt.phonemes, utt.words)
        return utt

    def close(self) -> None:
        """Terminate eSpeak and unload the private library."""
        lib, self.lib = self.lib, None
        if lib is None:
            return
        lib.espeak_Terminate()
        import _ctypes

        _ctypes.dlclose(lib._handle)


@contextlib.contextmanager
def private_espeak(seed: int = 0) -> Iterator[PrivateEngine]:
    """A fresh eSpeak NG instance (random generators seeded with ``seed``) for the block."""
    engine = PrivateEngine(seed)
    try:
        yield engine
    finally:
        engine.close()

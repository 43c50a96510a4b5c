"""eSpeak NG phonemes -> visemes -> ARKit blendshape weights (the synthetic lip rules).

Each viseme is a target mouth shape (a few ARKit weights). Every speech viseme opens
the jaw at least a little (``jawOpen >= 0.08``; bilabials close the lips with
``mouthClose`` on an open jaw, which is how ARKit encodes them), and silence is all
zeros, so ``jawOpen > 0`` marks speech exactly; the corpus tests rely on this.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from openinfp.core.arkit import ARKIT_NAMES

SILENCE = "sil"

# Target ARKit weights per viseme, at expressiveness 1 (rules, not measurements).
VISEME_SHAPES: dict[str, dict[str, float]] = {
    SILENCE: {},
    "PP": {"jawOpen": 0.10, "mouthClose": 0.10, "mouthPressLeft": 0.35, "mouthPressRight": 0.35},
    "FF": {"jawOpen": 0.12, "mouthRollLower": 0.45, "mouthUpperUpLeft": 0.2, "mouthUpperUpRight": 0.2},
    "TH": {"jawOpen": 0.16, "tongueOut": 0.25},
    "DD": {"jawOpen": 0.20, "mouthStretchLeft": 0.1, "mouthStretchRight": 0.1},
    "kk": {"jawOpen": 0.24},
    "CH": {"jawOpen": 0.14, "mouthFunnel": 0.45, "mouthPucker": 0.25},
    "SS": {"jawOpen": 0.10, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3},
    "nn": {"jawOpen": 0.16},
    "RR": {"jawOpen": 0.16, "mouthPucker": 0.35, "mouthFunnel": 0.15},
    "aa": {"jawOpen": 0.62, "mouthLowerDownLeft": 0.3, "mouthLowerDownRight": 0.3},
    "E": {"jawOpen": 0.40, "mouthStretchLeft": 0.2, "mouthStretchRight": 0.2},
    "I": {"jawOpen": 0.22, "mouthSmileLeft": 0.25, "mouthSmileRight": 0.25, "mouthStretchLeft": 0.3,
          "mouthStretchRight": 0.3},
    "O": {"jawOpen": 0.45, "mouthFunnel": 0.5, "mouthPucker": 0.2},
    "U": {"jawOpen": 0.20, "mouthPucker": 0.6, "mouthFunnel": 0.3},
}
VISEMES: tuple[str, ...] = tuple(VISEME_SHAPES)

# eSpeak NG English phoneme mnemonics (stress marks removed) -> viseme.
_PHONEME_TO_VISEME: dict[str, str] = {
    **{p: "PP" for p in ("p", "b", "m")},
    **{p: "FF" for p in ("f", "v")},
    **{p: "TH" for p in ("T", "D")},
    **{p: "DD" for p in ("t", "d", "l", "t#", "d#", "l/", "l-", "?")},
    **{p: "kk" for p in ("k", "g", "h", "x", "N")},
    **{p: "CH" for p in ("tS", "dZ", "S", "Z")},
    **{p: "SS" for p in ("s", "z")},
    **{p: "nn" for p in ("n", "n-", "j")},
    **{p: "RR" for p in ("r", "r-", "3:", "3")},
    **{p: "aa" for p in ("a", "a#", "A:", "A@", "aI", "aU", "V", "aa", "A")},
    **{p: "E" for p in ("E", "e", "eI", "e@", "@", "@2", "@5", "@L", "a2")},
    **{p: "I" for p in ("i", "i:", "I", "I2", "I#", "i@", "i@3")},
    **{p: "O" for p in ("O", "O:", "O@", "0", "oU", "OI", "o@", "0@")},
    **{p: "U" for p in ("u", "u:", "U", "U@", "w", "W")},
}
_VOWEL_START = set("aAeEiIoOuUV@03")


def is_pause(phoneme: str) -> bool:
    """eSpeak pause mnemonics start with ``_`` (``_``, ``_:``, ``_!``, ...)."""
    return phoneme.startswith("_") or phoneme.strip() == ""


def is_stressed(phoneme: str) -> bool:
    """A primary-stressed syllable nucleus (eSpeak marks it with a leading ``'``)."""
    return phoneme.startswith("'")


def phoneme_to_viseme(phoneme: str) -> str:
    """Viseme name of one eSpeak phoneme (unknown vowels -> ``"E"``, consonants -> ``"DD"``)."""
    if is_pause(phoneme):
        return SILENCE
    core = phoneme.lstrip("',%=")
    if core in _PHONEME_TO_VISEME:
        return _PHONEME_TO_VISEME[core]
    if core[:2] in _PHONEME_TO_VISEME:
        return _PHONEME_TO_VISEME[core[:2]]
    if core[:1] in _PHONEME_TO_VISEME:
        return _PHONEME_TO_VISEME[core[:1]]
    return "E" if core[:1] in _VOWEL_START else "DD"


@lru_cache(maxsize=1)
def viseme_matrix() -> np.ndarray:
    """``[V, 52]`` float32: row ``i`` is the ARKit target of ``VISEMES[i]``."""
    mat = np.zeros((len(VISEMES), len(ARKIT_NAMES)), dtype=np.float32)
    for i, vis in enumerate(VISEMES):
        for name, w in VISEME_SHAPES[vis].items():
            mat[i, ARKIT_NAMES.index(name)] = w
    return mat


def viseme_index(phoneme: str) -> int:
    """Row of :func:`viseme_matrix` for ``phoneme``."""
    return VISEMES.index(phoneme_to_viseme(phoneme))

"""A pool of real speech utterances with phone timing, for real-voice synthetic conversations.

``openinfp synth --real-speech DIR`` cuts turns from real recordings instead of eSpeak.
A pool is any folder of ``.wav``/``.flac`` files (searched recursively); the speaker of a
file is its parent folder's name unless the folder has a ``speakers.tsv`` (columns
``file``, ``speaker``; the layout of ``realdata/speech``), and a ``transcripts.tsv``
(``file``, ``transcript``) enables forced alignment for those files. Every utterance is
timed once with PocketSphinx (:mod:`openinfp.audio.phones`) and the timings are cached
in a JSON file keyed by path, size and modification time, so corpus workers and later
runs reuse them.

Speakers are split by a hash of their id: about ``VAL_SPEAKER_SHARE`` of them speak only
in ``val`` conversations (held-out voices, as for eSpeak).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from openinfp.audio.phones import PhoneSegment, phone_timing, speech_span
from openinfp.core.errors import InputError

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac")
VAL_SPEAKER_SHARE = 0.12
CACHE_VERSION = 1


@dataclass(frozen=True)
class Utterance:
    """One real recording and its phone timing (seconds from the file's start)."""

    path: str
    speaker: str
    transcript: str
    phones: tuple[PhoneSegment, ...]
    duration: float

    @property
    def span(self) -> tuple[float, float]:
        return speech_span(list(self.phones))


def is_val_speaker(speaker: str) -> bool:
    """Held-out speaker (deterministic from the id)."""
    h = int(hashlib.sha1(speaker.encode()).hexdigest()[:8], 16)
    return (h % 1000) / 1000.0 < VAL_SPEAKER_SHARE


def _read_tsv(path: Path, key: str, value: str) -> dict[str, str]:
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if rows and (key not in rows[0] or value not in rows[0]):
        raise InputError(f"{path}: needs the columns {key!r} and {value!r} (tab-separated)")
    return {r[key]: r[value] for r in rows if r.get(key)}


def find_utterances(folder: Path) -> list[tuple[Path, str, str]]:
    """``(file, speaker, transcript)`` of every audio file under ``folder``."""
    if not folder.is_dir():
        raise InputError(f"real speech folder {folder} does not exist or is not a folder")
    speakers = _read_tsv(folder / "speakers.tsv", "file", "speaker")
    texts = _read_tsv(folder / "transcripts.tsv", "file", "transcript")
    out = []
    for f in sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file()):
        rel = f.relative_to(folder).as_posix()
        out.append((f, speakers.get(rel, f"{folder.name}/{f.parent.name}"), texts.get(rel, "")))
    if not out:
        raise InputError(f"real speech folder {folder} holds no .wav or .flac files")
    return out


def _key(path: Path) -> str:
    st = path.stat()
    return f"{path.resolve()}|{st.st_size}|{int(st.st_mtime)}"


def build_pool(folders: list[str | Path], cache_file: str | Path, progress: bool = False) -> list[Utterance]:
    """Time every utterance of ``folders`` (cached in ``cache_file``) and return the pool."""
    from openinfp.audio.io import read_audio
    from openinfp.core.io import atomic_output

    cache_file = Path(cache_file)
    cache: dict = {}
    if cache_file.is_file():
        try:
            cache = json.loads(cache_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            cache = {}
        if cache.get("version") != CACHE_VERSION:
            cache = {}
    entries: dict = cache.get("utterances", {})
    items = [it for folder in folders for it in find_utterances(Path(folder))]
    from tqdm import tqdm

    pool, changed = [], False
    for path, speaker, text in tqdm(items, desc="phone timing", unit="utt", disable=not progress):
        key = _key(path)
        if key not in entries:
            wave, sr = read_audio(path)
            if sr != 16000 or wave.ndim != 1:
                wave = _mono16k(wave, sr)
            phones = phone_timing(wave, text or None)
            entries[key] = {"duration": len(wave) / 16000, "transcript": text,
                            "phones": [[p.phone, round(p.start, 3), round(p.end, 3)] for p in phones]}
            changed = True
        e = entries[key]
        pool.append(Utterance(str(path), speaker, e["transcript"],
                              tuple(PhoneSegment(n, s, t) for n, s, t in e["phones"]), float(e["duration"])))
    if changed:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with atomic_output(cache_file) as tmp:
            tmp.write_text(json.dumps({"version": CACHE_VERSION, "utterances": entries}))
    return [u for u in pool if u.span[1] - u.span[0] >= 0.5]


def _mono16k(wave: np.ndarray, sr: int) -> np.ndarray:
    from scipy.signal import resample_poly

    if wave.ndim == 2:
        wave = wave.mean(axis=1) if wave.shape[1] <= 8 else wave.mean(axis=0)
    if sr != 16000:
        g = np.gcd(int(sr), 16000)
        wave = resample_poly(wave, 16000 // g, int(sr) // g)
    return np.asarray(wave, dtype=np.float32)


@lru_cache(maxsize=4)
def load_pool(folders: tuple[str, ...], cache_file: str) -> tuple[Utterance, ...]:
    """:func:`build_pool`, memoised per process (corpus workers call it once)."""
    return tuple(build_pool(list(folders), cache_file))


@lru_cache(maxsize=64)
def read_utterance(path: str) -> np.ndarray:
    """``[N]`` float32 16 kHz mono samples of a pool file."""
    from openinfp.audio.io import read_audio

    wave, sr = read_audio(path)
    return _mono16k(wave, sr) if (sr != 16000 or wave.ndim != 1) else wave.astype(np.float32)


@dataclass(frozen=True)
class RealSpeechSpec:
    """What a corpus run needs to rebuild the pool in a worker process."""

    folders: tuple[str, ...]
    cache_file: str
    ratio: float

    def pool(self) -> tuple[Utterance, ...]:
        return load_pool(self.folders, self.cache_file)


def speakers_of(pool: tuple[Utterance, ...], held_out: bool) -> list[str]:
    """Speakers of the pool in the train (or held-out) part, sorted."""
    return sorted({u.speaker for u in pool if is_val_speaker(u.speaker) == held_out})


def cut(utt: Utterance, start: float, end: float) -> tuple[np.ndarray, list[PhoneSegment]]:
    """Samples and phones (times relative to ``start``) of ``[start, end)`` of an utterance."""
    wave = read_utterance(utt.path)
    a, b = int(round(start * 16000)), int(round(end * 16000))
    piece = wave[a:b].copy()
    fade = min(160, len(piece) // 4)
    if fade > 0:  # no clicks at the cut
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        piece[:fade] *= ramp
        piece[-fade:] *= ramp[::-1]
    phones = [PhoneSegment(p.phone, max(p.start, start) - start, min(p.end, end) - start)
              for p in utt.phones if p.end > start and p.start < end]
    return piece, phones


def short_bursts(utt: Utterance, min_s: float = 0.2, max_s: float = 0.7, gap_s: float = 0.08
                 ) -> list[tuple[float, float]]:
    """Stretches of speech between silences of at least ``gap_s`` lasting ``min_s``-``max_s``.

    These serve as a real speaker's backchannels ("yeah", "right", a short word).
    """
    out, start, last_end = [], None, None
    for p in utt.phones:
        if p.is_silence and p.end - p.start >= gap_s:
            if start is not None and min_s <= last_end - start <= max_s:
                out.append((start, last_end))
            start = None
        elif not p.is_silence:
            start = p.start if start is None else start
            last_end = p.end
    return out


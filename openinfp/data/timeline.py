"""Scripted two-person conversations placed on a timeline and spoken by eSpeak NG.

A conversation is a list of :class:`Segment` (a turn or a backchannel of one speaker)
with absolute times and the eSpeak phoneme events of what was said. Everything else
(speech activity, motion) is derived from these segments, so the ground truth is
exactly known.

Turn-taking rules (per turn, drawn from the conversation's random generator):

* gap before the next turn: 0.15-0.7 s (78 %), a long pause 1-2 s (10 %), or an
  overlap of 0.2-0.8 s (12 %), half of which are interruptions that cut the current
  speaker off 0.2-0.5 s after the other starts;
* at every phrase end inside a turn (eSpeak's long pause ``_:``) the listener says a
  backchannel ("yeah", "mm hmm", "right", ...) with probability ``backchannel_rate``
  of its style, 0-0.25 s after the phrase end, never running into its own next turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openinfp.core.audio import SAMPLE_RATE
from openinfp.data.phrases import BACKCHANNELS, turn_text
from openinfp.data.style import StyleParams
from openinfp.data.visemes import is_pause

SIDES: tuple[str, str] = ("a", "b")

# Voice variants of eSpeak NG (all shipped in the espeakng-loader wheel). Validation
# conversations use voices that never occur in training conversations.
TRAIN_VARIANTS: tuple[str, ...] = (
    "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "Alex", "Andy", "Annie", "adam", "anika",
    "benjamin", "caleb", "david", "ed", "edward", "iven", "john", "linda", "max", "michel", "paul", "rob",
    "robert", "steph", "travis", "victor", "zac", "Alicia", "Andrea", "Denis", "Gene", "Henrique", "Lee",
    "Michael", "Mike", "Reed", "aunty", "belinda", "boris", "gustave", "ian",
)
VAL_VARIANTS: tuple[str, ...] = ("m8", "f5", "norbert", "pablo", "quincy", "shelby", "Mario", "Diogo", "sandro",
                                 "pedro")
LANGUAGES: tuple[str, ...] = ("en-us", "en", "en-gb-x-rp", "en-gb-scotland", "en-029", "en-us-nyc")


@dataclass(frozen=True)
class Voice:
    """eSpeak NG settings of one synthetic speaker."""

    name: str
    rate: int
    pitch: int
    pitch_range: int
    loudness: float  # target RMS of the speech, before the peak limit

    def as_dict(self) -> dict:
        return {"name": self.name, "rate": self.rate, "pitch": self.pitch, "pitch_range": self.pitch_range,
                "loudness": round(self.loudness, 4)}


def sample_voice(rng: np.random.Generator, held_out: bool, avoid: str = "") -> Voice:
    """A random voice; ``held_out`` draws from the validation-only variants."""
    variants = VAL_VARIANTS if held_out else TRAIN_VARIANTS
    while True:
        name = f"{LANGUAGES[rng.integers(len(LANGUAGES))]}+{variants[rng.integers(len(variants))]}"
        if name != avoid:
            break
    return Voice(name, int(rng.integers(135, 201)), int(rng.integers(25, 76)), int(rng.integers(30, 81)),
                 float(rng.uniform(0.05, 0.12)))


@dataclass
class Segment:
    """One stretch of speech by one speaker.

    Attributes:
        speaker: ``"a"`` or ``"b"``.
        kind: ``"turn"`` or ``"backchannel"``.
        text: what was said.
        start: start time on the conversation timeline (s).
        end: end of speech (s): the last phoneme's end (or the cut, if interrupted).
        phonemes: ``(absolute time s, eSpeak mnemonic)`` in order; pauses start with ``_``.
        interrupted: the speaker was cut off by the partner.
    """

    speaker: str
    kind: str
    text: str
    start: float
    end: float
    phonemes: list[tuple[float, str]] = field(default_factory=list)
    interrupted: bool = False

    def phrase_ends(self) -> list[float]:
        """Times of the long pauses (``_:``) inside the segment, plus its end."""
        ends = [t for t, p in self.phonemes if p == "_:" and self.start + 0.2 < t < self.end - 0.05]
        return ends + [self.end]

    def as_dict(self) -> dict:
        return {"speaker": self.speaker, "kind": self.kind, "text": self.text, "start": round(self.start, 6),
                "end": round(self.end, 6), "interrupted": self.interrupted,
                "phonemes": [[round(t, 6), p] for t, p in self.phonemes]}


@dataclass
class Timeline:
    """A spoken conversation: segments, per-speaker audio, and its length.

    Attributes:
        segments: every turn and backchannel, sorted by start.
        audio: side -> ``[N]`` float32 at 16 kHz (each speaker's own track).
        duration: ``N / 16000`` seconds.
    """

    segments: list[Segment]
    audio: dict[str, np.ndarray]
    duration: float

    def of(self, side: str, kind: str | None = None) -> list[Segment]:
        return [s for s in self.segments if s.speaker == side and (kind is None or s.kind == kind)]


def _speech_end(phonemes: list[tuple[float, str]], duration: float) -> float:
    """Time the last spoken phoneme ends: the first pause after it, or ``duration``."""
    last_speech = max((i for i, (_, p) in enumerate(phonemes) if not is_pause(p)), default=-1)
    if last_speech < 0:
        return 0.0
    if last_speech + 1 < len(phonemes):
        return phonemes[last_speech + 1][0]
    return duration


def _level(wave: np.ndarray, loudness: float) -> np.ndarray:
    """Scale speech to RMS ``loudness`` (over samples above -40 dB), peak at most 0.95."""
    active = np.abs(wave) > 0.01 * max(float(np.abs(wave).max()), 1e-6)
    rms = float(np.sqrt(np.mean(wave[active] ** 2))) if active.any() else 1.0
    gain = loudness / max(rms, 1e-6)
    gain = min(gain, 0.95 / max(float(np.abs(wave).max()), 1e-6))
    return (wave * gain).astype(np.float32)


class _Speaker:
    """Synthesis with per-speaker caching of backchannels."""

    def __init__(self, voice: Voice, engine) -> None:
        self.voice = voice
        self.engine = engine
        self._cache: dict[str, tuple[np.ndarray, list[tuple[float, str]], float]] = {}

    def say(self, text: str) -> tuple[np.ndarray, list[tuple[float, str]], float]:
        """(wave [N] float32 16 kHz, phoneme events (relative s, label), speech end s)."""
        if text in self._cache:
            return self._cache[text]
        v = self.voice
        utt = self.engine.speak(text, voice=v.name, rate=v.rate, pitch=v.pitch, pitch_range=v.pitch_range,
                                sample_rate=SAMPLE_RATE)
        phonemes = [(p.time, p.phoneme) for p in utt.phonemes]
        out = (_level(utt.wave, v.loudness), phonemes, _speech_end(phonemes, utt.duration))
        if len(text) < 16:
            self._cache[text] = out
        return out

    def turn(self, rng: np.random.Generator, first: bool, previous_question: bool
             ) -> tuple[str, np.ndarray, list[tuple[float, str]], float]:
        """A scripted turn: (text, wave, phoneme events, speech end)."""
        text = turn_text(rng, first=first, previous_was_question=previous_question)
        return (text, *self.say(text))

    def backchannel(self, rng: np.random.Generator) -> tuple[str, np.ndarray, list[tuple[float, str]], float]:
        """A short listener response: (text, wave, phoneme events, speech end)."""
        text = BACKCHANNELS[int(rng.integers(len(BACKCHANNELS)))]
        return (text, *self.say(text))


def speak_conversation(
    rng: np.random.Generator,
    voices: dict[str, Voice],
    styles: dict[str, StyleParams],
    target_seconds: float,
    real_speakers: dict | None = None,
) -> Timeline:
    """Write and speak a conversation of about ``target_seconds``.

    Args:
        rng: the conversation's random generator (the whole result is a function of it).
        voices, styles: per side (``"a"``, ``"b"``).
        target_seconds: turns are added until this time is reached.
        real_speakers: sides spoken by a real voice instead (side -> an object with the
            ``turn``/``backchannel`` methods of ``_Speaker``, e.g.
            :class:`openinfp.data.real_turns.RealSpeaker`).

    Returns:
        The :class:`Timeline`; tracks are padded to a whole number of 25 fps frames.
    """
    from openinfp.data.private_espeak import private_espeak

    with private_espeak() as engine:  # fresh eSpeak state: the result depends on rng only
        speakers = {side: (real_speakers or {}).get(side) or _Speaker(voices[side], engine) for side in SIDES}
        return _speak(rng, speakers, styles, target_seconds)


def _speak(rng, speakers, styles, target_seconds) -> Timeline:
    placed: dict[str, list[tuple[int, np.ndarray]]] = {side: [] for side in SIDES}
    segments: list[Segment] = []
    t = float(rng.uniform(0.3, 1.0))
    side = SIDES[int(rng.integers(2))]
    previous_question = False
    first = True
    while t < target_seconds:
        other = SIDES[1 - SIDES.index(side)]
        text, wave, phon, speech_end = speakers[side].turn(rng, first, previous_question)
        first = False
        previous_question = text.rstrip().endswith("?")
        start = t
        seg = Segment(side, "turn", text, start, start + speech_end, [(start + pt, p) for pt, p in phon])
        turn_len = seg.end - seg.start
        # when does the other speaker take the floor?
        r = rng.random()
        if r < 0.12 and turn_len > 1.0:
            gap = -float(rng.uniform(0.2, min(0.8, 0.4 * turn_len)))
        elif r < 0.22:
            gap = float(rng.uniform(1.0, 2.0))
        else:
            gap = float(rng.uniform(0.15, 0.7))
        next_start = seg.end + gap
        cut = next_start + float(rng.uniform(0.2, 0.5))
        if gap < 0 and rng.random() < 0.5 and cut < seg.end - 0.1:
            # interruption: the current speaker stops shortly after being overlapped
            n_keep = int(round((cut - start) * SAMPLE_RATE))
            wave = wave[:n_keep].copy()
            fade = min(320, n_keep)
            wave[n_keep - fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
            seg.phonemes = [(pt, p) for pt, p in seg.phonemes if pt < cut] + [(cut, "_:")]
            seg.end = cut
            seg.interrupted = True
        placed[side].append((int(round(start * SAMPLE_RATE)), wave))
        segments.append(seg)
        # listener backchannels at the phrase ends of this turn
        last_bc_end = -1.0
        for pe in seg.phrase_ends()[:-1]:
            if rng.random() >= styles[other].backchannel_rate:
                continue
            bc_text, bc_wave, bc_phon, bc_end = speakers[other].backchannel(rng)
            bc_start = pe + float(rng.uniform(0.0, 0.25))
            if bc_start < last_bc_end + 0.3 or bc_start + bc_end > min(next_start, seg.end) - 0.2:
                continue
            placed[other].append((int(round(bc_start * SAMPLE_RATE)), bc_wave))
            segments.append(Segment(other, "backchannel", bc_text, bc_start, bc_start + bc_end,
                                    [(bc_start + pt, p) for pt, p in bc_phon]))
            last_bc_end = bc_start + bc_end
        t = next_start
        side = other
    end = max(((offset + len(w)) / SAMPLE_RATE for s in SIDES for offset, w in placed[s]), default=0.0)
    duration = end + float(rng.uniform(0.3, 1.0))
    hop = SAMPLE_RATE // 25
    n = int(np.ceil(duration * SAMPLE_RATE / hop)) * hop
    audio = {}
    for s in SIDES:
        track = np.zeros(n, dtype=np.float32)
        for offset, w in placed[s]:
            track[offset:offset + len(w)] += w[: n - offset]
        audio[s] = track
    segments.sort(key=lambda s: (s.start, s.speaker))
    return Timeline(segments, audio, n / SAMPLE_RATE)

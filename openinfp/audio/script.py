"""Text as speech: a two-person script becomes a two-track conversation.

A script is one line per turn, ``SPEAKER: what they say``::

    A: Hi, how was the trip?
    B: Long, but worth it.

``A`` is the agent (the portrait), ``B`` the partner. Any two labels work (``Anna:``,
``Ben:``); the first label that appears is the agent. Lines without a label continue
the previous turn; blank lines and lines starting with ``#`` are ignored.

Each person gets their own eSpeak NG voice (different voice, variant and pitch), turns
are separated by short randomised pauses, and optionally the listener drops a quiet
backchannel ("mm-hmm", "yeah") into longer turns, as people do. Everything is seeded,
so the same script and seed give the same audio.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple, Optional, Sequence

import numpy as np

from openinfp.audio.espeak import Utterance, synthesize
from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.errors import InputError

_LABEL = re.compile(r"^\s*([^:\s][^:]{0,39}?)\s*:\s*(.*)$")
BACKCHANNELS = ("mm-hmm", "yeah", "right", "uh-huh", "okay", "I see", "mm")


class ScriptTurn(NamedTuple):
    """One parsed turn: ``speaker`` is ``"A"`` (agent) or ``"B"`` (partner)."""

    speaker: str
    text: str


class Turn(NamedTuple):
    """One spoken turn in the synthesized conversation (times in seconds)."""

    speaker: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Voice:
    """An eSpeak NG voice: name (with optional ``+variant``), base pitch 0..100, rate (wpm)."""

    name: str
    pitch: int
    rate: int
    pitch_range: int = 60


DEFAULT_VOICES = (Voice("en-us", pitch=38, rate=165), Voice("en-us+f3", pitch=72, rate=175))
"""Agent (A): low US English voice; partner (B): higher female variant."""


def parse_script(text: str) -> list[ScriptTurn]:
    """Parse ``SPEAKER: text`` lines into turns.

    Args:
        text: the script (see the module docstring for the format).

    Returns:
        Turns in order, speakers mapped to ``"A"`` (first label, or literal ``A``) and
        ``"B"``.

    Raises:
        InputError: no turns, a first line with no label, more than two speakers, or a
            turn with nothing to say.
    """
    turns: list[list[str]] = []
    labels: dict[str, str] = {}
    for line_no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = _LABEL.match(line)
        if m and len(m.group(1).split()) <= 3:
            label = m.group(1).strip()
            key = label.casefold()
            if key not in labels:
                if len(labels) == 2:
                    raise InputError(f"script line {line_no}: a third speaker {label!r}; a conversation has two "
                                     f"({', '.join(labels)})")
                labels[key] = label
            turns.append([key, m.group(2).strip(), str(line_no)])
        elif turns:
            turns[-1][1] = f"{turns[-1][1]} {line}".strip()
        else:
            raise InputError(f"script line {line_no} has no speaker label; write lines like 'A: Hi, how are you?'")
    if not turns:
        raise InputError("the script has no turns; write lines like 'A: Hi, how are you?' and 'B: Fine, thanks.'")
    keys = list(labels)
    if set(keys) <= {"a", "b"}:
        mapping = {"a": "A", "b": "B"}
    else:
        mapping = {keys[0]: "A", **({keys[1]: "B"} if len(keys) > 1 else {})}
    out = []
    for key, said, line_no in turns:
        if not re.search(r"\w", said):
            raise InputError(f"script line {line_no}: speaker {labels[key]!r} says nothing")
        out.append(ScriptTurn(mapping[key], said))
    return out


def script_to_conversation(
    text: str,
    seed: int = 0,
    backchannels: bool = True,
    voices: Sequence[Voice] = DEFAULT_VOICES,
    gap_s: tuple[float, float] = (0.25, 0.75),
    lead_s: float = 0.5,
    fps: float = 25.0,
) -> tuple[ConversationAudio, list[Turn]]:
    """Synthesize a script as a two-track conversation.

    Args:
        text: the script, see :func:`parse_script`.
        seed: seeds pauses, speaking-rate jitter and backchannel choice.
        backchannels: let the listener add quiet backchannels to turns over 2.5 s.
        voices: ``(agent voice, partner voice)``.
        gap_s: range of the silent pause between turns (seconds).
        lead_s: silence before the first and after the last turn.
        fps: frame rate of the activity arrays.

    Returns:
        ``(conversation, turns)``: agent = A's voice, partner = B's voice, activity from
        the exact turn spans; ``turns`` lists every spoken stretch (backchannels too) as
        ``Turn(speaker, start_s, end_s, text)`` sorted by start.
    """
    if len(voices) != 2:
        raise InputError(f"script_to_conversation needs two voices (agent, partner), got {len(voices)}")
    script = parse_script(text)
    rng = np.random.default_rng(seed)
    voice_of = {"A": voices[0], "B": voices[1]}
    placed: list[tuple[Turn, np.ndarray]] = []
    cursor = lead_s
    for i, turn in enumerate(script):
        utt = _speak(turn.text, voice_of[turn.speaker], rng)
        wave, offset = _trim(utt.wave)
        start = cursor
        end = start + wave.shape[0] / SAMPLE_RATE
        placed.append((Turn(turn.speaker, start, end, turn.text), wave))
        if backchannels and end - start >= 2.5 and rng.random() < 0.7:
            listener = "B" if turn.speaker == "A" else "A"
            bc = _backchannel(utt, offset, start, end, voice_of[listener], listener, rng)
            if bc is not None:
                placed.append(bc)
        gap = rng.uniform(*gap_s)
        if turn.text.rstrip().endswith("?"):
            gap *= 0.7  # answers come quickly
        cursor = end + gap
    total = max(t.end for t, _ in placed) + lead_s
    n = int(np.ceil(total * SAMPLE_RATE))
    tracks = {"A": np.zeros(n, np.float32), "B": np.zeros(n, np.float32)}
    for turn, wave in placed:
        s = int(round(turn.start * SAMPLE_RATE))
        tracks[turn.speaker][s:s + wave.shape[0]] += wave[: n - s]
    turns = sorted((t for t, _ in placed), key=lambda t: t.start)
    frames = max(1, int(round(n / SAMPLE_RATE * fps)))
    conv = ConversationAudio(
        agent=np.clip(tracks["A"], -1.0, 1.0),
        partner=np.clip(tracks["B"], -1.0, 1.0),
        source=f"script ({len(script)} turns, seed {seed})",
        agent_activity=turns_activity(turns, "A", fps, frames),
        partner_activity=turns_activity(turns, "B", fps, frames),
        activity_fps=fps,
        notes=[f"synthesized with eSpeak NG: agent voice {voices[0].name} (pitch {voices[0].pitch}), "
               f"partner voice {voices[1].name} (pitch {voices[1].pitch})"],
    )
    return conv, turns


def turns_activity(turns: Sequence[Turn], speaker: str, fps: float, num_frames: int) -> np.ndarray:
    """Fraction of each frame ``[t / fps, (t + 1) / fps)`` covered by ``speaker``'s turns: ``[T]``."""
    act = np.zeros(num_frames, np.float64)
    for turn in turns:
        if turn.speaker != speaker:
            continue
        a, b = turn.start * fps, turn.end * fps
        first, last = int(np.floor(a)), min(int(np.ceil(b)), num_frames)
        for t in range(max(first, 0), last):
            act[t] += max(0.0, min(b, t + 1) - max(a, t))
    return np.clip(act, 0.0, 1.0).astype(np.float32)


def _speak(text: str, voice: Voice, rng: np.random.Generator) -> Utterance:
    rate = int(round(voice.rate * rng.uniform(0.93, 1.07)))
    return synthesize(text, voice=voice.name, rate=rate, pitch=voice.pitch, pitch_range=voice.pitch_range)


def _trim(wave: np.ndarray, rel: float = 0.01) -> tuple[np.ndarray, float]:
    """Cut leading/trailing silence; returns the wave and the seconds cut at the start."""
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    if peak == 0.0:
        raise InputError("eSpeak NG produced silence for a turn; check the text")
    loud = np.nonzero(np.abs(wave) > rel * peak)[0]
    pad = int(0.01 * SAMPLE_RATE)  # keep 10 ms so onsets are not clipped
    a, b = max(0, loud[0] - pad), min(wave.shape[0], loud[-1] + pad + 1)
    return wave[a:b].copy(), a / SAMPLE_RATE


def _backchannel(utt: Utterance, offset: float, start: float, end: float, voice: Voice, listener: str,
                 rng: np.random.Generator) -> Optional[tuple[Turn, np.ndarray]]:
    """A quiet backchannel by ``listener`` at a word boundary in the middle of a turn."""
    mids = [start + w.time - offset for w in utt.words if 0.35 < (w.time - offset) / (end - start) < 0.8]
    if not mids:
        return None
    at = float(rng.choice(mids))
    said = str(rng.choice(BACKCHANNELS))
    wave, _ = _trim(_speak(said, voice, rng).wave)
    wave *= 0.6  # listeners murmur
    if at + wave.shape[0] / SAMPLE_RATE > end + 0.3:
        return None
    return Turn(listener, at, at + wave.shape[0] / SAMPLE_RATE, said), wave

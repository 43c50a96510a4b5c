"""Turns and backchannels spoken by a real voice, for :func:`openinfp.data.timeline.speak_conversation`.

A :class:`RealSpeaker` plays the part eSpeak plays for synthetic voices: ``turn`` cuts one
utterance of its speaker from the pool (trimmed to its speech, long ones cut at a pause
so a turn lasts at most ``max_turn_s``), ``backchannel`` cuts a short burst of speech
(a word or two between pauses) from another of its utterances. The phone timings become
eSpeak-style events (:func:`openinfp.audio.phones.to_espeak_events`), so the turn-taking,
overlaps, interruptions, backchannels and all motion rules work on real audio unchanged.
"""

from __future__ import annotations

import numpy as np

from openinfp.audio.phones import PhoneSegment, to_espeak_events
from openinfp.data.real_speech import Utterance, cut, short_bursts

REAL_TEXT = "(real speech)"


def _last_pause_before(utt: Utterance, start: float, limit: float, min_pause: float = 0.2) -> float | None:
    """End of speech before the last pause of ``min_pause`` s that starts before ``limit``."""
    best = None
    for p in utt.phones:
        if p.is_silence and p.end - p.start >= min_pause and start + 2.0 < p.start < limit:
            best = p.start
    return best


def _speech_end(phones: list[PhoneSegment]) -> float:
    return max((p.end for p in phones if not p.is_silence), default=0.0)


class RealSpeaker:
    """One real speaker of the pool, speaking turns and backchannels.

    Args:
        speaker: speaker id in the pool.
        utterances: that speaker's utterances (at least one).
        loudness: target RMS of the speech (as for eSpeak voices).
        max_turn_s: longest turn; longer utterances are cut at a pause.
    """

    def __init__(self, speaker: str, utterances: list[Utterance], loudness: float, max_turn_s: float = 9.0) -> None:
        if not utterances:
            raise ValueError(f"speaker {speaker} has no utterances")
        self.speaker = speaker
        self.utterances = utterances
        self.loudness = loudness
        self.max_turn_s = max_turn_s
        self._bursts = [(u, b) for u in utterances for b in short_bursts(u)]

    def _finish(self, wave: np.ndarray,
                phones: list[PhoneSegment]) -> tuple[np.ndarray, list[tuple[float, str]], float]:
        from openinfp.data.timeline import _level

        return _level(wave, self.loudness), to_espeak_events(phones), _speech_end(phones)

    def turn(self, rng: np.random.Generator, first: bool, previous_question: bool
             ) -> tuple[str, np.ndarray, list[tuple[float, str]], float]:
        """(text, wave [N] float32 16 kHz, phoneme events (relative s), speech end s)."""
        utt = self.utterances[int(rng.integers(len(self.utterances)))]
        s0, s1 = utt.span
        start = max(0.0, s0 - 0.05)
        end = min(utt.duration, s1 + 0.05)
        if end - start > self.max_turn_s:
            # begin at a random pause so long readings give varied turns, end at a pause
            pauses = [p.end for p in utt.phones if p.is_silence and p.end - p.start >= 0.2
                      and s0 < p.end < s1 - self.max_turn_s]
            if pauses and rng.random() < 0.5:
                start = pauses[int(rng.integers(len(pauses)))] - 0.05
            stop = _last_pause_before(utt, start, start + self.max_turn_s)
            end = stop + 0.05 if stop is not None else start + self.max_turn_s
        wave, phones = cut(utt, start, end)
        text = utt.transcript if (utt.transcript and end >= s1) else REAL_TEXT
        return (text, *self._finish(wave, phones))

    def backchannel(self, rng: np.random.Generator) -> tuple[str, np.ndarray, list[tuple[float, str]], float]:
        """A short burst of this speaker's speech: (text, wave, phoneme events, speech end)."""
        if self._bursts:
            utt, (b0, b1) = self._bursts[int(rng.integers(len(self._bursts)))]
        else:
            utt = self.utterances[int(rng.integers(len(self.utterances)))]
            b0 = utt.span[0]
            b1 = min(b0 + 0.4, utt.span[1])
        wave, phones = cut(utt, max(0.0, b0 - 0.03), min(utt.duration, b1 + 0.03))
        return ("(real backchannel)", *self._finish(wave, phones))

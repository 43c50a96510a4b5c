"""Incremental viseme posteriors for live mode: each sample is decoded once.

Offline, the ``phonetic`` conditioner recognises every speech stretch of a track (its
activity > 0.5, padded by 0.2 s, stretches closer than 0.4 s merged) as one utterance
and rasterises the phones (:func:`~openinfp.conditioners.phonetic.viseme_posteriors`).
The previous live code re-ran that recognition on the re-encoded 0.7 s window at every
step: about 45 % of a step's cost, and each window's phones came from a 0.7 s utterance
with its own normalisation, unlike offline.

:class:`LiveTrackPhones` follows the same stretches as they arrive: a speech onset starts
an utterance of a :class:`~openinfp.audio.phones.StreamingPhoneRecognizer` 0.2 s before
it, new audio is fed as it comes while the speech lasts (up to 0.2 s past the last speech
frame), and 0.4 s of non-speech ends it. The posteriors of a window are the finished
utterances' phones plus the current utterance's best path so far, rasterised by the same
:func:`~openinfp.conditioners.phonetic.phones_to_posteriors` as offline.
"""

from __future__ import annotations

from collections import deque
from typing import Optional

import numpy as np

from openinfp.audio.phones import PhoneSegment, StreamingPhoneRecognizer
from openinfp.conditioners.phonetic import VisemeSource, phones_to_posteriors
from openinfp.core.audio import SAMPLE_RATE

PAD_S = 0.2
"""Audio decoded before a speech onset and after the last speech frame (as offline)."""

MAX_UTTERANCE_S = 30.0
"""A longer stretch of speech is cut into utterances of this length (bounded decoder memory)."""


class LiveTrackPhones:
    """The phones of one live track, utterance by utterance.

    Args:
        fps: frame rate of the activity and of the posteriors.
    """

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self.samples_per_frame = SAMPLE_RATE / fps
        self._rec = StreamingPhoneRecognizer()
        self._pad = int(round(PAD_S * SAMPLE_RATE))
        self._utt_start = 0  # absolute sample where the current utterance began
        self._covered = 0  # samples up to which speech has been taken into utterances
        self._last_speech = 0  # absolute sample after the newest speech frame
        self._done: deque[tuple[float, float, list[PhoneSegment]]] = deque()  # (start s, end s, phones)
        self._partial: list[PhoneSegment] = []

    def update(self, wave: np.ndarray, first_frame: int, activity: np.ndarray) -> None:
        """Take in a window: ``wave`` ``[N]`` from frame ``first_frame``, ``activity`` ``[T]``."""
        lo = int(round(first_frame * self.samples_per_frame))
        hi = lo + wave.shape[0]
        speech = np.flatnonzero(np.asarray(activity) > 0.5)
        if speech.size:
            newest = int(round((first_frame + speech[-1] + 1) * self.samples_per_frame))
            self._last_speech = max(self._last_speech, newest)
        rec = self._rec
        if not rec.in_utterance:
            onsets = first_frame + speech
            onsets = onsets[onsets * self.samples_per_frame >= self._covered]
            if onsets.size:
                start = max(lo, int(round(onsets[0] * self.samples_per_frame)) - self._pad, self._covered)
                rec.start()
                self._utt_start = start
        if rec.in_utterance:
            fed = self._utt_start + rec.samples_fed
            if fed < lo:  # the window skipped past unfed audio (a very long push): restart here
                self._finish()
                rec.start()
                self._utt_start = fed = lo
            target = min(hi, self._last_speech + self._pad)
            if target > fed:
                rec.feed(wave[fed - lo:target - lo])
            self._covered = max(self._covered, self._utt_start + rec.samples_fed)
            if hi >= self._last_speech + 2 * self._pad or rec.samples_fed >= MAX_UTTERANCE_S * SAMPLE_RATE:
                self._finish()
        self._partial = rec.segments() if rec.in_utterance else []

    def _finish(self) -> None:
        start = self._utt_start
        end = start + self._rec.samples_fed
        phones = self._rec.end()
        self._covered = max(self._covered, end)
        if phones:
            self._done.append((start / SAMPLE_RATE, end / SAMPLE_RATE, phones))

    def posteriors(self, first_frame: int, num_frames: int) -> np.ndarray:
        """``[num_frames, V]`` viseme occupancy of frames ``first_frame + [0, num_frames)``."""
        t0 = first_frame / self.fps
        while self._done and self._done[0][1] < t0 - 1.0:  # finished long before any window still asked for
            self._done.popleft()
        timed = [(start, phones) for start, end, phones in self._done if end > t0]
        if self._partial:
            timed.append((self._utt_start / SAMPLE_RATE, self._partial))
        return phones_to_posteriors(timed, num_frames, self.fps, first_frame)

    @property
    def utterances_kept(self) -> int:
        return len(self._done)


class LivePhonetic:
    """Both tracks' :class:`LiveTrackPhones`, as the ``visemes`` source of a
    :class:`~openinfp.conditioners.phonetic.PhoneticConditioner` window."""

    def __init__(self, fps: float) -> None:
        self.tracks = {"agent": LiveTrackPhones(fps), "partner": LiveTrackPhones(fps)}

    def source(self, first_frame: int) -> VisemeSource:
        """The ``visemes`` callback for a window starting at frame ``first_frame``."""
        def visemes(role: str, wave: np.ndarray, activity: Optional[np.ndarray], num_frames: int) -> np.ndarray:
            track = self.tracks[role]
            act = np.zeros(num_frames, np.float32) if activity is None else activity
            track.update(wave, first_frame, act)
            return track.posteriors(first_frame, num_frames)

        return visemes


class LiveVisemeNet:
    """Streaming source for the ``phonetic`` conditioner with ``visemes="net"``.

    Live windows re-encode only their newest frames; the learned classifier
    (:mod:`openinfp.audio.viseme_net`) needs :data:`~openinfp.audio.viseme_net.LEFT_CONTEXT`
    frames of past features. Each track's recent acoustic feature rows are kept by frame
    on the session clock, so a window's posteriors equal the offline ones wherever
    :data:`~openinfp.audio.viseme_net.LOOKAHEAD` frames of future audio have arrived (the
    newest frames are re-encoded by the next step, as all live tokens are).
    """

    def __init__(self) -> None:
        from openinfp.audio.viseme_net import IN_FEATURES

        self._rows = {role: np.zeros((0, IN_FEATURES), np.float32) for role in ("agent", "partner")}
        self._start = {"agent": 0, "partner": 0}  # session frame of each track's first kept row

    def posteriors(self, role: str, feats: np.ndarray, first_frame: int) -> np.ndarray:
        """``[T, 49]`` features of frames ``first_frame + [0, T)`` -> ``[T, V]`` posteriors."""
        from openinfp.audio.viseme_net import LEFT_CONTEXT, NUM_VISEMES, viseme_evidence

        rows, start = self._rows[role], self._start[role]
        if rows.shape[0] == 0 or first_frame < start or first_frame > start + rows.shape[0]:
            rows, start = rows[:0], first_frame  # first window or a gap: no usable history
        rows = np.concatenate([rows[:first_frame - start], np.asarray(feats, np.float32)])
        drop = max(0, first_frame - LEFT_CONTEXT - start)
        rows, start = rows[drop:], start + drop
        self._rows[role], self._start[role] = rows, start
        post = viseme_evidence(rows)[first_frame - start:, :NUM_VISEMES]
        return np.ascontiguousarray(post)

    def source(self, first_frame: int) -> VisemeSource:
        """The ``visemes`` callback (features in place of the wave) for a window at ``first_frame``."""
        def visemes(role: str, feats: np.ndarray, activity: Optional[np.ndarray], num_frames: int) -> np.ndarray:
            return self.posteriors(role, feats, first_frame)

        return visemes

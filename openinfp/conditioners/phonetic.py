"""The ``phonetic`` conditioner: voice-independent viseme posteriors of both tracks.

Each track is run through PocketSphinx phone recognition (:mod:`openinfp.audio.phones`,
weights shipped in the ``pocketsphinx`` wheel; only the stretches the speech-activity
column marks as speech, padded by 0.2 s, so silence costs nothing). Every recognised
phone is mapped to its viseme (:mod:`openinfp.data.visemes`, the same table the
synthetic lip rules use) and rasterised on 5 ms sub-frames, giving per frame the
fraction of time spent in each of the ``V = 15`` visemes (silence included): a hard
posterior, lightly smoothed over +-1 frame for coarticulation.

By default the posteriors are appended to the acoustic features of
:class:`~openinfp.conditioners.audio.AudioConditioner` and the tokens are named
``"audio"`` (``token_name``), so the motion guider reads them as its per-track input
without any change: ``[T, 49 + 15]`` per track with the default options. With
``acoustic=false`` only the ``[T, 15]`` posteriors are emitted.

Streaming: :class:`~openinfp.core.streaming.MotionStream` encodes each window's audio
(plus its context) with this conditioner, i.e. recognition runs chunk by chunk. Live
mode (:mod:`openinfp.live.phonetic`) instead passes ``visemes``: a streaming recogniser
that decodes each sample once, rasterised by the same :func:`phones_to_posteriors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterable, Optional, Sequence

import numpy as np
import torch

from openinfp.conditioners.options import (
    VISEME_SOURCES,
    AudioConditionerOptions,
    PhoneticConditionerOptions,
)
from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError
from openinfp.core.interfaces import ConditionInputs

if TYPE_CHECKING:  # pragma: no cover - typing only
    from openinfp.audio.phones import PhoneSegment

SUBFRAMES = 8

VisemeSource = Callable[[str, np.ndarray, Optional[np.ndarray], int], np.ndarray]
"""``(role, wave [N], activity [T] or None, T) -> [T, V]`` viseme posteriors of one track's window."""


def viseme_names() -> tuple[str, ...]:
    from openinfp.data.visemes import VISEMES

    return VISEMES


def _speech_chunks(activity: np.ndarray, fps: float, pad_s: float, num_samples: int) -> list[tuple[int, int]]:
    """Sample ranges of the speech stretches of ``activity`` (``[T]``), padded and merged."""
    idx = np.flatnonzero(activity > 0.5)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    spf = SAMPLE_RATE / fps
    out: list[tuple[int, int]] = []
    for s, e in zip(starts, ends):
        a = max(0, int((s / fps - pad_s) * SAMPLE_RATE))
        b = min(num_samples, int(e * spf + pad_s * SAMPLE_RATE))
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def viseme_posteriors(wave: np.ndarray, num_frames: int, fps: float = 25.0,
                      activity: np.ndarray | None = None, pad_s: float = 0.2) -> np.ndarray:
    """``[N]`` float32 16 kHz -> ``[num_frames, V]`` float32 viseme occupancy per frame.

    ``activity`` (``[num_frames]``, 1 = speech) limits recognition to speech stretches;
    without it the whole track is recognised. Rows sum to 1 (silence has its own column).
    """
    from openinfp.audio.phones import recognize_phones

    chunks = ([(0, len(wave))] if activity is None
              else _speech_chunks(np.asarray(activity), fps, pad_s, len(wave)))
    timed = [(a / SAMPLE_RATE, recognize_phones(np.asarray(wave[a:b], dtype=np.float32))) for a, b in chunks]
    return phones_to_posteriors(timed, num_frames, fps)


def phones_to_posteriors(timed_phones: Iterable[tuple[float, Sequence["PhoneSegment"]]], num_frames: int,
                         fps: float = 25.0, first_frame: int = 0) -> np.ndarray:
    """Recognised phones -> ``[num_frames, V]`` viseme occupancy of frames ``first_frame + [0, num_frames)``.

    ``timed_phones``: ``(offset_s, phones)`` pairs, each phone's times in seconds from
    ``offset_s`` (an utterance's start on the track's clock). Later pairs paint over
    earlier ones where they overlap. Shared by offline recognition and live mode
    (:mod:`openinfp.live.phonetic`), so both rasterise phones identically.
    """
    from openinfp.audio.phones import ARPABET_TO_ESPEAK
    from openinfp.data.signals import smooth
    from openinfp.data.visemes import SILENCE, VISEMES, viseme_index

    sil = VISEMES.index(SILENCE)
    grid = np.full(num_frames * SUBFRAMES, sil, dtype=np.int16)
    rate = fps * SUBFRAMES
    shift = first_frame * SUBFRAMES  # sub-frame index of the first output row on the track's clock
    for offset, phones in timed_phones:
        for p in phones:
            if p.is_silence:
                continue
            t0, t1 = offset + p.start, offset + p.end
            lo, hi = max(int(round(t0 * rate)) - shift, 0), int(round(t1 * rate)) - shift
            if hi > lo:
                grid[lo:hi] = viseme_index(ARPABET_TO_ESPEAK[p.phone])
    onehot = np.zeros((grid.size, len(VISEMES)), dtype=np.float32)
    onehot[np.arange(grid.size), grid] = 1.0
    post = onehot.reshape(num_frames, SUBFRAMES, len(VISEMES)).mean(axis=1)
    post = smooth(post, 3.0 / fps, fps)
    return (post / np.maximum(post.sum(axis=1, keepdims=True), 1e-6)).astype(np.float32)


class PhoneticConditioner:
    """Viseme posteriors (+ by default the acoustic features) of both participants' tracks.

    Attributes:
        name: the emitted token name (``options.token_name``, ``"audio"`` by default).
        feature_dim: width of each token set (64 with the defaults, 15 without ``acoustic``).
    """

    def __init__(self, options: PhoneticConditionerOptions | None = None) -> None:
        self.options = options or PhoneticConditionerOptions()
        if self.options.visemes not in VISEME_SOURCES:
            raise InputError(f"phonetic conditioner: visemes must be one of {VISEME_SOURCES}, "
                             f"got {self.options.visemes!r}")
        if self.options.visemes == "net" and self.options.n_mels != 40:
            raise InputError("phonetic conditioner: visemes='net' reads the 40-mel acoustic features (n_mels=40)")
        from openinfp.conditioners.audio import AudioConditioner

        self._acoustic = AudioConditioner(AudioConditionerOptions(n_mels=self.options.n_mels,
                                                                  activity=True))
        self.name = self.options.token_name
        nv = len(viseme_names())
        self.feature_dim = nv + (self._acoustic.feature_dim if self.options.acoustic else 0)
        self.feature_names = ((list(self._acoustic.feature_names) if self.options.acoustic else [])
                              + [f"viseme_{v}" for v in viseme_names()])

    def encode(self, inputs: ConditionInputs, num_frames: int,
               visemes: Optional[VisemeSource] = None) -> list[ConditionTokens]:
        """Two token sets ``[num_frames, feature_dim]`` (agent, partner); ``[]`` without audio.

        ``visemes`` replaces recognition of each track's window (live mode passes its
        streaming recogniser, :mod:`openinfp.live.phonetic`); default: :func:`viseme_posteriors`,
        or with ``options.visemes == "net"`` the learned classifier's posteriors read from the
        track's own acoustic features (:func:`openinfp.audio.viseme_net.viseme_evidence`;
        a ``visemes`` callback then receives those ``[T, 49]`` features in place of the wave).
        """
        if inputs.audio is None:
            return []
        acoustic = self._acoustic.encode(inputs, num_frames)
        act_col = self._acoustic.feature_names.index("activity")
        out = []
        for tok, wave in zip(acoustic, (inputs.audio.agent, inputs.audio.partner)):
            activity = tok.tokens[:, act_col].numpy() if act_col is not None else None
            if self.options.visemes == "net":
                post = self._net_posteriors(tok.role, tok.tokens.float().numpy(), activity, num_frames, visemes)
            else:
                post = (viseme_posteriors(wave, num_frames, float(inputs.fps), activity) if visemes is None
                        else visemes(tok.role, wave, activity, num_frames))
            feats = torch.from_numpy(post)
            if self.options.acoustic:
                feats = torch.cat([tok.tokens.float(), feats], dim=1)
            out.append(ConditionTokens(self.name, feats, kind="frame", mask=tok.mask, role=tok.role))
        return out

    @staticmethod
    def _net_posteriors(role: str, acoustic: np.ndarray, activity: Optional[np.ndarray], num_frames: int,
                        visemes: Optional[VisemeSource]) -> np.ndarray:
        """``[T, V]`` posteriors of the learned classifier from ``[T, 49]`` acoustic features."""
        from openinfp.audio.viseme_net import NUM_VISEMES, viseme_evidence

        if visemes is not None:  # streaming: the caller keeps the feature history (exact left context)
            return visemes(role, acoustic, activity, num_frames)
        return np.ascontiguousarray(viseme_evidence(acoustic)[:, :NUM_VISEMES])

"""Causal motion for live use: a few frames at a time, with a short look-ahead.

The offline sampler (:func:`openinfp.core.sampling.sample_chained`) and
:class:`~openinfp.core.streaming.MotionStream` produce whole DiT windows (2 s at the
default 50 frames), so the first frame waits for 2 s of audio. Here every step samples
one full window, exactly as the model was trained to see it (the ``C`` emitted frames
before its start as context, guider features of the context span and the window), with
the newest audio, and emits the ``chunk_frames`` frames now due from it. By default each
window starts at the next frame to emit (``context_hop`` can hold the start for a few
chunks, :meth:`CausalMotionStream._move_anchor`). This is the model's own context
hand-over applied at a finer hop, so no separate streaming model is needed.

The conditioner sees the audio up to ``now`` (the newest sample); the window's frames
past it (most of the window) stand in for a future nobody has heard yet, and are
conditioned on the recent frames' tokens mirrored back from the newest one
(``CausalSettings.future="mirror"``): holding the newest frame's guider features there
instead (``"hold"``) showed the model 1.8 s of a frozen sound and made the live listener
move 23 % more than offline. A frame is emitted once audio ``lookahead_frames`` past its
end has arrived.

Several things keep each step cheap and close to offline: the conditioner's frame tokens
are cached and only the newest ``FRESH_FRAMES`` (plus a warm-up) are re-encoded per
step; each track's loud level (:class:`RunningLoudLevel`) and median pitch
(:class:`RunningPitch`), which offline measures over the whole track, are running
values over the session rather than the short window's; speech activity is computed
once per sample (:mod:`openinfp.live.activity`) and so is phone recognition
(:mod:`openinfp.live.phonetic`, wired in by the session).

Latency of a frame (compute excluded) is at most ``(chunk_frames + lookahead_frames)
/ fps``: 240 ms for the defaults (4 + 2 frames at 25 fps); the first frame waits only
for ``1 + lookahead_frames`` frames of audio.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import torch

from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.behaviour import split_behaviour
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import InputError
from openinfp.core.generator import MotionGenerator
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_space import MotionSpace
from openinfp.core.sampling import pad_frames
from openinfp.core.streaming import audio_chunks
from openinfp.live.activity import StreamingActivity
from openinfp.live.levels import RunningLoudLevel, RunningPitch
from openinfp.live.settings import CausalSettings

EncodeAudio = Callable[[ConversationAudio, int, Optional[dict], Optional[int]], list[ConditionTokens]]
"""``(audio, num_frames, loud_db, first_frame) -> frame tokens`` of the audio conditioners (both
tracks). ``first_frame``: the window's first frame on the session clock, for conditioners
that keep streaming state (:mod:`openinfp.live.phonetic`); ``None``: a one-off window."""

FRESH_FRAMES = 5
"""Frames before the newest chunk that are re-encoded each step (they gain right context)."""

WARM_FRAMES = 6
"""Audio frames encoded before the fresh ones and thrown away (voice activity and pitch
trackers need some past signal)."""

FIRST_STEP_FRAMES = 1
"""Frames emitted by the very first step (the first picture after 1 + look-ahead frames)."""

def _mirror_on(rows: torch.Tensor, ahead: int) -> torch.Tensor:
    """``rows`` ``[T, F]`` continued by ``ahead`` rows mirrored back from the end
    (``T-1, T-2, ..., 0, 0, 1, ...``: a reflection, repeated if ``ahead > T``)."""
    if ahead <= 0 or rows.shape[0] == 0:
        return rows
    t = rows.shape[0]
    j = torch.arange(ahead) % (2 * t)
    idx = torch.where(j < t, t - 1 - j, j - t)
    return torch.cat([rows, rows[idx]])


def _pose_channels(space: MotionSpace) -> torch.Tensor:
    """``[D]`` bool: the channels outside the motion space's ``"face"`` group (all if it has none)."""
    face = dict(space.groups).get("face", ())
    return ~space.mask(face)


class CausalMotionStream:
    """Motion for two live audio tracks, ``chunk_frames`` frames at a time.

    Args:
        generator: a loaded :class:`MotionGenerator` (its sampler settings are used).
        encode_audio: the frame conditioners of the model (both tracks -> tokens).
        style: global tokens (text prompt, style image), fixed for the session.
        settings: chunk size and look-ahead.
        seed: noise seed; the same audio pushed the same way gives the same motion.
        pitch_columns: token name -> ``(log_f0, rel_f0)`` column indices of frame tokens
            that carry pitch; their ``rel_f0`` is re-referenced to the track's running
            median (:class:`RunningPitch`) instead of the window's.
    """

    def __init__(self, generator: MotionGenerator, encode_audio: EncodeAudio,
                 style: Sequence[ConditionTokens] = (), settings: CausalSettings = CausalSettings(),
                 seed: int = 0, pitch_columns: Optional[dict[str, tuple[int, int]]] = None) -> None:
        if any(s.kind != "global" for s in style):
            raise InputError("live style tokens must be global (text prompt or style image)")
        self.generator = generator
        self.encode_audio = encode_audio
        # the prompt's explicit behaviour control is applied to the motion, causally, like offline
        self.style, behaviour = split_behaviour(list(style))
        self._behaviour = generator.behaviour_control(behaviour)
        self.settings = settings
        self.fps = generator.fps
        self.samples_per_frame = SAMPLE_RATE / self.fps
        cfg = generator.dit.config
        self.window, self.context = cfg.window, cfg.context
        self._radius = generator.guider.receptive_radius  # guider frames needed on each side
        self._fresh = FRESH_FRAMES + settings.chunk_frames + settings.lookahead_frames
        self._sampler = generator.window_sampler(seed, settings.sampler_steps)
        # the offline speed limits, applied causally: chunks are limited like one sequence
        self._limiter = generator.motion_limiter()
        self._levels = {"agent": RunningLoudLevel(), "partner": RunningLoudLevel()}
        self._activity = StreamingActivity(self.fps)  # both people's speech activity, causal
        self._pitch_columns = dict(pitch_columns or {})
        self._pitch = {"agent": RunningPitch(), "partner": RunningPitch()}
        self._pitch_settled = 0  # frames whose pitch went into self._pitch
        self._agent = np.zeros(0, np.float32)
        self._partner = np.zeros(0, np.float32)
        self._offset = 0  # samples dropped from the front of the audio buffers
        self._samples = 0  # samples pushed in total
        self._done = 0  # frames emitted
        self._history: Optional[torch.Tensor] = None  # [1, <=C+hop, D] last emitted normalised frames
        self._anchor = 0  # absolute frame where the current windows start (<= self._done)
        self._noise = torch.zeros(1, 0, generator.dit.motion_dim)  # per-frame starting noise
        self._noise_start = 0  # absolute frame of self._noise[:, 0]
        self._previous: Optional[torch.Tensor] = None  # [1, N, D] the last sampled window
        self._previous_step = 0  # frames emitted from it
        self._blended = _pose_channels(generator.space)  # [D] bool: channels cross-faded at seams
        self._tokens: list[tuple[ConditionTokens, torch.Tensor]] = []  # (template, rows [T, F])
        self._tok_start = 0  # absolute frame of the first cached token row
        self._tok_end = 0  # frames with cached tokens: [tok_start, tok_end)

    @property
    def frames_emitted(self) -> int:
        return self._done

    @property
    def seconds_received(self) -> float:
        return self._samples / SAMPLE_RATE

    @property
    def algorithmic_latency_s(self) -> float:
        """Worst-case delay from an audio sample to its frame, compute excluded."""
        return (self.settings.chunk_frames + self.settings.lookahead_frames) / self.fps

    def warm_up(self) -> None:
        """Run every stage once on a second of silence, so the first real chunk does not
        pay for lazy imports and first-call allocations; the stream state and the noise
        sequence are left as they were."""
        frames = int(self.fps)
        silence = np.zeros(int(round(frames * self.samples_per_frame)), np.float32)
        with torch.no_grad():
            tokens = self.encode_audio(ConversationAudio(silence, silence, source="warm-up"), frames, None, None)
            self._activity.warm_up()
            out = self.generator.guide(self.generator.guider.prepare(list(tokens) + self.style, frames))
            cond = pad_frames(out.features, 0, self.context + self.window - frames)
            rng = self._sampler.generator
            state = rng.get_state()
            self._sampler.window(cond, None)
            rng.set_state(state)

    def push(self, agent: np.ndarray, partner: np.ndarray) -> Optional[MotionSequence]:
        """Add a chunk of both tracks (mono float32 at 16 kHz, equal length).

        Returns:
            The frames now due (``[k, D]``, ``k`` a multiple of ``chunk_frames``), or ``None``.
        """
        agent, partner = audio_chunks(agent, partner)
        self._agent = np.concatenate([self._agent, agent])
        self._partner = np.concatenate([self._partner, partner])
        self._activity.push(agent, partner)
        self._levels["agent"].update(agent)
        self._levels["partner"].update(partner)
        self._samples += agent.shape[0]
        arrived = int(self._samples // self.samples_per_frame)  # frames whose audio is complete
        rows, logits = [], []
        with torch.no_grad():
            while self._done + self._step() + self.settings.lookahead_frames <= arrived:
                step = self._step()
                self._encode(arrived)
                window, speaking = self._window(arrived)
                emitted = self._blend(window[:, :step])
                self._previous, self._previous_step = window, step
                rows.append(emitted[0])
                logits.append(speaking[0, :step])
                self._remember(emitted)
                self._done += step
                self._trim(arrived)
        if not rows:
            return None
        return self.generator.to_motion(torch.cat(rows), torch.cat(logits), self._limiter, self._behaviour)

    def _encode(self, arrived: int) -> None:
        """Bring the token cache up to ``arrived``, re-encoding the newest frames."""
        if self._tok_end >= arrived and self._tokens:
            return
        write_from = max(0, min(arrived - self._fresh, self._tok_end))
        enc_lo = max(0, write_from - WARM_FRAMES, self._offset_frames())
        loud = {role: level.level_db() for role, level in self._levels.items()}
        loud = {role: db for role, db in loud.items() if db is not None} or None
        audio = self._audio(enc_lo, arrived)
        act_a, act_p = self._activity.window(enc_lo, audio.agent, audio.partner)
        audio = ConversationAudio(audio.agent, audio.partner, source="live", agent_activity=act_a,
                                  partner_activity=act_p, activity_fps=self.fps)
        tokens = self.encode_audio(audio, arrived - enc_lo, loud, enc_lo)
        if not self._tokens:
            self._tokens = [(t, t.tokens[:0]) for t in tokens]
            self._tok_start = self._tok_end = enc_lo
            write_from = enc_lo
        keep = write_from - self._tok_start
        self._settle_pitch(write_from)
        self._tokens = [(template, torch.cat([rows[:keep],
                                              self._rereference(template, new.tokens[write_from - enc_lo:])]))
                        for (template, rows), new in zip(self._tokens, tokens)]
        self._tok_end = arrived

    def _settle_pitch(self, upto: int) -> None:
        """Feed the pitch of cached frames before ``upto`` (final from now on) to the running medians."""
        lo = max(self._pitch_settled, self._tok_start)
        if upto <= lo:
            return
        seen: set[str] = set()
        for template, rows in self._tokens:
            cols = self._pitch_columns.get(template.name)
            if cols is None or template.role in seen or template.role not in self._pitch:
                continue
            seen.add(template.role)  # one conditioner's pitch per track
            self._pitch[template.role].update(rows[lo - self._tok_start:upto - self._tok_start, cols[0]].numpy())
        self._pitch_settled = upto

    def _rereference(self, template: ConditionTokens, rows: torch.Tensor) -> torch.Tensor:
        """``rows`` ``[k, F]`` with ``rel_f0`` against the track's running median pitch.

        On a frame's voiced part ``rel_f0 = log_f0 - log2(median / 200 Hz)`` exactly (both
        are voiced-weighted means of the same cells), so the column can be recomputed.
        """
        cols = self._pitch_columns.get(template.name)
        median = self._pitch[template.role].median() if cols is not None and template.role in self._pitch else None
        if median is None:
            return rows
        log_f0 = rows[:, cols[0]]
        rows = rows.clone()
        rows[:, cols[1]] = torch.where(log_f0 != 0, log_f0 - median, torch.zeros_like(log_f0))
        return rows

    def _window(self, arrived: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample one window from the current start (:meth:`_move_anchor`) and return its
        frames from the next frame to emit on: ``[1, N - k, D]`` (``k`` frames of it were
        emitted before), and the speaking logits of the next ``N`` frames ``[1, N, 2]``."""
        start, c, n = self._move_anchor(), self.context, self.window
        g_lo = max(self._tok_start, start - c - self._radius, 0)
        frames = arrived - g_lo
        ahead = max(0, start + n - arrived) if self.settings.future == "mirror" else 0
        tokens = [ConditionTokens(t.name, _mirror_on(rows[g_lo - self._tok_start:], ahead), kind="frame", role=t.role)
                  for t, rows in self._tokens]
        frames += ahead
        inputs = self.generator.guider.prepare(tokens + self.style, frames)
        out = self.generator.guide(inputs)
        # features of frames [start - c, start + n), edge-replicated before 0 and past `arrived`
        lo, hi = start - c - g_lo, start + n - g_lo
        piece = out.features[:, max(lo, 0):min(hi, frames)]
        cond = pad_frames(piece, max(0, -lo), max(0, hi - frames))
        done = self._done
        speaking = out.speaking_logits[:, done - g_lo:min(hi, frames)]
        speaking = pad_frames(speaking, 0, n - speaking.shape[1])
        k = done - start  # frames of the window already emitted
        have = self._history.shape[1] if self._history is not None else 0
        context = self._history[:, have - k - c:have - k] if c and have >= k + c else None
        return self._sampler.window(cond, context, self._frame_noise(start, n))[:, k:], speaking

    def _move_anchor(self) -> int:
        """Where the next window starts: the frame to emit next, or, until
        ``context_hop`` frames have been emitted since, the start of the windows before.

        Every window is conditioned on the emitted frames before its start. Moving the
        start with every 4-frame chunk feeds the model's own output back ten times as
        often as offline (40-frame hops), and small biases build up: on the real talking
        videos the live talker smiles in 21 % of frames against 8 % offline, also when
        the window is given the true future audio (so it is the hop, not the look-ahead).
        A hop of 8 brings that to 6 %, but costs listening nods (docs/PIPELINE.md).
        """
        if self._done - self._anchor >= self.settings.context_hop:
            self._anchor = self._done
        return self._anchor

    def _frame_noise(self, start: int, n: int) -> torch.Tensor:
        """Starting noise ``[1, n, D]`` of frames ``[start, start + n)``, one draw per absolute frame.

        Consecutive windows overlap in all but ``chunk_frames`` frames; giving a frame the
        same noise in every window that covers it makes the deterministic sampler land
        on nearly the same motion for it each time, instead of a fresh sample every
        step (which showed as jitter: 2.6x the nods of offline motion).
        """
        have = self._noise_start + self._noise.shape[1]
        if have < start + n:
            fresh = torch.randn((1, start + n - have, self._noise.shape[2]), generator=self._sampler.generator,
                                device=self._sampler.generator.device)
            self._noise = torch.cat([self._noise, fresh], dim=1)
        cut = start - self._noise_start
        if cut > 0:
            self._noise, self._noise_start = self._noise[:, cut:], start
        return self._noise[:, :n]

    def _step(self) -> int:
        """Frames the next step emits: the first frame alone (so the first picture does
        not wait for a whole chunk of audio), then ``chunk_frames`` at a time."""
        return FIRST_STEP_FRAMES if self._done == 0 else self.settings.chunk_frames

    def _blend(self, new: torch.Tensor) -> torch.Tensor:
        """Cross-fade a chunk ``[1, k, D]`` from the previous window's guess of the same frames.

        Each window is a fresh sample, so its first frame can sit apart from the frame
        emitted just before (measured on a real conversation: head steps across chunk
        seams 2.3x those inside chunks). The previous window also covered these frames;
        weights rising over the chunk (k = 4: 0.2, 0.4, 0.6, 0.8 for the new window) make
        the seam continuous while the newest audio takes over within the chunk.

        Only the pose channels are cross-faded (:attr:`_blended`): the face group
        (jaw, blinks, mouth shapes) takes the newest window as it is. Averaging two
        guesses that disagree on when a blink or a syllable falls flattens both
        (measured on the real talking videos: blinks 2.6 vs 6.3 per minute, lip-sync r
        0.151 vs 0.180 with the face left out), and the face's steps across seams are
        bounded by the motion limiter anyway.
        """
        step, hop = new.shape[1], self._previous_step  # hop: how far the previous window started before
        previous = self._previous
        if previous is None or previous.shape[1] < hop + step:
            return new
        guess = previous[:, hop:hop + step]
        w = torch.arange(1, step + 1, dtype=new.dtype).div(step + 1).view(1, step, 1)
        return torch.where(self._blended, guess + w * (new - guess), new)

    def _remember(self, emitted: torch.Tensor) -> None:
        """Keep the last ``C + context_hop`` emitted normalised frames (the context of
        windows that start up to ``context_hop`` frames back)."""
        if self.context == 0:
            return
        joined = emitted if self._history is None else torch.cat([self._history, emitted], dim=1)
        self._history = joined[:, -(self.context + self.settings.context_hop):]

    def _offset_frames(self) -> int:
        return int(np.ceil(self._offset / self.samples_per_frame - 1e-9))

    def _audio(self, lo_frame: int, hi_frame: int) -> ConversationAudio:
        a = int(round(lo_frame * self.samples_per_frame)) - self._offset
        b = int(round(hi_frame * self.samples_per_frame)) - self._offset
        if a < 0:
            raise RuntimeError("live audio buffer trimmed too early")  # internal invariant
        return ConversationAudio(self._agent[a:b].copy(), self._partner[a:b].copy(), source="live")

    def _trim(self, arrived: int) -> None:
        """Drop audio and tokens no later step needs (bounded memory for any length)."""
        keep_audio = max(0, arrived - self._fresh - WARM_FRAMES)
        drop = int(round(keep_audio * self.samples_per_frame)) - self._offset
        if drop > 0:
            self._agent, self._partner = self._agent[drop:], self._partner[drop:]
            self._offset += drop
            self._activity.trim(keep_audio)
        keep_tokens = max(self._tok_start, self._anchor - self.context - self._radius)
        cut = keep_tokens - self._tok_start
        if cut > 0:
            self._tokens = [(t, rows[cut:]) for t, rows in self._tokens]
            self._tok_start = keep_tokens

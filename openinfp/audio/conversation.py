"""Input audio -> :class:`~openinfp.core.audio.ConversationAudio` (agent and partner tracks).

Ways in (``load_conversation``):

* a **stereo** file: one person per channel, ``agent_channel`` (left by default) is the
  agent. Files with more than two channels use the first two (the note says so). A
  stereo file whose channels are identical is a mono file in disguise and is treated
  as one.
* **two files** (agent, partner): each is downmixed to mono; the shorter is padded with
  silence at the end (noted).
* one **mono** file: the agent only (a plain talking head), or with
  ``partner_only`` the partner only (pure listening), or with ``mono_mix`` a mix of
  both people, diarized into two tracks (``speakers``: how many voices, 2 by default,
  or ``auto``); ``agent_speaker`` picks which voice is the agent (``first`` to speak,
  ``second``, ``most`` or ``least`` talk time); the partner track carries the others.

Per-frame speech activity of both people (at ``fps``, 25 by default) is always filled
in. With two tracks it comes from :func:`~openinfp.audio.activity.two_track_activity`,
which discounts cross-talk bleed between microphones; for a mix, from the diarization.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from openinfp.audio.activity import resample_steps, speech_activity, two_track_activity
from openinfp.audio.config import AudioConfig
from openinfp.audio.io import AudioClip, load_audio_resampled, resample
from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.config import field_choices
from openinfp.core.errors import ConfigError, InputError
from openinfp.core.io import PathLike

SILENCE_PEAK = 10 ** (-80 / 20)
"""A track whose peak is below -80 dBFS counts as silent."""


def load_conversation(
    agent_path: PathLike,
    partner_path: Optional[PathLike] = None,
    config: Optional[AudioConfig] = None,
    fps: float = 25.0,
) -> ConversationAudio:
    """Read one or two files into both participants' 16 kHz tracks plus speech activity.

    Args:
        agent_path: the agent's file; or a stereo file (both people); or a mono file
            (agent only, partner only or a mix, per ``config``).
        partner_path: the partner's file, when the two people are in separate files.
        config: channel/speaker choices and the duration limit (defaults: left
            channel is the agent, mono = agent only, 7200 s limit).
        fps: motion frame rate of ``agent_activity`` / ``partner_activity``.

    Returns:
        A :class:`ConversationAudio` with ``agent_activity`` and ``partner_activity``
        ``[T]`` (``T = round(duration * fps)``) and ``notes`` on any handling.

    Raises:
        InputError: unreadable/corrupt/empty file, NaN samples, over the length limit,
            all tracks silent, no speech in a mix.
        ConfigError: contradictory options (e.g. ``partner_only`` with two files).
    """
    cfg = config or AudioConfig()
    _check_config(cfg)
    if partner_path is not None:
        if cfg.partner_only or cfg.mono_mix:
            flag = "partner_only" if cfg.partner_only else "mono_mix"
            raise ConfigError(f"audio.{flag} applies to a single mono file, but two files were given "
                              f"({agent_path}, {partner_path})")
        return _from_two_files(agent_path, partner_path, cfg, fps)
    clip = load_audio_resampled(agent_path, SAMPLE_RATE, max_duration_s=cfg.max_duration_s)
    notes = list(clip.notes)
    name = Path(str(agent_path)).name
    identical = clip.num_channels == 2 and _channels_identical(clip.wave)
    if identical:
        notes.append(f"both channels of {name} are identical: treated as a mono file")
    if clip.num_channels >= 2 and not identical:
        if cfg.partner_only:
            raise ConfigError(f"audio.partner_only is for a mono file, but {name} has {clip.num_channels} channels "
                              "(each channel is one person); drop --partner-only or pass a mono file")
        if not cfg.mono_mix:
            return _from_stereo(clip, cfg, fps, notes)
    wave, more = to_mono16k(clip)
    notes += more
    if np.abs(wave).max() < SILENCE_PEAK:
        raise InputError(f"{clip.path} is silent (peak below -80 dBFS); there is nobody to listen to")
    if cfg.mono_mix:
        return _from_mix(wave, clip.path, cfg, fps, notes)
    zeros = np.zeros_like(wave)
    n_frames = max(1, int(round(wave.shape[0] / SAMPLE_RATE * fps)))
    act = speech_activity(wave, fps, n_frames)
    quiet = np.zeros(n_frames, np.float32)
    if cfg.partner_only:
        return ConversationAudio(zeros, wave, source=f"{name} (partner only)", agent_activity=quiet,
                                 partner_activity=act, activity_fps=fps, notes=notes)
    return ConversationAudio(wave, zeros, source=f"{name} (agent only)", agent_activity=act,
                             partner_activity=quiet, activity_fps=fps, notes=notes)


def to_mono16k(clip: AudioClip) -> tuple[np.ndarray, list[str]]:
    """Downmix (mean of channels) and resample to 16 kHz: ``([N], notes)``."""
    notes: list[str] = []
    wave = clip.wave
    if wave.ndim == 2:
        if wave.shape[1] == 2 and _channels_identical(wave):
            wave = wave[:, 0]
        else:
            notes.append(f"{Path(clip.path).name}: {wave.shape[1]} channels mixed down to mono")
            wave = wave.mean(axis=1)
    if clip.sample_rate == SAMPLE_RATE:
        return wave, notes  # already 16 kHz: no copy (nothing downstream writes into it)
    return resample(wave, clip.sample_rate, SAMPLE_RATE), notes


def _check_config(cfg: AudioConfig) -> None:
    for name in ("agent_channel", "agent_speaker"):
        value, choices = getattr(cfg, name), field_choices(AudioConfig, name)
        if value not in choices:
            raise ConfigError(f"audio.{name} is {value!r}; valid choices: {', '.join(choices)}")
    if cfg.partner_only and cfg.mono_mix:
        raise ConfigError("audio.partner_only and audio.mono_mix exclude each other: a mix holds both people")
    if cfg.mono_mix:
        from openinfp.audio.config import parse_speakers

        parse_speakers(cfg.speakers, "audio.speakers")
    if cfg.max_duration_s <= 0:
        raise ConfigError(f"audio.max_duration_s must be positive, got {cfg.max_duration_s}")


def _channels_identical(wave2: np.ndarray) -> bool:
    """Both channels carry the same signal (a mono recording stored as stereo)."""
    block = 1 << 20  # in blocks: no full-length temporaries for long files
    scale, diff = 1e-9, 0.0
    for i in range(0, wave2.shape[0], block):
        part = wave2[i:i + block, :2]
        scale = max(scale, float(np.abs(part).max()))
        diff = max(diff, float(np.abs(part[:, 0] - part[:, 1]).max()))
    return diff <= 1e-3 * scale


def _from_stereo(clip: AudioClip, cfg: AudioConfig, fps: float, notes: list[str]) -> ConversationAudio:
    name = Path(clip.path).name
    if clip.num_channels > 2:
        notes.append(f"{name} has {clip.num_channels} channels; used channel 1 (left) and 2 (right), "
                     f"ignored channels 3-{clip.num_channels}")
    # The clip is at 16 kHz with each channel contiguous: the tracks are views, not copies.
    left, right = clip.wave[:, 0], clip.wave[:, 1]
    agent, partner = (left, right) if cfg.agent_channel == "left" else (right, left)
    other = "right" if cfg.agent_channel == "left" else "left"
    source = f"{name} (agent = {cfg.agent_channel} channel, partner = {other})"
    return _two_tracks(agent, partner, source, fps, notes, (f"{cfg.agent_channel} channel", f"{other} channel"),
                       clip.path)


def _from_two_files(agent_path: PathLike, partner_path: PathLike, cfg: AudioConfig, fps: float) -> ConversationAudio:
    clips = [load_audio_resampled(p, SAMPLE_RATE, max_duration_s=cfg.max_duration_s)
             for p in (agent_path, partner_path)]
    notes: list[str] = []
    waves = []
    for clip in clips:
        notes += clip.notes
        wave, more = to_mono16k(clip)
        notes += more
        waves.append(wave)
    agent, partner = waves
    if agent.shape[0] != partner.shape[0]:
        short, long_ = ("agent", "partner") if agent.shape[0] < partner.shape[0] else ("partner", "agent")
        diff = abs(agent.shape[0] - partner.shape[0]) / SAMPLE_RATE
        notes.append(f"the {short} file is {diff:.2f} s shorter than the {long_} file; padded with silence at the end")
        n = max(agent.shape[0], partner.shape[0])
        agent = np.pad(agent, (0, n - agent.shape[0]))
        partner = np.pad(partner, (0, n - partner.shape[0]))
    source = f"{Path(str(agent_path)).name} (agent) + {Path(str(partner_path)).name} (partner)"
    return _two_tracks(agent, partner, source, fps, notes, ("agent file", "partner file"),
                       f"{agent_path} and {partner_path}")


def _two_tracks(agent: np.ndarray, partner: np.ndarray, source: str, fps: float, notes: list[str],
                labels: tuple[str, str], where: str) -> ConversationAudio:
    peaks = (float(np.abs(agent).max()), float(np.abs(partner).max()))
    if max(peaks) < SILENCE_PEAK:
        raise InputError(f"{where}: both tracks are silent (peak below -80 dBFS); there is nobody to listen to")
    for label, peak in zip(labels, peaks):
        if peak < SILENCE_PEAK:
            notes.append(f"the {label} is silent")
    act_a, act_p, info = two_track_activity(agent, partner, fps)
    for key, label in (("bleed_b_in_a_db", labels[0]), ("bleed_a_in_b_db", labels[1])):
        if info[key] > -40:
            notes.append(f"the {label} hears the other person at about {info[key]:.0f} dB (cross-talk); "
                         "speech activity uses the dominant channel")
    return ConversationAudio(agent, partner, source=source, agent_activity=act_a, partner_activity=act_p,
                             activity_fps=fps, notes=notes)


def _from_mix(wave: np.ndarray, path: str, cfg: AudioConfig, fps: float, notes: list[str]) -> ConversationAudio:
    """Diarize a mono mix; the agent track carries the agent's speech, the partner track everyone else's.

    Where people talk at once, both tracks carry the mix (both are active).
    """
    from openinfp.audio.config import parse_speakers
    from openinfp.audio.diarize import GRID_FPS, DiarizationOptions, diarize_frames

    name = Path(path).name
    result = diarize_frames(wave, DiarizationOptions(num_speakers=parse_speakers(cfg.speakers, "audio.speakers")))
    notes += [f"diarization: {n}" for n in result.notes]
    if result.num_speakers == 0:
        raise InputError(f"{path}: no speech found in the mix, so there is no one to diarize")
    talk = [result.talk_time(k) for k in range(result.num_speakers)]
    choice = cfg.agent_speaker
    if choice == "first":
        agent_spk = 0
    elif choice == "second":
        agent_spk = min(1, result.num_speakers - 1)
    else:
        agent_spk = int(np.argmax(talk)) if choice == "most" else int(np.argmin(talk))
    if result.num_speakers == 1:
        notes.append(f"the mix holds one voice; with agent_speaker={choice} it is the agent and the partner "
                     "track is silent")
    elif result.num_speakers > 2:
        notes.append(f"the mix holds {result.num_speakers} voices; the partner track carries all but the agent's")
    n_frames = max(1, int(round(wave.shape[0] / SAMPLE_RATE * fps)))
    agent_mask = result.activity_matrix[:, agent_spk]
    others = np.delete(result.activity_matrix, agent_spk, axis=1)
    partner_mask = others.any(axis=1) if others.shape[1] else np.zeros_like(agent_mask)
    tracks = [(wave * _sample_mask(m, GRID_FPS, wave.shape[0])).astype(np.float32) for m in (agent_mask, partner_mask)]
    source = f"{name} (mono mix diarized; agent = {choice} speaker)"
    both = float((agent_mask & partner_mask).sum()) / GRID_FPS
    notes.append(f"diarized into two tracks: agent {agent_mask.sum() / GRID_FPS:.1f} s, "
                 f"partner {partner_mask.sum() / GRID_FPS:.1f} s of speech ({both:.1f} s overlapped)")
    return ConversationAudio(tracks[0], tracks[1], source=source,
                             agent_activity=resample_steps(agent_mask.astype(np.float32), GRID_FPS, fps, n_frames),
                             partner_activity=resample_steps(partner_mask.astype(np.float32), GRID_FPS, fps, n_frames),
                             activity_fps=fps, notes=notes)


def _sample_mask(frames: np.ndarray, grid_fps: float, num_samples: int, fade_s: float = 0.01) -> np.ndarray:
    """Frame mask on the diarization grid -> ``[N]`` sample gain with 10 ms linear fades."""
    hop = int(round(SAMPLE_RATE / grid_fps))
    gain = np.repeat(frames.astype(np.float32), hop)[:num_samples]
    gain = np.pad(gain, (0, num_samples - gain.shape[0]))
    width = max(1, int(fade_s * SAMPLE_RATE))
    kernel = np.ones(width, np.float32) / width
    return np.convolve(gain, kernel, mode="same")

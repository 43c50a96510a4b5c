"""CLI commands of the audio stage: ``diarize``, ``tracks`` and ``speak``.

``add_*`` functions import nothing heavy (``openinfp --help`` stays fast); ``run_*``
raise :class:`~openinfp.core.errors.OpenInfpError` subclasses for user errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openinfp.cli_options import add_quiet


def add_audio_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``AudioConfig`` flags (``--agent-channel``, ``--agent-speaker``, ``--partner-only``,
    ``--mono-mix``, ``--max-duration``), for any command that reads a conversation."""
    g = parser.add_argument_group("audio input")
    g.add_argument("--agent-channel", choices=("left", "right"), default=None,
                   help="stereo input: which channel is the agent's own voice (default: left)")
    g.add_argument("--agent-speaker", choices=("first", "second", "most", "least"), default=None,
                   help="with --mono-mix: which diarized voice is the agent (default: first to speak)")
    g.add_argument("--partner-only", action="store_true",
                   help="a mono file is the partner only (the agent just listens)")
    g.add_argument("--mono-mix", action="store_true",
                   help="a mono file holds both people: diarize it into agent and partner tracks")
    g.add_argument("--max-duration", type=float, default=None, metavar="SECONDS",
                   help="refuse longer audio (default: 7200)")


def audio_config_from_args(args: argparse.Namespace):
    """An :class:`~openinfp.audio.config.AudioConfig` from :func:`add_audio_arguments` flags."""
    from openinfp.audio.config import AudioConfig

    cfg = AudioConfig()
    if getattr(args, "agent_channel", None):
        cfg.agent_channel = args.agent_channel
    if getattr(args, "agent_speaker", None):
        cfg.agent_speaker = args.agent_speaker
    cfg.partner_only = bool(getattr(args, "partner_only", False))
    cfg.mono_mix = bool(getattr(args, "mono_mix", False))
    if getattr(args, "max_duration", None) is not None:
        cfg.max_duration_s = float(args.max_duration)
    return cfg


# ----- openinfp diarize ----------------------------------------------------------------


def add_diarize_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp diarize``."""
    parser.add_argument("audio", metavar="AUDIO",
                        help="a mono mix of two speakers (audio or video file; more channels are mixed down)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.rttm",
                        help="RTTM file to write (speakers spk0 = first to speak, spk1)")
    parser.add_argument("--file-id", default=None, help="recording name in the RTTM (default: the audio file stem)")
    parser.add_argument("--max-duration", type=float, default=None, metavar="SECONDS",
                        help="refuse longer audio (default: 7200)")
    add_quiet(parser)


def run_diarize(args: argparse.Namespace) -> int:
    """``openinfp diarize``: decode, diarize, write RTTM, print a summary."""
    from openinfp.audio.config import AudioConfig
    from openinfp.audio.conversation import to_mono16k
    from openinfp.audio.diarize import diarize_frames, write_rttm
    from openinfp.audio.io import load_audio
    from openinfp.core.audio import SAMPLE_RATE

    limit = args.max_duration if args.max_duration is not None else AudioConfig().max_duration_s
    clip = load_audio(args.audio, max_duration_s=limit)
    wave, notes = to_mono16k(clip)
    result = diarize_frames(wave)
    out = write_rttm(result.segments, args.output, file_id=args.file_id or Path(args.audio).stem)
    for note in [] if args.quiet else clip.notes + notes + result.notes:
        print(f"note: {note}", file=sys.stderr)
    talk = [sum(s.end - s.start for s in result.segments if s.speaker == k) for k in (0, 1)]
    print(f"wrote {out}: {len(result.segments)} segments, {result.num_speakers} speaker(s); "
          f"spk0 {talk[0]:.1f} s, spk1 {talk[1]:.1f} s of {wave.shape[0] / SAMPLE_RATE:.1f} s")
    return 0


# ----- openinfp tracks -----------------------------------------------------------------


def add_tracks_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp tracks``."""
    parser.add_argument("audio", metavar="AUDIO", help="conversation audio (stereo, agent track, or mono mix)")
    parser.add_argument("partner_audio", metavar="PARTNER_AUDIO", nargs="?", default=None,
                        help="the partner's track as a separate file (AUDIO is then the agent's)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.wav",
                        help="16 kHz stereo wav to write: agent left, partner right")
    parser.add_argument("--activity", metavar="CSV", default=None,
                        help="also write per-frame speech activity (frame, time_s, agent, partner) as CSV")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate of the activity CSV (default: 25)")
    add_audio_arguments(parser)
    add_quiet(parser)


def run_tracks(args: argparse.Namespace) -> int:
    """``openinfp tracks``: show how the input is split into agent and partner."""
    from openinfp.audio.conversation import load_conversation
    from openinfp.audio.io import write_audio
    from openinfp.core.errors import InputError
    from openinfp.core.io import atomic_output

    if args.fps <= 0:
        raise InputError(f"--fps must be positive, got {args.fps}")
    conv = load_conversation(args.audio, args.partner_audio, audio_config_from_args(args), fps=args.fps)
    write_audio(args.output, conv.stereo(), conv.sample_rate)
    if args.activity:
        with atomic_output(args.activity) as tmp:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write("frame,time_s,agent,partner\n")
                for t, (a, p) in enumerate(zip(conv.agent_activity, conv.partner_activity)):
                    fh.write(f"{t},{t / args.fps:.3f},{a:.3f},{p:.3f}\n")
    for note in [] if args.quiet else conv.notes:
        print(f"note: {note}", file=sys.stderr)
    talk = [float((act > 0.5).sum()) / args.fps for act in (conv.agent_activity, conv.partner_activity)]
    print(f"wrote {args.output}: {conv.source}; {conv.duration:.1f} s, agent speaks {talk[0]:.1f} s, "
          f"partner {talk[1]:.1f} s")
    return 0


# ----- openinfp speak ------------------------------------------------------------------


def add_speak_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp speak``."""
    parser.add_argument("script", metavar="SCRIPT",
                        help="text file with one turn per line: 'A: Hi, how was the trip?' / 'B: Long, but worth it.'")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.wav",
                        help="16 kHz stereo wav: A (agent) left, B (partner) right")
    parser.add_argument("--rttm", metavar="OUT.rttm", default=None,
                        help="also write the turns (ground truth) as RTTM")
    parser.add_argument("--seed", type=int, default=0, help="seed for pauses, rate jitter, backchannels (default: 0)")
    parser.add_argument("--no-backchannels", action="store_true",
                        help="no 'mm-hmm'/'yeah' from the listener during long turns")
    add_quiet(parser)


def run_speak(args: argparse.Namespace) -> int:
    """``openinfp speak``: synthesize a script as a two-track conversation."""
    from openinfp.audio.diarize import write_rttm
    from openinfp.audio.io import write_audio
    from openinfp.audio.script import script_to_conversation
    from openinfp.core.errors import InputError
    from openinfp.core.io import require_file

    path = require_file(args.script, "script file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"script file {path} is not UTF-8 text") from None
    conv, turns = script_to_conversation(text, seed=args.seed, backchannels=not args.no_backchannels)
    write_audio(args.output, conv.stereo(), conv.sample_rate)
    if args.rttm:
        write_rttm([(t.start, t.end, 0 if t.speaker == "A" else 1) for t in turns], args.rttm,
                   file_id=Path(args.output).stem, speaker_names=["A", "B"])
    print(f"wrote {args.output}: {len(turns)} turns, {conv.duration:.1f} s")
    return 0

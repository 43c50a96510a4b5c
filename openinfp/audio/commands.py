"""CLI commands of the audio stage: ``diarize``, ``tracks`` and ``speak``.

``add_*`` functions import nothing heavy (``openinfp --help`` stays fast); ``run_*``
raise :class:`~openinfp.core.errors.OpenInfpError` subclasses for user errors.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openinfp.audio.config import AudioConfig
from openinfp.cli_options import add_field_option, add_quiet


def add_audio_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``AudioConfig`` flags (``--agent-channel``, ``--agent-speaker``, ``--partner-only``,
    ``--mono-mix``, ``--max-duration``), for any command that reads a conversation."""
    g = parser.add_argument_group("audio input")
    add_field_option(g, "--agent-channel", AudioConfig, "agent_channel")
    add_field_option(g, "--agent-speaker", AudioConfig, "agent_speaker", context="with --mono-mix: ")
    g.add_argument("--partner-only", action="store_true",
                   help="a mono file is the partner only (the agent just listens)")
    g.add_argument("--mono-mix", action="store_true",
                   help="a mono file holds both people: diarize it into agent and partner tracks")
    g.add_argument("--speakers", default=None, metavar="N|auto",
                   help="with --mono-mix: how many people the mix holds, or auto (default: 2)")
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
    if getattr(args, "speakers", None) is not None:
        from openinfp.audio.config import parse_speakers

        parse_speakers(args.speakers, "--speakers")
        cfg.speakers = str(args.speakers)
    if getattr(args, "max_duration", None) is not None:
        cfg.max_duration_s = float(args.max_duration)
    return cfg


# ----- openinfp diarize ----------------------------------------------------------------


def add_diarize_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp diarize``."""
    parser.add_argument("audio", metavar="AUDIO", nargs="?", default=None,
                        help="a mono recording of a conversation (audio or video file; more channels are mixed "
                             "down); omit with --reference-dir")
    parser.add_argument("-o", "--output", default=None, metavar="OUT.rttm",
                        help="RTTM file to write (speakers spk0 = first to speak, spk1, ...); with --reference-dir "
                             "a folder for one RTTM per recording")
    parser.add_argument("--speakers", default="auto", metavar="N|auto",
                        help="number of speakers, or auto to estimate it (default: auto)")
    parser.add_argument("--reference", metavar="REF.rttm", default=None,
                        help="score against these reference turns: DER (missed, false alarm, confusion) with no "
                             "collar and with a 0.25 s collar")
    parser.add_argument("--reference-dir", metavar="DIR", default=None,
                        help="score every NAME.rttm in DIR against its recording NAME.{flac,wav,...} there and "
                             "print a table (one row per file, then the totals)")
    parser.add_argument("--file-id", default=None, help="recording name in the RTTM (default: the audio file stem)")
    parser.add_argument("--max-duration", type=float, default=None, metavar="SECONDS",
                        help="refuse longer audio (default: 7200)")
    add_quiet(parser)


def run_diarize(args: argparse.Namespace) -> int:
    """``openinfp diarize``: decode, diarize, write RTTM, print a summary (and DER with a reference)."""
    from openinfp.audio.config import AudioConfig, parse_speakers
    from openinfp.audio.der import score_report, write_rttm
    from openinfp.core.errors import InputError

    speakers = parse_speakers(args.speakers, "--speakers")
    limit = args.max_duration if args.max_duration is not None else AudioConfig().max_duration_s
    if args.reference_dir is not None:
        if args.audio is not None or args.reference is not None:
            raise InputError("--reference-dir scores a whole folder: give no AUDIO and no --reference with it")
        return _score_folder(Path(args.reference_dir), speakers, limit, args.output)
    if args.audio is None:
        raise InputError("give an AUDIO file to diarize (or --reference-dir DIR to score a folder)")
    if args.output is None and args.reference is None:
        raise InputError("give -o OUT.rttm to write the turns (or --reference REF.rttm to score them)")
    result, duration, notes = _diarize_file(args.audio, speakers, limit)
    for note in [] if args.quiet else notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output:
        out = write_rttm(result.segments, args.output, file_id=args.file_id or Path(args.audio).stem)
        talk = ", ".join(f"spk{k} {result.talk_time(k):.1f} s" for k in range(result.num_speakers))
        print(f"wrote {out}: {len(result.segments)} segments, {result.num_speakers} speaker(s); "
              f"{talk or 'no speech'} of {duration:.1f} s")
    if args.reference:
        from openinfp.audio.der import read_rttm

        print(score_report(read_rttm(args.reference), result.segments))
    return 0


def _diarize_file(path, speakers, limit):
    """``(Diarization, duration_s, notes)`` of one file."""
    from openinfp.audio.conversation import to_mono16k
    from openinfp.audio.diarize import DiarizationOptions, diarize_frames
    from openinfp.audio.io import load_audio
    from openinfp.core.audio import SAMPLE_RATE

    clip = load_audio(path, max_duration_s=limit)
    wave, notes = to_mono16k(clip)
    result = diarize_frames(wave, DiarizationOptions(num_speakers=speakers))
    return result, wave.shape[0] / SAMPLE_RATE, clip.notes + notes + result.notes


def _score_folder(folder: Path, speakers, limit, out_dir) -> int:
    import time

    from openinfp.audio.der import FolderScore, read_rttm, write_rttm
    from openinfp.core.errors import InputError

    if not folder.is_dir():
        raise InputError(f"--reference-dir {folder} is not a folder")
    pairs = []
    for rttm in sorted(folder.glob("*.rttm")):
        audio = next((rttm.with_suffix(ext) for ext in (".flac", ".wav", ".mp3", ".ogg", ".m4a")
                      if rttm.with_suffix(ext).is_file()), None)
        if audio is not None:
            pairs.append((rttm, audio))
    if not pairs:
        raise InputError(f"{folder} holds no NAME.rttm with a recording NAME.flac/.wav/... beside it")
    table = FolderScore()
    for rttm, audio in pairs:
        start = time.perf_counter()
        result, duration, _ = _diarize_file(audio, speakers, limit)
        seconds = time.perf_counter() - start
        if out_dir:
            Path(out_dir).mkdir(parents=True, exist_ok=True)
            write_rttm(result.segments, Path(out_dir) / rttm.name, file_id=rttm.stem)
        print(table.add(rttm.stem, read_rttm(rttm), result.segments, result.num_speakers, duration, seconds),
              flush=True)
    print(table.summary())
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

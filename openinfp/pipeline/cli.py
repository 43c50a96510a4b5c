"""CLI commands ``animate``, ``render`` and ``demo`` (registered by the built-in plugin).

``add_*_arguments`` import nothing heavy (``openinfp --help`` stays fast); ``run_*``
build the pipeline and raise :class:`~openinfp.core.errors.OpenInfpError` subclasses
for user errors, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from openinfp.audio.config import AudioConfig
from openinfp.body.config import BodyConfig
from openinfp.cli_options import add_config, add_field_option, add_quiet
from openinfp.config import LAYOUTS, PipelineConfig
from openinfp.core.config import OutputConfig
from openinfp.core.errors import InputError


def _add_config_arguments(p: argparse.ArgumentParser) -> None:
    add_config(p)
    add_field_option(p, "--device", PipelineConfig, "device")
    p.add_argument("--size", type=int, default=None, metavar="PX",
                   help="output frame size in pixels (default: the config's, 512)")
    add_field_option(p, "--framing", OutputConfig, "framing", context="portrait framing: ")
    add_quiet(p)


def add_animate_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp animate``."""
    p.add_argument("portrait", metavar="PORTRAIT", help="photo of the person to animate (jpg/png/webp/...)")
    p.add_argument("audio", metavar="AUDIO", nargs="?", default=None,
                   help="conversation audio: stereo (one person per channel), the agent's own track, "
                        "or a mono mix of both (diarized); omit with --script")
    p.add_argument("partner_audio", metavar="PARTNER_AUDIO", nargs="?", default=None,
                   help="the partner's track as a separate file (AUDIO is then the agent's)")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="output video (.mp4)")
    g = p.add_argument_group("audio")
    add_field_option(g, "--agent-channel", AudioConfig, "agent_channel")
    g.add_argument("--mono-mix", action="store_true",
                   help="a mono AUDIO holds both people: separate them by diarization")
    add_field_option(g, "--agent-speaker", AudioConfig, "agent_speaker", note="; implies --mono-mix")
    g.add_argument("--speakers", default=None, metavar="N|auto",
                   help="mono mix: how many people it holds, or auto to estimate (default: 2; the partner "
                        "track carries everyone but the portrait; implies --mono-mix)")
    g.add_argument("--partner-only", action="store_true",
                   help="a mono AUDIO is the partner: the portrait only listens")
    g.add_argument("--max-duration", type=float, default=None, metavar="SECONDS",
                   help="refuse longer audio before decoding it (default: 7200; same as "
                        "--set audio.max_duration_s=SECONDS)")
    g.add_argument("--script", metavar="FILE", default=None,
                   help="text file with a two-person script ('A: ...' / 'B: ...' lines) spoken by two "
                        "eSpeak NG voices; A is the portrait")
    g = p.add_argument_group("style")
    g.add_argument("--prompt", metavar="TEXT", default=None,
                   help="behaviour/style prompt, e.g. 'calm speaker, nods a lot while listening'")
    g.add_argument("--style-image", metavar="IMG", default=None,
                   help="reference photo whose expression and head pose set the style")
    g = p.add_argument_group("layout")
    g.add_argument("--partner-portrait", metavar="IMG", default=None,
                   help="animate the partner too, side by side (roles swapped automatically)")
    g.add_argument("--partner-face-index", type=int, default=None, metavar="N",
                   help="the partner is face N of PORTRAIT itself (0 = largest), side by side")
    add_field_option(g, "--body", BodyConfig, "model", note="; smplx needs --smplx-model-dir")
    g.add_argument("--layout", choices=LAYOUTS, default="auto",
                   help="single person or both participants; auto = pair with --partner-portrait, "
                        "or for bodies when the partner speaks (default: auto)")
    g.add_argument("--smplx-model-dir", metavar="DIR", default=None,
                   help="folder holding smplx/SMPLX_NEUTRAL.npz (for --body smplx)")
    g = p.add_argument_group("generation")
    g.add_argument("--seed", type=int, default=None, help="random seed (default: the config's, 0)")
    g.add_argument("--steps", type=int, default=None, help="diffusion sampling steps (default: the config's)")
    g.add_argument("--checkpoint", metavar="DIR", default=None,
                   help="motion model folder (default: the model shipped with openinfp)")
    g = p.add_argument_group("extra outputs")
    g.add_argument("--motion-out", metavar="MOTION.npz", default=None,
                   help="also save the generated motion (partner's beside it as *.partner.npz)")
    g.add_argument("--timeline", metavar="PNG", default=None,
                   help="also plot both people's speech and the portrait's mouth/head activity")
    g.add_argument("--arkit-csv", metavar="CSV", default=None,
                   help="also export the face as Live Link Face-style ARKit CSV")
    _add_config_arguments(p)


def _overrides(args: argparse.Namespace) -> list[str]:
    """Config overrides from the dedicated flags (after --set ones, so flags win)."""
    out = list(args.overrides)
    pairs = {
        "audio.agent_channel": getattr(args, "agent_channel", None),
        "audio.agent_speaker": getattr(args, "agent_speaker", None),
        "audio.max_duration_s": getattr(args, "max_duration", None),
        "audio.speakers": getattr(args, "speakers", None),
        "seed": getattr(args, "seed", None),
        "model.sampler.steps": getattr(args, "steps", None),
        "model.checkpoint": getattr(args, "checkpoint", None),
        "device": getattr(args, "device", None),
        "output.size": getattr(args, "size", None),
        "output.framing": getattr(args, "framing", None),
        "body.smplx_model_dir": getattr(args, "smplx_model_dir", None),
    }
    if getattr(args, "partner_only", False):
        pairs["audio.partner_only"] = "true"
    if (getattr(args, "mono_mix", False) or getattr(args, "agent_speaker", None) is not None
            or getattr(args, "speakers", None) is not None):
        pairs["audio.mono_mix"] = "true"
    out += [f"{k}={v}" for k, v in pairs.items() if v is not None]
    body = getattr(args, "body", None)
    if body is not None:
        out += body_overrides(body, custom_model=getattr(args, "checkpoint", None) is not None)
    return out


def body_overrides(body: str, custom_model: bool = False) -> list[str]:
    """Config overrides selecting a body mode.

    ``none`` keeps the config's head set-up. A body model renders ``smplx`` motion: it
    is generated directly by the shipped full-body model when one ships (and no other
    checkpoint was asked for), otherwise head motion is generated and lifted onto a
    resting body (:func:`openinfp.body.convert.head_to_smplx`).
    """
    if body == "none":
        return ["body.model=none"]
    out = [f"body.model={body}"]
    if not custom_model and shipped_model_available("smplx"):
        out.append("motion_space=smplx")
    return out


def shipped_model_available(motion_space: str) -> bool:
    """True when the package ships a default motion model for ``motion_space``."""
    from openinfp.core.errors import CheckpointError
    from openinfp.core.generator import default_checkpoint

    try:
        default_checkpoint(motion_space)
    except CheckpointError:
        return False
    return True


def _check_steps_and_size(args: argparse.Namespace) -> None:
    from openinfp.core.config import OutputConfig, field_range
    from openinfp.core.model_config import SamplerConfig

    if getattr(args, "steps", None) is not None:
        lo, hi = field_range(SamplerConfig, "steps")
        if args.steps < lo:
            raise InputError(f"--steps must be at least {lo}, got {args.steps}")
        if args.steps > hi:
            raise InputError(f"--steps must be at most {hi}, got {args.steps}")
    if getattr(args, "size", None) is not None:
        lo, hi = field_range(OutputConfig, "size")
        if not lo <= args.size <= hi:
            raise InputError(f"--size must be between {lo} and {hi} pixels, got {args.size}")


def _read_script(path: str) -> str:
    from openinfp.core.io import require_file

    p = require_file(path, "script file")
    if p.stat().st_size > 4 * 2**20:  # more than two hours of speech could ever need; refuse before reading
        raise InputError(f"script file {p} is {p.stat().st_size / 2**20:.0f} MB; a script is at most 4 MB of text")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"script file {p} is not UTF-8 text") from None


def run_animate(args: argparse.Namespace) -> int:
    """``openinfp animate``: build the pipeline from flags and run it."""
    from openinfp.pipeline.pipeline import AnimateInputs, AnimateOutputs, ConversationPipeline

    _check_steps_and_size(args)
    script = _read_script(args.script) if args.script else None
    if script is not None and args.audio is not None:
        raise InputError("give either AUDIO or --script, not both")
    pipeline = ConversationPipeline.from_preset(args.config, _overrides(args), registry=args._registry,
                                                show_progress=not args.quiet)
    inputs = AnimateInputs(portrait=args.portrait, audio=args.audio, partner_audio=args.partner_audio,
                           script=script, prompt=args.prompt, style_image=args.style_image,
                           partner_portrait=args.partner_portrait, layout=args.layout,
                           partner_face_index=args.partner_face_index)
    outputs = AnimateOutputs(video=args.output, motion=args.motion_out, timeline=args.timeline,
                             arkit_csv=args.arkit_csv)
    result = pipeline.run(inputs, outputs)
    for kind, path in result.files.items():
        print(f"{kind}: {path}")
    return 0


def add_render_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp render``."""
    p.add_argument("motion", metavar="MOTION.npz", help="motion file written by `animate --motion-out` or `track`")
    p.add_argument("-o", "--output", required=True, metavar="OUT.mp4", help="output video (.mp4)")
    p.add_argument("--renderer", metavar="NAME", default=None,
                   help="renderer by name (see `openinfp plugins`; default: portrait for head motion, "
                        "anny for smplx motion)")
    p.add_argument("--portrait", metavar="IMG", default=None, help="source photo (portrait renderer)")
    p.add_argument("--partner-motion", metavar="MOTION.npz", default=None,
                   help="second participant: side by side (with --partner-portrait) or a two-person body scene")
    p.add_argument("--partner-portrait", metavar="IMG", default=None, help="the partner's photo (portrait renderer)")
    p.add_argument("--audio", metavar="AUDIO", default=None,
                   help="audio to mux in (stereo, or the agent's track; trimmed/padded to the video)")
    p.add_argument("--partner-audio", metavar="AUDIO", default=None, help="the partner's track as a second file")
    p.add_argument("--smplx-model-dir", metavar="DIR", default=None,
                   help="folder holding smplx/SMPLX_NEUTRAL.npz (for the smplx renderer)")
    _add_config_arguments(p)


def run_render(args: argparse.Namespace) -> int:
    """``openinfp render``: draw saved motion with any renderer."""
    from openinfp.pipeline.render import render_motion_file

    _check_steps_and_size(args)
    say_motion_layouts(args, args.motion, args.partner_motion)
    overrides = _overrides(args)
    path = render_motion_file(
        args.motion, args.output, renderer=args.renderer, portrait=args.portrait,
        partner_motion=args.partner_motion, partner_portrait=args.partner_portrait,
        audio=args.audio, partner_audio=args.partner_audio, preset=args.config, overrides=overrides,
        registry=args._registry, show_progress=not args.quiet)
    print(f"video: {path}")
    return 0


def say_motion_layouts(args: argparse.Namespace, *paths) -> None:
    """Tell the user when a motion file is read in another layout than openinfp's own (BEAT2)."""
    if args.quiet:
        return
    import sys

    from openinfp.body.beat2 import beat2_layout_note

    for path in paths:
        note = path is not None and beat2_layout_note(path)
        if note:
            print(f"openinfp: {note}", file=sys.stderr)


def add_demo_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of ``openinfp demo``."""
    p.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0 exposes it)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860; 0 = any free port)")
    p.add_argument("--concurrency", type=int, default=1, help="runs processed at the same time (default 1)")
    p.add_argument("--queue-size", type=int, default=8,
                   help="requests that may wait; more get a 'busy' answer (default 8)")
    p.add_argument("--max-upload-mb", type=float, default=50.0, help="largest accepted upload in MB (default 50)")
    p.add_argument("--max-audio-s", type=float, default=120.0,
                   help="longest accepted conversation in seconds (default 120)")
    p.add_argument("--workdir", metavar="DIR", default=None,
                   help="folder for uploads and results (default: a fresh temporary folder, removed at exit)")
    _add_config_arguments(p)


def run_demo(args: argparse.Namespace) -> int:
    """``openinfp demo``: serve the Gradio app until interrupted."""
    from openinfp.pipeline.demo import DemoSettings, launch_demo

    if args.concurrency < 1 or args.queue_size < 1:
        raise InputError("--concurrency and --queue-size must be at least 1")
    if args.max_upload_mb <= 0 or args.max_audio_s <= 0:
        raise InputError("--max-upload-mb and --max-audio-s must be positive")
    settings = DemoSettings(
        host=args.host, port=args.port, concurrency=args.concurrency, queue_size=args.queue_size,
        max_upload_mb=args.max_upload_mb, max_audio_s=args.max_audio_s,
        workdir=Path(args.workdir) if args.workdir else None, preset=args.config,
        overrides=_overrides(args), quiet=args.quiet)
    import signal
    import threading

    if threading.current_thread() is threading.main_thread():
        # `kill` / service stop: shut down like Ctrl-C, so the temporary work folder is removed
        signal.signal(signal.SIGTERM, _interrupt)
    launch_demo(settings, registry=args._registry, block=True)
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt

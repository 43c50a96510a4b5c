"""The Gradio demo (``openinfp demo``, also ``demos/app.py``).

A portrait and a conversation in (audio: stereo, two files or mono; or a typed
two-person script), a video, a timeline plot and the motion files out. Modes: head,
two portraits side by side, full body, two-person body scene.

Safety defaults: bound to 127.0.0.1, Gradio analytics off, one queue with a
concurrency limit and a bounded size ("busy" beyond it), upload size and type
limits checked by Gradio and again here, files served only from the app's own work
folder (its uploads, results and generated examples), and old results deleted.

Manners: the Animate button sits at the top of the results column, so its progress
and the video appear where the user is looking; the inputs a mode does not use are
hidden; uploads are checked by :mod:`openinfp.pipeline.demo_inputs` before Gradio
decodes anything, and every error reads in the user's terms (their file names, no
server paths, errno numbers or config keys) while the server logs one line.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from openinfp.body.config import BodyConfig
from openinfp.core.config import field_choices
from openinfp.core.errors import InputError, OpenInfpError
from openinfp.pipeline.demo_inputs import (
    AUDIO_TYPES,
    IMAGE_TYPES,
    SCRIPT_TYPES,
    DemoInputError,
    check_audio,
    check_image,
    check_upload,
    upload_of,
    user_message,
)

__all__ = ["AUDIO_TYPES", "IMAGE_TYPES", "SCRIPT_TYPES", "DemoBackend", "DemoSettings", "launch_demo"]

MODES = {
    "Head": ("none", "single"),
    "Two portraits side by side": ("none", "pair"),
    "Full body": ("body", "single"),
    "Two-person body scene": ("body", "pair"),
}
"""Demo mode -> (head or body, layout)."""

MONO_MEANINGS = {
    "the portrait's own voice": "agent",
    "the partner only (the portrait listens)": "partner",
    "both speakers mixed (separate them)": "mix",
}
"""How a single mono upload is read."""

BODIES = tuple(sorted(m for m in field_choices(BodyConfig, "model") if m != "none"))
"""Body models offered in full-body modes (``body.model`` without ``none``)."""

EXAMPLE_SCRIPT = """A: Hi! How was the trip to the mountains?
B: Long, but worth it. We hiked every single day.
A: That sounds wonderful. Did the weather hold up?
B: Mostly. It rained once, so we stayed in and played cards.
A: Cards in a mountain hut, that is the best kind of rainy day.
"""


@dataclass
class DemoSettings:
    """How the demo is served.

    Attributes:
        host: bind address (127.0.0.1: only this machine can connect).
        port: TCP port (0: any free port).
        concurrency: runs processed at once (the rest wait in the queue).
        queue_size: waiting requests allowed; beyond it Gradio answers "queue full".
        max_upload_mb: largest upload accepted.
        max_audio_s: longest conversation accepted (seconds).
        workdir: uploads, results and examples; default: a fresh temporary folder that
            is removed when the app closes.
        keep_runs: results of this many recent runs are kept; older ones are deleted.
        preset, overrides: pipeline config (as for ``openinfp animate``).
        example_seconds: length of the generated example conversation.
        quiet: no stage messages or progress bars in the server's log (errors only).
    """

    host: str = "127.0.0.1"
    port: int = 7860
    concurrency: int = 1
    queue_size: int = 8
    max_upload_mb: float = 50.0
    max_audio_s: float = 120.0
    workdir: Optional[Path] = None
    keep_runs: int = 20
    preset: str = "default"
    overrides: Sequence[str] = field(default_factory=tuple)
    example_seconds: float = 0.0
    quiet: bool = False


def _check_upload(path: Any, allowed: Sequence[str], what: str, max_mb: float) -> Optional[Path]:
    """Type (by extension), presence and size checks on an uploaded file; returns its path."""
    up = check_upload(upload_of(path), allowed, what, max_mb)
    return None if up is None else up.path


MAX_SEED = 2**31 - 1


class DemoBackend:
    """What the demo's button runs; kept apart from the UI so tests can call it directly.

    Each request gets a pipeline with its own config over one shared model cache, so
    only the first run of a model pays for loading it. Runs are serialised by a lock in
    addition to the queue's concurrency limit, because the cached models are not
    thread-safe.
    """

    def __init__(self, settings: DemoSettings, registry: Any = None) -> None:
        self.settings = settings
        self._own_workdir = settings.workdir is None
        root = Path(tempfile.mkdtemp(prefix="openinfp-demo-")) if settings.workdir is None else Path(settings.workdir)
        self.workdir = root.resolve()
        self.runs_dir = self.workdir / "runs"
        self.examples_dir = self.workdir / "examples"
        self.cache_dir = self.workdir / "gradio"
        for d in (self.runs_dir, self.examples_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True)
        self._registry = registry
        from openinfp.pipeline.resources import ModelCache

        self._cache = ModelCache()
        self._lock = threading.Lock()

    @property
    def registry(self) -> Any:
        if self._registry is None:
            from openinfp.core.registry import Registry

            self._registry = Registry.create()
        return self._registry

    # ----- examples -------------------------------------------------------------------
    def examples(self) -> dict[str, Path]:
        """Bundled examples, generated once into the work folder: the astronaut photo
        (scikit-image), a second portrait, a stereo eSpeak NG conversation, a script."""
        out = {"portrait": self.examples_dir / "astronaut.png",
               "partner_portrait": self.examples_dir / "partner.png",
               "conversation": self.examples_dir / "conversation.wav",
               "script": self.examples_dir / "script.txt"}
        if all(p.is_file() for p in out.values()):
            return out
        from openinfp.pipeline.examples import write_examples

        write_examples(out, EXAMPLE_SCRIPT, max_seconds=self.settings.example_seconds or None)
        return out

    # ----- runs -----------------------------------------------------------------------
    def pipeline(self, overrides: Sequence[str]) -> Any:
        """A pipeline for one request: its own config, the backend's shared model cache."""
        from openinfp.pipeline.pipeline import ConversationPipeline

        return ConversationPipeline.from_preset(self.settings.preset, tuple(self.settings.overrides) + tuple(overrides),
                                                registry=self.registry, show_progress=not self.settings.quiet,
                                                cache=self._cache)

    def _prune_runs(self) -> None:
        runs = sorted((p for p in self.runs_dir.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
        for old in runs[: max(0, len(runs) - self.settings.keep_runs + 1)]:
            shutil.rmtree(old, ignore_errors=True)

    def run(self, portrait: Any, audio: Any, partner_audio: Any,
            mono_meaning: str, script: str, prompt: str, style_image: Any, mode: str,
            partner_portrait: Any, body_model: str, seed: Any, steps: Any) -> dict[str, Any]:
        """Validate the uploads, run the pipeline, return the result files.

        Uploads are Gradio's unprocessed file payloads (``{"path", "orig_name", ...}``)
        or plain paths. Only the inputs ``mode`` uses are read (hidden ones are ignored).

        Returns:
            ``{"video", "timeline", "files", "summary"}`` (paths in a fresh run folder).

        Raises:
            InputError / ConfigError: a one-line reason, in the user's terms with
            :func:`~openinfp.pipeline.demo_inputs.user_message`.
        """
        if mode not in MODES:
            raise DemoInputError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
        kind, layout = MODES[mode]
        uploads = [u for u in map(upload_of, (portrait, audio, partner_audio, style_image, partner_portrait)) if u]
        try:
            return self._run(portrait, audio, partner_audio, mono_meaning, script, prompt, style_image, kind, layout,
                             mode, partner_portrait, body_model, seed, steps)
        except OpenInfpError as exc:
            if isinstance(exc, DemoInputError):
                raise
            raise DemoInputError(user_message(str(exc), uploads)) from None
        finally:
            give_back_memory()

    def _run(self, portrait: Any, audio: Any, partner_audio: Any, mono_meaning: str, script: str, prompt: str,
             style_image: Any, kind: str, layout: str, mode: str, partner_portrait: Any, body_model: str,
             seed: Any, steps: Any) -> dict[str, Any]:
        from openinfp.pipeline.animate_io import AnimateInputs, AnimateOutputs
        from openinfp.pipeline.cli import body_overrides

        s = self.settings
        side_by_side = mode == "Two portraits side by side"
        mb = s.max_upload_mb
        # the form first (cheap), then what is inside each file
        portrait_u = check_upload(upload_of(portrait), IMAGE_TYPES, "portrait", mb)
        partner_u = check_upload(upload_of(partner_portrait), IMAGE_TYPES, "partner portrait", mb) \
            if side_by_side else None
        style_u = check_upload(upload_of(style_image), IMAGE_TYPES, "style image", mb)
        audio_u = check_upload(upload_of(audio), AUDIO_TYPES, "conversation audio", mb)
        partner_audio_u = check_upload(upload_of(partner_audio), AUDIO_TYPES, "partner's track", mb)
        script = (script or "").strip() or None
        prompt = (prompt or "").strip() or None
        if script is not None and audio_u is not None:
            raise DemoInputError("give either conversation audio or a script, not both")
        if script is not None and len(script) > 5000:
            raise DemoInputError(f"the script has {len(script)} characters; the demo accepts up to 5000")
        if kind == "none" and portrait_u is None:
            raise DemoInputError("upload a portrait (or pick the example)")
        if side_by_side and partner_u is None:
            raise DemoInputError("this mode needs the partner's portrait too")
        if script is None and audio_u is None:
            raise DemoInputError("upload the conversation audio or type a script")
        seed_i, steps_i = _whole_number(seed, "seed", 0, MAX_SEED), _whole_number(steps, "sampling steps", 1, 50)
        for up, what in ((portrait_u, "portrait"), (partner_u, "partner portrait"), (style_u, "style image")):
            check_image(up, what, mb)
        channels = check_audio(audio_u, "conversation audio", mb, s.max_audio_s)
        check_audio(partner_audio_u, "partner's track", mb, s.max_audio_s)
        portrait_p, partner_p, style_p = (None if u is None else u.path for u in (portrait_u, partner_u, style_u))
        audio_p, partner_audio_p = (None if u is None else u.path for u in (audio_u, partner_audio_u))
        overrides = [f"seed={seed_i}", f"model.sampler.steps={steps_i}", f"audio.max_duration_s={s.max_audio_s}"]
        overrides += _mono_overrides(MONO_MEANINGS.get(mono_meaning, "agent"), channels, partner_audio_p)
        if kind == "body":
            if body_model not in BODIES:
                raise InputError(f"unknown body model {body_model!r}")
            custom_model = any(o.startswith("model.checkpoint=") and o.split("=", 1)[1] for o in s.overrides)
            overrides += body_overrides(body_model, custom_model=custom_model)
        with self._lock:
            self._prune_runs()
            run_dir = self.runs_dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:8]}"
            run_dir.mkdir(parents=True)
            pipeline = self.pipeline(overrides)
            inputs = AnimateInputs(portrait=portrait_p, audio=audio_p, partner_audio=partner_audio_p,
                                   script=script, prompt=prompt, style_image=style_p,
                                   partner_portrait=partner_p if layout == "pair" and kind == "none" else None,
                                   layout=layout)
            outputs = AnimateOutputs(video=run_dir / "openinfp.mp4", motion=run_dir / "motion.npz",
                                     timeline=run_dir / "timeline.png", arkit_csv=run_dir / "arkit.csv")
            try:
                result = pipeline.run(inputs, outputs)
            except BaseException:
                shutil.rmtree(run_dir, ignore_errors=True)
                raise
        files = [str(p) for k, p in result.files.items() if k != "video"] + [str(result.video)]
        summary = (f"{result.audio.duration:.1f} s of conversation, {result.motion.num_frames} frames, "
                   f"{result.layout} layout; took {result.timings['total']:.1f} s "
                   f"(real-time factor {result.real_time_factor:.2f})")
        return {"video": str(result.video), "timeline": str(result.files.get("timeline", "")) or None,
                "files": files, "summary": summary}

    def close(self) -> None:
        """Remove the work folder if the backend created it."""
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


def give_back_memory() -> None:
    """Return freed heap memory to the system after a run.

    Measured (docs/PIPELINE.md): the server's idle size grew burst after burst (816 -> 886
    -> 930 MB after three bursts of ten requests) with the same number of Python objects
    and the same three cached models, and ``malloc_trim`` brought it back to 735-784 MB
    each time: glibc keeping freed blocks in its per-thread arenas (Gradio runs handlers
    on many threads), not a leak. Trimming after every run bounds it.
    """
    import ctypes
    import gc

    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): nothing to trim
        return
    libc.malloc_trim(0)


def _whole_number(value: Any, what: str, low: int, high: int) -> int:
    """A whole number from a form field, within ``[low, high]``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DemoInputError(f"the {what} must be a whole number from {low} to {high}") from None
    if not (number == number and low <= number <= high and number == int(number)):
        raise DemoInputError(f"the {what} must be a whole number from {low} to {high}")
    return int(number)


def _mono_overrides(meaning: str, channels: Optional[int], partner_audio: Optional[Path]) -> list[str]:
    """Config overrides that say how a single upload is read, if it is mono.

    Stereo uploads are always one person per channel: the "mono file is" choice is
    ignored for them rather than silently downmixing a two-channel recording. The
    channel count comes from the file's header (nothing is decoded here).
    """
    from openinfp.pipeline.audio_modes import mono_overrides

    if channels is None or partner_audio is not None:
        return []
    if meaning != "agent" and channels >= 2:
        return []
    return mono_overrides(meaning)


def prepare_environment(backend: DemoBackend) -> None:
    """Process-wide Gradio switches: analytics off, uploads and cache inside our work folder.

    Must run before ``gradio`` is imported for the cache folder to take effect.
    """
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if "gradio" not in sys.modules:
        os.environ["GRADIO_TEMP_DIR"] = str(backend.cache_dir)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def launch_demo(settings: DemoSettings, registry: Any = None, block: bool = True) -> tuple[Any, DemoBackend]:
    """Build and serve the demo. With ``block=False`` returns ``(blocks, backend)`` while
    it serves in a background thread (call ``blocks.close()`` and ``backend.close()``)."""
    from openinfp.quiet import quiet_third_party

    quiet_third_party()  # before gradio, torch and mediapipe load
    if settings.port == 0:
        settings.port = free_port(settings.host)
    backend = DemoBackend(settings, registry)
    prepare_environment(backend)
    from openinfp.pipeline.demo_ui import build_demo

    demo = build_demo(backend)
    allowed = [str(backend.examples_dir), str(backend.runs_dir)]
    print(f"openinfp demo: serving on http://{settings.host}:{settings.port} (work folder {backend.workdir})",
          file=sys.stderr)
    try:
        demo.launch(server_name=settings.host, server_port=settings.port, share=False,
                    allowed_paths=allowed, max_file_size=int(settings.max_upload_mb * 1e6),
                    prevent_thread_lock=not block, show_error=True, quiet=not block, ssr_mode=False,
                    inbrowser=False, enable_monitoring=False, mcp_server=False)
    except BaseException:
        backend.close()
        raise
    if block:
        backend.close()
    return demo, backend

"""The demo's uploads, checked in openinfp's terms, and its messages in the user's terms.

The demo's Animate event runs with Gradio's component preprocessing switched off
(``preprocess=False``): Gradio only moves the uploads into its cache and checks they
came from its own upload folder, and every file is checked here, before any decoding
by Gradio, with messages that name the file as the user called it. A web user never
sees a server path, an errno number or a config key: :func:`user_message` takes them
out of any error that still comes from deeper down.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from openinfp.core.errors import InputError

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
AUDIO_TYPES = (".wav", ".flac", ".mp3", ".m4a", ".aac", ".ogg", ".opus")
SCRIPT_TYPES = (".txt",)


class DemoInputError(InputError):
    """A request the demo refuses, worded for the person at the browser."""


@dataclass(frozen=True)
class Upload:
    """One uploaded file: where it lies on the server and what the user called it."""

    path: Path
    name: str


def upload_of(payload: Any) -> Optional[Upload]:
    """The :class:`Upload` of a Gradio file payload (dict or FileData, unprocessed) or a plain path."""
    if payload is None or payload == "":
        return None
    if isinstance(payload, dict):
        path, name = payload.get("path"), payload.get("orig_name")
    elif hasattr(payload, "path"):
        path, name = payload.path, getattr(payload, "orig_name", None)
    else:
        path, name = payload, None
    if not path:
        return None
    p = Path(str(path))
    return Upload(p, Path(str(name)).name if name else p.name)


def check_upload(upload: Optional[Upload], allowed: Sequence[str], what: str, max_mb: float) -> Optional[Upload]:
    """Type (by extension), presence and size of an upload."""
    if upload is None:
        return None
    if upload.path.suffix.lower() not in allowed:
        raise DemoInputError(f"the {what} “{upload.name}” has an unsupported type; use one of {', '.join(allowed)}")
    if not upload.path.is_file():
        raise DemoInputError(f"the {what} “{upload.name}” was not received; upload it again")
    size_mb = upload.path.stat().st_size / 1e6
    if size_mb > max_mb:
        raise DemoInputError(f"the {what} “{upload.name}” is {size_mb:.1f} MB; the limit is {max_mb:g} MB")
    return upload


def check_image(upload: Optional[Upload], what: str, max_mb: float) -> Optional[Upload]:
    """:func:`check_upload` plus: the file really is a picture (header and structure, no full decode)."""
    upload = check_upload(upload, IMAGE_TYPES, what, max_mb)
    if upload is None:
        return None
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(upload.path) as img:
                img.verify()
    except Exception:  # Pillow raises many types for non-images; all mean the same to the user
        raise DemoInputError(f"the {what} “{upload.name}” is not a picture that can be read; "
                             "upload a JPEG, PNG or WebP photo") from None
    return upload


def check_audio(upload: Optional[Upload], what: str, max_mb: float, max_seconds: float) -> Optional[int]:
    """:func:`check_upload` plus: real audio, at most ``max_seconds`` long (from the header, nothing decoded).

    Returns:
        The channel count (``None`` without an upload).
    """
    upload = check_upload(upload, AUDIO_TYPES, what, max_mb)
    if upload is None:
        return None
    seconds, channels = _audio_header(upload.path)
    if channels is None:
        raise DemoInputError(f"the {what} “{upload.name}” is not a sound file that can be read; "
                             "upload WAV, FLAC, MP3, M4A or OGG audio")
    if seconds is not None and seconds > max_seconds + 1e-6:
        raise DemoInputError(f"the {what} “{upload.name}” is {seconds:.0f} s long; this demo takes conversations "
                             f"of up to {max_seconds:g} s, so trim it and upload it again")
    return channels


def _audio_header(path: Path) -> tuple[Optional[float], Optional[int]]:
    """``(seconds or None if unknown, channels)`` from the container header; ``(None, None)`` if not audio."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        if info.samplerate > 0 and info.channels > 0:
            return info.frames / info.samplerate, int(info.channels)
    except Exception:  # not a libsndfile format: ask FFmpeg
        pass
    try:
        import av

        with av.open(str(path)) as container:
            if not container.streams.audio:
                return None, None
            stream = container.streams.audio[0]
            channels = int(stream.codec_context.channels or 0)
            seconds = None
            if container.duration is not None:
                seconds = container.duration / 1_000_000.0
            elif stream.duration is not None and stream.time_base is not None:
                seconds = float(stream.duration * stream.time_base)
            return seconds, (channels or None)
    except Exception:
        return None, None


# an absolute path with at least two parts (what the server's folders look like)
_ABS_PATH = re.compile(r"(?<![\w.])/(?:[^\s'\"“”():,;]+/)+([^\s'\"“”():,;]+)")
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
# a parenthesised hint that names a config key or a command-line flag: advice for the CLI, not the web
_CONFIG_KEY = re.compile(r"\b(?:audio|output|model|body|guider|train|data|conditioners)\.[a-z_.]*[a-z_]")
_CLI_HINT = re.compile(r"\s*\([^()]*(?:--[a-z][\w-]*|" + _CONFIG_KEY.pattern + r")[^()]*\)")


def user_message(text: str, uploads: Sequence[Upload] = ()) -> str:
    """An error message fit for a web user: uploads by their own names, no server paths, no
    errno numbers, no config keys or command-line advice; one line."""
    msg = " ".join(str(text).split())
    for up in uploads:
        msg = msg.replace(str(up.path), f"“{up.name}”")
    msg = _ERRNO.sub("", msg)
    msg = _CLI_HINT.sub("", msg)
    msg = _ABS_PATH.sub(lambda m: m.group(1), msg)
    msg = _CONFIG_KEY.sub("a setting", msg)
    for a, b in (("““", "“"), ("””", "”"), ("'“", "“"), ("”'", "”")):
        msg = msg.replace(a, b)
    msg = msg.strip()
    return msg[:1].upper() + msg[1:] if msg else "The request could not be processed"

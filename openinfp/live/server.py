"""``openinfp live``: a loopback web page that talks to the portrait through the microphone.

One process serves the page (``GET /``) and a WebSocket (``/ws``). The browser sends the
microphone as float32 PCM at 16 kHz (the partner's voice); each message is paired with
as many samples of the portrait's own voice (``--agent-audio``, else silence), pushed
into a :class:`~openinfp.live.session.LiveSession`, and every frame that becomes due is
sent back as a 12-byte header plus a JPEG (see :mod:`openinfp.live.page`).

One conversation at a time (the models use the CPU fully); a second visitor is told the
portrait is busy. The server binds to 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import asyncio
import json
import logging
import struct
import threading
from dataclasses import dataclass
from typing import Any, Callable, Optional

import numpy as np

from openinfp.core.errors import InputError, OpenInfpError
from openinfp.live.page import PAGE_HTML

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 1 << 20
"""Largest audio message accepted (about 16 s of float32 audio); more is a broken client."""

FRAME_HEADER = struct.Struct("<Iff")
"""Frame message header: index (uint32), time in seconds, agent speaking (0..1)."""


class AgentVoice:
    """The portrait's own voice, handed out in pieces as long as the partner's (silence after its end)."""

    def __init__(self, wave: Optional[np.ndarray]) -> None:
        self.wave = np.zeros(0, np.float32) if wave is None else np.asarray(wave, np.float32)
        self.pos = 0

    def take(self, n: int) -> np.ndarray:
        piece = self.wave[self.pos:self.pos + n]
        self.pos += n
        return piece if piece.shape[0] == n else np.pad(piece, (0, n - piece.shape[0]))


@dataclass
class LiveServerSettings:
    """Where to listen and what to show.

    Attributes:
        host, port: the address (port 0: any free port; the chosen one is printed).
        size: output frame size in pixels.
        jpeg_quality: JPEG quality of the frames sent (1..100).
    """

    host: str = "127.0.0.1"
    port: int = 7861
    size: int = 256
    jpeg_quality: int = 80


def encode_frame(index: int, time_s: float, speaking: float, image: np.ndarray, quality: int) -> bytes:
    """Header + JPEG of one ``[H, W, 3]`` uint8 RGB frame."""
    import cv2

    ok, jpeg = cv2.imencode(".jpg", image[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV fails only on invalid arrays
        raise RuntimeError("JPEG encoding failed")
    return FRAME_HEADER.pack(index, time_s, speaking) + jpeg.tobytes()


def decode_audio_message(message: Any) -> np.ndarray:
    """A client's binary message -> ``[N]`` float32 (finite, clipped to [-1, 1])."""
    if not isinstance(message, (bytes, bytearray)):
        raise InputError("expected binary float32 audio")
    if len(message) % 4 or len(message) > MAX_MESSAGE_BYTES:
        raise InputError(f"audio message of {len(message)} bytes is not whole float32 samples under 1 MiB")
    wave = np.frombuffer(message, dtype="<f4").astype(np.float32)
    return np.clip(np.nan_to_num(wave, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)


async def _serve(settings: LiveServerSettings, new_session: Callable[[], Any],
                 agent_wave: Optional[np.ndarray], ready: Callable[[str], None],
                 stop: Optional[asyncio.Event] = None) -> None:
    from websockets.asyncio.server import serve
    from websockets.datastructures import Headers
    from websockets.http11 import Response

    busy = threading.Lock()
    page = PAGE_HTML.encode("utf-8")

    def process_request(connection: Any, request: Any) -> Any:
        if request.path == "/ws":
            return None  # go on with the WebSocket handshake
        if request.path in ("/", "/index.html"):
            headers = Headers([("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(page))),
                               ("Cache-Control", "no-store")])
            return Response(200, "OK", headers, page)
        return connection.respond(404, "not found\n")

    async def handler(ws: Any) -> None:
        if not busy.acquire(blocking=False):
            await ws.send(json.dumps({"type": "error", "message": "The portrait is in another conversation; "
                                                                  "try again in a moment."}))
            return
        try:
            session = await asyncio.to_thread(new_session)
            voice = AgentVoice(agent_wave)
            await ws.send(json.dumps({"type": "ready", "size": settings.size, "fps": session.fps,
                                      "latency_ms": round(session.algorithmic_latency_s * 1000)}))
            async for message in ws:
                try:
                    partner = decode_audio_message(message)
                except InputError as exc:
                    await ws.send(json.dumps({"type": "error", "message": str(exc)}))
                    continue
                frames = await asyncio.to_thread(session.push, voice.take(partner.shape[0]), partner)
                for frame in frames:
                    await ws.send(encode_frame(frame.index, frame.time_s, frame.agent_speaking, frame.image,
                                               settings.jpeg_quality))
        except OpenInfpError as exc:
            log.warning("live session ended: %s", exc)
            await ws.send(json.dumps({"type": "error", "message": str(exc)}))
        finally:
            busy.release()

    async with serve(handler, settings.host, settings.port, process_request=process_request,
                     max_size=MAX_MESSAGE_BYTES) as server:
        port = server.sockets[0].getsockname()[1]
        ready(f"http://{settings.host}:{port}/")
        await (stop.wait() if stop is not None else asyncio.get_running_loop().create_future())


def run_server(settings: LiveServerSettings, portrait: np.ndarray, agent_wave: Optional[np.ndarray] = None,
               ready: Callable[[str], None] = print, preset: str = "default",
               overrides: tuple[str, ...] = ()) -> None:
    """Load the models, then serve until interrupted.

    Raises:
        InputError: no face in ``portrait`` (checked once before serving).
    """
    from openinfp.live.session import LiveSession
    from openinfp.pipeline.pipeline import ConversationPipeline

    pipeline = ConversationPipeline.from_preset(preset, [*overrides, f"output.size={settings.size}"],
                                                show_progress=False)
    LiveSession.start(portrait, size=settings.size, pipeline=pipeline)  # loads models, checks the face

    def new_session() -> Any:
        return LiveSession.start(portrait, size=settings.size, pipeline=pipeline)

    asyncio.run(_serve(settings, new_session, agent_wave, ready))

"""Long-conversation benchmark: peak memory and time of ``openinfp animate`` on a long input.

``openinfp bench --long-minutes 60`` writes a stereo conversation of that length (a short
two-voice eSpeak NG dialogue, tiled), runs ``openinfp animate`` on it in a child process
(so the figure is the whole command's, imports and models included) and reports:

* ``peak_rss_mb``: the child's peak resident memory (``getrusage`` ``ru_maxrss``);
* ``wall_s`` and ``real_time_factor``;
* what the output holds (frames, duration, audio), checked against the input.

Nothing is downloaded: the dialogue is synthesised, the portrait is scikit-image's
astronaut photo.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from openinfp.core.errors import InputError

DIALOGUE = """A: Hi, thanks for making time today. How was the trip over?
B: Not bad at all. The train was quiet, so I read most of the way.
A: Nice. I wanted to talk about the plans for next month.
B: Sure, go ahead. I have a few ideas as well.
"""
"""The tiled dialogue (about 20 s of speech with pauses)."""

GOAL_MB = 4096.0
"""Issue #10's goal for a one-hour conversation (peak memory under 4 GB)."""


@dataclass
class LongRunReport:
    """Result of one long-conversation run (all sizes in MB, times in seconds)."""

    minutes: float
    size: int
    audio_mb: float
    peak_rss_mb: float
    wall_s: float
    real_time_factor: float
    frames: int
    expected_frames: int
    video_duration_s: float
    has_audio: bool
    goal_mb: float = GOAL_MB

    @property
    def within_goal(self) -> bool:
        return self.peak_rss_mb < self.goal_mb

    def markdown(self) -> str:
        verdict = "within" if self.within_goal else "OVER"
        return (f"| long conversation | {self.minutes:g} min | {self.size}x{self.size} | "
                f"peak {self.peak_rss_mb:.0f} MB ({verdict} the {self.goal_mb:.0f} MB goal) | "
                f"{self.wall_s:.0f} s wall, RTF {self.real_time_factor:.3f} | "
                f"{self.frames}/{self.expected_frames} frames |\n")


def write_long_conversation(path: Path, minutes: float, seed: int = 0) -> Path:
    """A stereo 16 kHz 16-bit WAV of ``minutes`` of conversation, written block by block.

    Returns:
        ``path``. Left channel: person A (the agent), right: person B.
    """
    import soundfile as sf

    from openinfp.audio.script import script_to_conversation

    if not minutes > 0:
        raise InputError(f"--long-minutes must be positive, got {minutes}")
    conversation, _turns = script_to_conversation(DIALOGUE, seed=seed)
    piece = conversation.stereo()  # [n, 2] float32, about 20 s
    total = int(round(minutes * 60 * conversation.sample_rate))
    with sf.SoundFile(str(path), "w", samplerate=conversation.sample_rate, channels=2, subtype="PCM_16") as f:
        written = 0
        while written < total:
            block = piece[:total - written]
            f.write(block)
            written += block.shape[0]
    return path


def run_long_conversation(minutes: float, size: int = 256, seed: int = 0) -> LongRunReport:
    """Write a ``minutes``-long conversation and time/measure ``openinfp animate`` on it.

    The WAV, portrait and MP4 live in a temporary folder, removed afterwards.

    Args:
        minutes: conversation length.
        size: output frame size (``--size``).
        seed: dialogue pauses and the pipeline's seed.

    Raises:
        InputError: bad arguments, or ``animate`` failed (its last output lines quoted).
    """
    import skimage.data
    from PIL import Image

    from openinfp.core.video import probe_video

    if size < 16 or size % 2:
        raise InputError(f"--size must be even and at least 16, got {size}")
    with tempfile.TemporaryDirectory(prefix="openinfp-long-") as tmp:
        folder = Path(tmp)
        wav = write_long_conversation(folder / "conversation.wav", minutes, seed)
        portrait = folder / "portrait.png"
        Image.fromarray(skimage.data.astronaut()).save(portrait)
        video = folder / "conversation.mp4"
        cmd = [sys.executable, "-m", "openinfp", "animate", str(portrait), str(wav), "-o", str(video),
               "--size", str(size), "--seed", str(seed), "-q"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ))
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
            raise InputError(f"openinfp animate failed on the {minutes:g}-minute conversation: {tail}")
        # The only child this process has waited for is `animate`: its peak is the maximum.
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
        info = probe_video(video)
        seconds = minutes * 60.0
        report = LongRunReport(
            minutes=minutes, size=size, audio_mb=round(wav.stat().st_size / 2**20, 3),
            peak_rss_mb=round(peak_mb, 1),
            wall_s=round(wall, 2), real_time_factor=round(wall / seconds, 4), frames=int(info["frames"]),
            expected_frames=int(round(seconds * 25)), video_duration_s=float(info["duration"]),
            has_audio=bool(info["has_audio"]))
    return report


def write_report(report: LongRunReport, path: str | Path) -> None:
    """The report as JSON (``within_goal`` included)."""
    data = asdict(report)
    data["within_goal"] = report.within_goal
    data["machine_cores"] = os.cpu_count()
    Path(path).write_text(json.dumps(data, indent=2) + "\n")


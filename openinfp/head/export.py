"""Export ``head`` motion as a Live Link Face-style ARKit CSV.

Columns: ``Timecode`` (``HH:MM:SS:FF.mmm``, frames at the motion's rate), ``BlendShapeCount``
(55), the 52 ARKit weights named as Live Link Face names them (``EyeBlinkLeft``, ...),
then ``HeadYaw``, ``HeadPitch``, ``HeadRoll`` in radians (openinfp's convention: yaw
positive turns the nose to the viewer's right, pitch positive nods down, roll positive
tilts counter-clockwise as seen by the viewer).
"""

from __future__ import annotations

import csv
import math

from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output
from openinfp.core.motion import MotionSequence
from openinfp.head.motion_space import HEAD_SPACE_NAME, head_euler

HEAD_COLUMNS = ("HeadYaw", "HeadPitch", "HeadRoll")


def livelink_name(arkit_name: str) -> str:
    """``eyeBlinkLeft`` -> ``EyeBlinkLeft`` (Live Link Face capitalises the first letter)."""
    return arkit_name[0].upper() + arkit_name[1:]


def timecode(frame: int, fps: float) -> str:
    """SMPTE-like ``HH:MM:SS:FF.mmm`` for frame ``frame`` at ``fps`` (from 00:00:00:00)."""
    seconds = frame / fps
    whole = int(math.floor(seconds + 1e-9))
    ff = frame - whole * fps
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{int(ff):02d}.{int(round((ff - int(ff)) * 1000)):03d}"


def export_arkit_csv(motion: MotionSequence, path: PathLike) -> None:
    """Write ``motion`` (``head`` space) as a Live Link Face-style CSV (atomically)."""
    if motion.space.name != HEAD_SPACE_NAME:
        raise InputError(f"arkit-csv export needs motion in the {HEAD_SPACE_NAME!r} space, got {motion.space.name!r}")
    weights = motion.get("arkit").numpy()
    ypr = head_euler(motion.motion).numpy()
    header = ["Timecode", "BlendShapeCount"] + [livelink_name(n) for n in ARKIT_NAMES] + list(HEAD_COLUMNS)
    with atomic_output(path, suffix=".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            for i in range(motion.num_frames):
                writer.writerow([timecode(i, motion.fps), len(ARKIT_NAMES) + len(HEAD_COLUMNS)]
                                + [f"{w:.6f}" for w in weights[i]] + [f"{a:.6f}" for a in ypr[i]])

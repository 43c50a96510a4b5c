"""Example inputs for the demo and the docs, generated rather than shipped.

* ``astronaut.png``: Eileen Collins, ``skimage.data.astronaut()`` (public domain, NASA).
* ``partner.png``: Grace Hopper, ``matplotlib``'s ``grace_hopper.jpg`` sample (public domain).
* ``conversation.wav``: the example script spoken by two eSpeak NG voices, stereo
  (left = the portrait's voice, right = the partner).
* ``script.txt``: the script itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Optional

import numpy as np

from openinfp.core.io import atomic_output


def astronaut() -> np.ndarray:
    """``[512, 512, 3]`` uint8 RGB: the astronaut photo from scikit-image."""
    from skimage import data

    return data.astronaut()


def grace_hopper() -> np.ndarray:
    """``[600, 512, 3]`` uint8 RGB: Grace Hopper's portrait from matplotlib's sample data."""
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        return np.asarray(Image.open(fh).convert("RGB"))


def write_image(path: Path, image: np.ndarray) -> None:
    """Save ``[H, W, 3]`` uint8 RGB as PNG (atomically)."""
    from PIL import Image

    with atomic_output(path, suffix=".png") as tmp:
        Image.fromarray(image).save(tmp, format="PNG")


def write_stereo_wav(path: Path, agent: np.ndarray, partner: np.ndarray, sample_rate: int) -> None:
    """Write two mono tracks as one 16-bit stereo WAV (left = agent)."""
    import soundfile as sf

    with atomic_output(path, suffix=".wav") as tmp:
        sf.write(str(tmp), np.stack([agent, partner], axis=1), sample_rate, subtype="PCM_16", format="WAV")


def write_examples(paths: Mapping[str, Path], script: str, max_seconds: Optional[float] = None) -> None:
    """Generate the example files named in ``paths`` (keys: ``portrait``,
    ``partner_portrait``, ``conversation``, ``script``).

    Args:
        max_seconds: cut the conversation to this length (tests keep it short).
    """
    from openinfp.audio.script import script_to_conversation

    write_image(Path(paths["portrait"]), astronaut())
    write_image(Path(paths["partner_portrait"]), grace_hopper())
    conversation, _turns = script_to_conversation(script, seed=0)
    agent, partner = conversation.agent, conversation.partner
    if max_seconds:
        n = int(max_seconds * conversation.sample_rate)
        agent, partner = agent[:n], partner[:n]
    write_stereo_wav(Path(paths["conversation"]), agent, partner, conversation.sample_rate)
    with atomic_output(paths["script"], suffix=".txt") as tmp:
        Path(tmp).write_text(script, encoding="utf-8")

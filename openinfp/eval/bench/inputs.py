"""Inputs the benchmark stages run on, built once per run (never timed).

* a two-person conversation spoken by eSpeak NG (real speech), cut to the clip length;
* the astronaut photo (``skimage.data.astronaut``) as the portrait;
* video-like frames: the photo at the output size with a small per-frame shift and
  rotation, so trackers and encoders see motion;
* demonstration motion in any motion space (sway of every rotation, jaw and blinks),
  addressed through the space's named slices.
"""

from __future__ import annotations

import numpy as np
import torch

from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.motion import MotionSequence
from openinfp.core.motion_space import MotionSpace

BENCH_SCRIPT = (
    "A: Hi! How was the trip to the mountains last week?\n"
    "B: Long, but worth it. We hiked every single day, and the weather held up.\n"
    "A: That sounds wonderful. Did you get to the lake you told me about?\n"
    "B: We did. The water was freezing, but the view from the ridge was amazing.\n"
    "A: I really want to go there next summer. Would you show me the route?\n"
    "B: Of course. I saved the map on my phone, so I can send it tonight.\n"
)


def bench_conversation(seconds: float, fps: float = 25.0, seed: int = 0) -> ConversationAudio:
    """A real-speech two-voice conversation of exactly ``seconds`` (script repeated as needed)."""
    from openinfp.audio.script import script_to_conversation

    need = int(round(seconds * SAMPLE_RATE))
    agent_parts, partner_parts, total = [], [], 0
    round_ = 0
    while total < need:
        conv, _ = script_to_conversation(BENCH_SCRIPT, seed=seed + round_, fps=fps)
        agent_parts.append(conv.agent)
        partner_parts.append(conv.partner)
        total += conv.num_samples
        round_ += 1
    agent = np.concatenate(agent_parts)[:need]
    partner = np.concatenate(partner_parts)[:need]
    return ConversationAudio(agent, partner, source=f"benchmark script ({seconds:g} s, eSpeak NG)")


def bench_portrait() -> np.ndarray:
    """The astronaut photo, ``[512, 512, 3]`` uint8 RGB."""
    from skimage import data

    return data.astronaut()


def bench_frames(num_frames: int, size: int) -> list[np.ndarray]:
    """``num_frames`` frames ``[size, size, 3]``: the portrait gently moving (shift + rotation)."""
    import cv2

    base = cv2.resize(bench_portrait(), (size, size), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(num_frames):
        phase = 2 * np.pi * i / max(num_frames, 1)
        m = cv2.getRotationMatrix2D((size / 2, size / 2), 4.0 * np.sin(phase), 1.0 + 0.02 * np.cos(phase))
        m[:, 2] += (0.02 * size * np.sin(2 * phase), 0.01 * size * np.cos(phase))
        frames.append(cv2.warpAffine(base, m, (size, size), borderMode=cv2.BORDER_REFLECT))
    return frames


def demo_motion(space: MotionSpace, num_frames: int, fps: float = 25.0) -> MotionSequence:
    """Plausible motion in ``space``: every rotation sways a little (different phases),
    the ARKit face (if any) opens the jaw like speech and blinks every 3 s."""
    from openinfp.core.arkit import ARKIT_NAMES
    from openinfp.core.rotations import axis_angle_to_rot6d

    t = torch.arange(num_frames, dtype=torch.float32) / fps
    motion = space.neutral(num_frames)
    for k, part in enumerate(space.slices):
        if part.rotation == "6d":
            n = part.num_rotations
            phase = torch.arange(3 * n, dtype=torch.float32).reshape(n, 3) + k
            aa = 0.08 * torch.sin(2 * np.pi * 0.4 * t[:, None, None] + phase[None])
            motion = space.set(motion, part.name, axis_angle_to_rot6d(aa).reshape(num_frames, 6 * n))
        elif part.component_names == ARKIT_NAMES:
            face = torch.zeros(num_frames, part.size)
            face[:, ARKIT_NAMES.index("jawOpen")] = 0.25 * (1 + torch.sin(2 * np.pi * 4 * t))
            blink = ((t % 3.0) < 0.15).float()
            face[:, ARKIT_NAMES.index("eyeBlinkLeft")] = blink
            face[:, ARKIT_NAMES.index("eyeBlinkRight")] = blink
            motion = space.set(motion, part.name, face)
    return MotionSequence(space.clamp(motion), space, fps)

"""Live motion as a whole-conversation generator, so offline measures can score it.

:func:`live_generate_fn` pushes a conversation through a :class:`LiveSession` in
microphone-sized chunks (motion only, no rendering) and returns the motion it emitted,
padded to the conversation's length with the last frame (the final frames of a live
stream wait for audio that never comes). ``openinfp eval --real DIR --live`` uses it
to put the live path next to the offline model on the same real recordings.
"""

from __future__ import annotations

from typing import Callable, Optional

import torch

from openinfp.core.audio import ConversationAudio
from openinfp.core.motion import MotionSequence
from openinfp.live.settings import CausalSettings

CHUNK_SAMPLES = 320
"""20 ms at 16 kHz, as a microphone delivers audio."""


def live_generate_fn(checkpoint: Optional[str] = None, preset: str = "default", seed: int = 0,
                     settings: CausalSettings = CausalSettings()) -> Callable[[ConversationAudio], MotionSequence]:
    """A ``ConversationAudio -> MotionSequence`` function backed by the live path.

    Each call starts a fresh session (same seed), so conversations do not leak into
    each other; the models are loaded once.
    """
    from openinfp.live.session import LiveSession
    from openinfp.pipeline.pipeline import ConversationPipeline

    overrides = ["motion_space=head"] + ([f"model.checkpoint={checkpoint}"] if checkpoint else [])
    pipeline = ConversationPipeline.from_preset(preset, overrides, show_progress=False)

    def generate(audio: ConversationAudio) -> MotionSequence:
        session = LiveSession.start(None, render=False, pipeline=pipeline, settings=settings, seed=seed)
        rows = []
        for start in range(0, audio.agent.shape[0], CHUNK_SAMPLES):
            stop = start + CHUNK_SAMPLES
            rows += [f.motion for f in session.push(audio.agent[start:stop], audio.partner[start:stop])]
        num_frames = audio.num_frames(session.fps)
        motion = torch.stack(rows[:num_frames]) if rows else session.stream.generator.space.neutral(1)
        if motion.shape[0] < num_frames:
            motion = torch.cat([motion, motion[-1:].expand(num_frames - motion.shape[0], -1)])
        return MotionSequence(motion, session.stream.generator.space, session.fps)

    return generate

"""Options for turning input audio into :class:`~openinfp.core.audio.ConversationAudio`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class AudioConfig:
    """How input audio becomes the agent and partner tracks (see ``docs/AUDIO.md``)."""

    agent_channel: str = field(default="left", metadata={"choices": ("left", "right"),
                               "help": "which stereo channel is the portrait's own voice"})
    agent_speaker: str = field(default="first", metadata={"choices": ("first", "second", "most", "least"),
                               "help": "which diarized speaker of a mono mix is the agent"})
    partner_only: bool = field(default=False, metadata={"help": "a mono file is the partner (pure listening)"})
    mono_mix: bool = field(default=False, metadata={
        "help": "a mono file holds both people: diarize it into agent and partner tracks"})
    max_duration_s: float = field(default=7200.0, metadata={"help": "refuse longer inputs (seconds)",
                                                            "range": (0.1, 86400.0)})

"""Options for turning input audio into :class:`~openinfp.core.audio.ConversationAudio`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from openinfp.core.errors import ConfigError


@dataclass
class AudioConfig:
    """How input audio becomes the agent and partner tracks (see ``docs/AUDIO.md``)."""

    agent_channel: str = field(default="left", metadata={"choices": ("left", "right"),
                               "help": "which stereo channel is the agent's (the portrait's) own voice"})
    agent_speaker: str = field(default="first", metadata={"choices": ("first", "second", "most", "least"),
                               "help": "which diarized speaker of a mono mix is the agent (the portrait): the first to "
                                       "speak, the second, the one who speaks most or least"})
    partner_only: bool = field(default=False, metadata={"help": "a mono file is the partner (pure listening)"})
    mono_mix: bool = field(default=False, metadata={
        "help": "a mono file holds both people: diarize it into agent and partner tracks"})
    speakers: str = field(default="2", metadata={
        "help": "with mono_mix: how many people the mix holds, a number or 'auto' (estimated); "
                "the agent is one of them, the partner track carries all the others"})
    max_duration_s: float = field(default=7200.0, metadata={"help": "refuse longer inputs (seconds)",
                                                            "range": (0.1, 86400.0)})


def parse_speakers(value: object, where: str = "speakers") -> Optional[int]:
    """``'auto'`` -> ``None``; a positive whole number (as int or text) -> that number.

    Raises:
        ConfigError: anything else, naming ``where``.
    """
    text = str(value).strip().lower()
    if text == "auto":
        return None
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise ConfigError(f"{where} is {value!r}; give a number of speakers (1, 2, 3, ...) or 'auto'")

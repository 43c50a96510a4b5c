"""Options of corpus synthesis and dataset loading."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DataConfig:
    """Where training data lives and how windows are cut from it."""

    root: str = field(default="", metadata={"help": "shard directory (manifest.jsonl inside)"})
    window: int = field(default=60, metadata={"help": "frames per training window", "range": (1, 100_000)})


@dataclass
class DualTalkOptions:
    """Reader of DualTalk-style clips (speaker1/speaker2 wav + ARKit blendshape arrays)."""

    blendshape_fps: float = field(default=25.0, metadata={
        "help": "frame rate of the blendshape arrays (.npy/.npz/.csv); resampled to 25 fps", "range": (1.0, 1000.0)})
    val_fraction: float = field(default=0.05, metadata={"help": "share of clips (by id hash) in the val split",
                                                            "range": (0.0, 1.0)})


@dataclass
class Beat2Options:
    """Reader of BEAT2 SMPL-X ``.npz`` files with their ``.wav`` (one speaker per clip)."""

    val_fraction: float = field(default=0.05, metadata={"help": "share of clips (by id hash) in the val split",
                                                            "range": (0.0, 1.0)})


@dataclass
class VideoOptions:
    """Reader of talking videos (one face per video, pairs, or two faces side by side)."""

    layout: str = field(default="auto", metadata={
        "choices": ("auto", "single", "pair", "side-by-side"),
        "help": "single: one person per video (partner silent); pair: NAME_a / NAME_b videos, one person each; "
                "side-by-side: two faces in one video (left = a, right = b); auto: pairs where both files exist, "
                "else single"})
    agent_channel: str = field(default="left", metadata={
        "choices": ("left", "right"), "help": "side-by-side: which stereo channel is the left person"})
    mono_mix: bool = field(default=False, metadata={
        "help": "side-by-side with mono audio: diarize the mix into the two people"})
    smoothing: float = field(default=1.0, metadata={"help": "head tracker smoothing (0 = off)", "range": (0.0, 100.0)})
    val_fraction: float = field(default=0.05, metadata={"help": "share of clips (by id hash) in the val split",
                                                            "range": (0.0, 1.0)})

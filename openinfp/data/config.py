"""Options of corpus synthesis and dataset loading."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DataConfig:
    """Where training data lives and how windows are cut from it."""

    root: str = field(default="", metadata={"help": "shard directory (manifest.jsonl inside)"})
    window: int = field(default=60, metadata={"help": "frames per training window"})

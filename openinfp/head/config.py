"""Options of the head tracker."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class HeadConfig:
    """Head tracking options."""

    face_index: int = field(default=0, metadata={"help": "which face when several: 0 = largest",
                                                  "range": (0, 64)})
    min_face_px: int = field(default=48, metadata={"help": "smallest face (inter-ocular px x 2.5) to track",
                                                    "range": (1, 4096)})
    smoothing: float = field(default=1.0, metadata={
        "help": "temporal smoothing strength for videos (One Euro filter; 0 = off, larger = smoother)",
        "range": (0.0, 100.0)})

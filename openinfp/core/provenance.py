"""The frame filter that marks every video the project writes as synthetic.

:class:`~openinfp.core.video.VideoWriter` applies it by default (invisible watermark on,
visible label off, as in :class:`~openinfp.core.config.OutputConfig`). Passing a
:class:`ProvenanceFilter` as the writer's ``frame_filter`` chooses the switches instead
of adding a second mark. The watermark and label themselves live in
:mod:`openinfp.provenance`; ``openinfp verify VIDEO`` reads them back.
"""

from __future__ import annotations

import numpy as np


class ProvenanceFilter:
    """``f(index, frame) -> frame``: draw the visible label (if asked), then embed the
    invisible watermark (if asked). Frames are ``[H, W, 3]`` uint8 RGB.

    Args:
        watermark: embed the invisible watermark (:mod:`openinfp.core.watermark`).
        label: draw the visible "AI-generated" label (:mod:`openinfp.core.label`).
    """

    def __init__(self, watermark: bool = True, label: bool = False) -> None:
        self.watermark = bool(watermark)
        self.label = bool(label)

    def __call__(self, index: int, frame: np.ndarray) -> np.ndarray:
        if self.label:
            from openinfp.core.label import draw_label

            frame = draw_label(frame)
        if self.watermark:
            from openinfp.core.watermark import embed_watermark

            frame = embed_watermark(frame)
        return frame

    def __repr__(self) -> str:
        return f"ProvenanceFilter(watermark={self.watermark}, label={self.label})"


def frame_filter(watermark: bool = True, label: bool = False) -> ProvenanceFilter:
    """The provenance filter for ``output.watermark`` / ``output.label``."""
    return ProvenanceFilter(watermark=watermark, label=label)

"""The invisible provenance watermark; the code lives in :mod:`openinfp.core.watermark`.

It moved to core because :class:`~openinfp.core.video.VideoWriter` embeds it in every
frame and core imports no stage package; this module keeps the old import path.
"""

from openinfp.core.watermark import (  # noqa: F401
    ANALYSIS,
    DEFAULT_KEY,
    GRID,
    STRENGTH,
    THRESHOLD,
    WATERMARK_TAG,
    WatermarkDetector,
    WatermarkResult,
    cell_gains,
    detect_watermark,
    embed_watermark,
    frame_luma,
    frame_residual,
    interpolation_matrix,
    score_evidence,
    watermark_pattern,
    whiten_cells,
)

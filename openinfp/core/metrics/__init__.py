"""Evaluation metrics of talking/listening motion, computed the way the papers do.

Formulas, sources and parameters: ``docs/METRICS.md``. Everything here works on
:class:`~openinfp.core.MotionSequence` objects through the motion space's named slices,
or on plain ``[T, D]`` feature arrays, and needs no network weights (re-tracking uses
MediaPipe's face mesh, which ships in its wheel).

Submodules (imported lazily by attribute access, so ``import openinfp.core.metrics``
stays cheap):

* :mod:`~openinfp.core.metrics.features` -- expression / pose / mouth / head-angle features
* :mod:`~openinfp.core.metrics.distribution` -- FD, P-FD, SID, Var, L1 diversity
* :mod:`~openinfp.core.metrics.paired` -- L1, L2, Pearson, rPCC
* :mod:`~openinfp.core.metrics.timing` -- lip-sync proxy, beat consistency
* :mod:`~openinfp.core.metrics.behaviour` -- role-separation AUC, nods, listening liveliness
* :mod:`~openinfp.core.metrics.image` -- PSNR, SSIM, identity consistency by re-tracking
* :mod:`~openinfp.core.metrics.audio` -- speech envelope, energy activity, onsets
* :mod:`~openinfp.core.metrics.suite` -- every motion metric over a set of clips
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "fd": "distribution", "paired_fd": "distribution", "frechet_distance": "distribution",
    "Gaussian": "distribution", "sid": "distribution", "shannon_index": "distribution",
    "KMeansCodebook": "distribution", "variance": "distribution", "l1_diversity": "distribution",
    "pairwise_l1_diversity": "distribution",
    "l1_error": "paired", "l2_error": "paired", "pearson": "paired", "rpcc": "paired",
    "lagged_peak_correlation": "timing", "lip_sync_proxy": "timing", "beat_consistency": "timing",
    "motion_beat_consistency": "timing", "speed_minima": "timing",
    "roc_auc": "behaviour", "role_separation_auc": "behaviour", "mouth_activity": "behaviour",
    "detect_nods": "behaviour", "detect_blinks": "behaviour", "listening_liveliness": "behaviour",
    "Liveliness": "behaviour",
    "psnr": "image", "ssim": "image", "landmark_nme": "image", "identity_consistency": "image",
    "FaceLandmarker": "image",
    "speech_envelope": "audio", "speech_activity": "audio", "onset_times": "audio",
    "expression": "features", "pose": "features", "mouth_opening": "features", "head_angles": "features",
    "head_pitch": "features",
    "EvalClip": "suite", "score_clips": "suite", "SuiteOptions": "suite",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

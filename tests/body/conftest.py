"""Fixtures of the body tests: Anny (built once per machine into the pytest cache),
a synthetic SMPL-X model file, and helpers for silhouette checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch


@pytest.fixture(scope="session")
def anny_cache_dir() -> str:
    """Anny's cache folder, resolved as the library does (``$ANNY_CACHE_DIR``, else
    ``~/.cache/openinfp/anny``), so the body, pipeline and demo tests share one build:
    the first run builds Anny's model data (about 1.5 minutes on a 2-core CPU), later
    runs load it in seconds."""
    from openinfp.body.anny_body import ensure_anny_cache_dir

    return str(ensure_anny_cache_dir())


@pytest.fixture(scope="session")
def anny_body(anny_cache_dir):
    from openinfp.body.anny_body import PHENOTYPES, load_anny_body

    return load_anny_body(tuple((key, 0.5) for key in PHENOTYPES), anny_cache_dir)


@pytest.fixture(scope="session")
def smplx_model_dir(tmp_path_factory) -> str:
    from openinfp.body.synthetic_smplx import write_synthetic_smplx

    root = tmp_path_factory.mktemp("smplx_models")
    write_synthetic_smplx(root)
    return str(root)


@pytest.fixture(scope="session")
def project():
    """``project(renderer, motion [T, 385], points [N, 3], camera) -> [N, 2]`` pixel
    coordinates of world points after the renderer's canonical placement of the motion."""
    from openinfp.body.motion_space import smplx_motion_space
    from openinfp.core.motion import MotionSequence

    def _project(renderer, motion: torch.Tensor, points: torch.Tensor, camera) -> torch.Tensor:
        rot, t = renderer.placement(MotionSequence(motion, smplx_motion_space()))
        xy, _ = camera.project(points @ rot.T + t)
        return xy

    return _project


@pytest.fixture(scope="session")
def body_mask():
    """``body_mask(frame [H, W, 3], background [H, W, 3]) -> bool [H, W]``: pixels not background."""
    def _mask(frame: np.ndarray, background: np.ndarray, tol: int = 6) -> np.ndarray:
        return np.abs(frame.astype(np.int16) - background.astype(np.int16)).max(-1) > tol

    return _mask

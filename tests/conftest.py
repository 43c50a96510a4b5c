"""Shared fixtures: everything offline, small and generated or shipped."""

from __future__ import annotations

import os

import pytest

# No test may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def astronaut():
    """A real photo (``skimage.data.astronaut``): ``[512, 512, 3]`` uint8 RGB."""
    from skimage import data

    return data.astronaut()


@pytest.fixture()
def registry():
    """A registry with the built-in plugin only (no entry-point discovery)."""
    from openinfp.core.registry import Registry

    return Registry.create(autoload=False)

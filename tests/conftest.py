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


def _realdata_root():
    """Where the real development set lives: ``$OPENINFP_REALDATA`` or ``../shared/realdata``.

    The set is read in place (never copied into the repository); see its README.
    """
    from pathlib import Path

    env = os.environ.get("OPENINFP_REALDATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


@pytest.fixture(scope="session")
def realdata():
    """The real development set's root folder; skips the test (with the reason) if absent."""
    root = _realdata_root()
    if not (root / "README.md").is_file():
        pytest.skip(f"real development set not found at {root} (set OPENINFP_REALDATA)")
    return root


BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync")
"""Chromium flags for tests on a closed network (no background connections, no sandbox as root)."""


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the system Chromium for Playwright; skips (with the reason) when it is missing."""
    import shutil
    from pathlib import Path

    pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed (pip install "
                                                       "playwright; the browser itself comes from the system)")
    wanted = os.environ.get("OPENINFP_CHROMIUM", "/usr/bin/chromium")
    path = wanted if Path(wanted).is_file() else shutil.which("chromium")
    if not path:
        pytest.skip(f"Chromium not found at {wanted} or on PATH: install the Debian 'chromium' package "
                    "(CI does) or set OPENINFP_CHROMIUM")
    return path

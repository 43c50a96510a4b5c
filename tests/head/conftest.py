import numpy as np
import pytest


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def renderer(astronaut):
    from openinfp.core.interfaces import RenderSource
    from openinfp.head.renderer import PortraitRenderer

    r = PortraitRenderer()
    r.setup(RenderSource(portrait=astronaut))
    return r

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


@pytest.fixture(scope="session")
def grace_hopper() -> np.ndarray:
    """A second real photo shipped by an installed package: a woman wearing glasses with
    thick dark upper frames just above the eyes (matplotlib's sample data, 600 x 512)."""
    import matplotlib.cbook
    from PIL import Image

    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as im:
        return np.asarray(im.convert("RGB")).copy()

"""The visible "AI-generated" label; the code lives in :mod:`openinfp.core.label`.

It moved to core because :class:`~openinfp.core.video.VideoWriter` draws it on request
and core imports no stage package; this module keeps the old import path.
"""

from openinfp.core.label import CORNERS, DEFAULT_TEXT, draw_label  # noqa: F401

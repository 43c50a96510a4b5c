"""Full body: the ``smplx`` motion space, body models, renderers and two-person scenes."""

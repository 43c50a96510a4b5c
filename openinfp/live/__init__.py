"""Live mode: motion and frames for audio that is still arriving (see :mod:`openinfp.live.session`)."""

"""Provenance of generated videos: invisible watermark, visible label, verification.

* :mod:`openinfp.provenance.watermark`: the key-seeded, low-frequency spread-spectrum
  luma watermark that :class:`openinfp.core.video.VideoWriter` embeds in every frame,
  and its correlation detector (a calibrated z-score); the code lives in
  :mod:`openinfp.core.watermark` because core's writer uses it.
* :mod:`openinfp.provenance.label`: the optional visible "AI-generated" label
  (code in :mod:`openinfp.core.label`).
* :mod:`openinfp.provenance.verify`: ``openinfp verify VIDEO`` (metadata tags + watermark).
* :mod:`openinfp.provenance.evaluate`: the measurement of detection and false-positive
  rates reported in ``docs/PROVENANCE.md``.

Submodules are imported explicitly; importing this package is cheap.
"""

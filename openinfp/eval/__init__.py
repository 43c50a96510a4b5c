"""Evaluation (``openinfp eval``) and benchmarking (``openinfp bench``).

* :mod:`openinfp.eval.bench` -- stage timings on this machine.
* :mod:`openinfp.eval.runner` -- generate with several systems and score them with
  :mod:`openinfp.core.metrics`.
"""

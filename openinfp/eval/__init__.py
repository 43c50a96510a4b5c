"""Evaluation (``openinfp eval``) and benchmarking (``openinfp bench``).

* :mod:`openinfp.eval.bench` -- stage timings on this machine.
* :mod:`openinfp.eval.runner` -- generate with several systems and score them with
  :mod:`openinfp.core.metrics`.
"""

SYSTEM_NAMES: tuple[str, ...] = ("ground_truth", "static", "rule_based", "model", "model_no_banks")
"""The rows ``openinfp eval`` can produce, in table order (see :mod:`openinfp.eval.systems`)."""

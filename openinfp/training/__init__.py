"""Training of the motion generator (guider + DiT) and its evaluation.

``openinfp train --config head`` (:func:`openinfp.train_cli.run_train`) runs, in order:

1. **Feature cache** (:mod:`openinfp.training.features`): :func:`~openinfp.training.features.build_feature_cache`
   passes every conversation of the corpus (``data.root``, read by :mod:`openinfp.data.shards`, which the caller
   hands in) once through the configured conditioners and caches the tokens, both sides' motion and speech
   activity under ``train.cache_dir``; :func:`~openinfp.training.features.split_conversations` holds some out.
2. **Windows** (:mod:`openinfp.training.windows`): spans of ``context + window`` frames seen from either side,
   normalised with statistics of the training motion.
3. **Loop** (:mod:`openinfp.training.loop`): :func:`~openinfp.training.loop.fit` trains the module of
   :mod:`openinfp.training.model` (guider + DiT and their loss, with EMA weights) in one process or under
   ``accelerate launch``, logs metrics and saves resumable state (:mod:`openinfp.training.state`).
4. **Output**: ``<out_dir>/checkpoint``, a :class:`~openinfp.core.generator.MotionGenerator` folder with the EMA
   weights, and ``<out_dir>/eval.json`` / ``eval.md`` from :func:`openinfp.training.evaluate.evaluate`
   (behaviour metrics on held-out conversations).

The package imports only :mod:`openinfp.core` (``tests/core/test_layering.py``); modules are imported by
their full name, so importing one loads no other.
"""

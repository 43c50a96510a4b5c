"""Core data types, plugin system, configs and models shared by every stage.

Submodules are imported explicitly (``from openinfp.core.motion import MotionSequence``)
so that importing :mod:`openinfp.core` stays light.
"""

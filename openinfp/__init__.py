"""openinfp: an open framework that turns a still portrait into a participant in a
two-person conversation (talking while its own track speaks, listening while the
partner speaks), after the INFP design, extended to text/image prompts and SMPL-X bodies.

Importing this package is cheap: no torch, no plugin discovery, no global state.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]

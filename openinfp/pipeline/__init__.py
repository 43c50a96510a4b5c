"""The end-to-end pipeline: conversation + portrait -> video (``openinfp animate``).

Public API: :class:`ConversationPipeline`, :class:`AnimateInputs`,
:class:`AnimateOutputs`, :class:`AnimateResult` (imported lazily so ``import
openinfp.pipeline`` stays light).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ConversationPipeline", "AnimateInputs", "AnimateOutputs", "AnimateResult"]


def __getattr__(name: str) -> Any:
    if name == "ConversationPipeline":
        from openinfp.pipeline.pipeline import ConversationPipeline

        return ConversationPipeline
    if name in __all__:
        from openinfp.pipeline import animate_io

        return getattr(animate_io, name)
    raise AttributeError(f"module 'openinfp.pipeline' has no attribute {name!r}")

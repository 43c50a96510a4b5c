"""A behaviour prompt -> explicit behaviour settings (how much the head moves, how much it nods).

The ``text`` conditioner's MiniLM token is what the motion models were trained with, but
they barely respond to it (docs/MODELS.md "Prompts"). This module reads the same prompt
a second, explicit way, for :mod:`openinfp.core.behaviour`:

1. the prompt is cut into clauses at punctuation and at "and" / "but";
2. every clause is embedded with the same MiniLM model and compared (cosine) with the
   sentences that describe each level of each behaviour in the synthetic corpus
   (:mod:`openinfp.data.style`: head motion, nodding, smiling, verbal feedback and
   expressiveness, each low / middle / high);
3. a clause is *about* the behaviour whose description it matches best, if that
   similarity reaches :data:`MIN_SIMILARITY` (else it is about nothing we control);
4. its value says where the clause lies between that behaviour's low and high
   descriptions: the projection of its embedding on the direction from the mean low to
   the mean high description, from their midpoint, through ``tanh(x / TEMPERATURE)``
   (-1 = low, +1 = high), shrunk towards 0 by how clearly the clause matches the
   middle-level wording best ("sometimes nods" -> 0). On 19 development phrases this
   read every one right, against 16-18 for nearest-description voting (MiniLM has a
   weak sense of quantity words such as "rarely" or "constantly") and 14 when the
   middle descriptions set the zero point;
5. an axis takes the value of its most similar clause; head motion and nodding become
   the :class:`~openinfp.core.behaviour.BehaviourSettings` (the other behaviours are
   read only so that "smiles a lot" is not mistaken for a head-motion clause).

Because the comparison is by sentence embedding, paraphrases ("keeps nodding along
when the other one talks", "hardly moves their head at all") land on the right level
without any fixed string matching (tested on paraphrases not among the descriptions).
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import torch

from openinfp.core.behaviour import BEHAVIOUR_AXES, BehaviourSettings

log = logging.getLogger(__name__)

MIN_SIMILARITY = 0.5
"""Cosine similarity a clause needs with a behaviour's description to count as about it."""

TEMPERATURE = 0.05
"""Projection (on a behaviour's unit low-to-high direction) that maps to +-0.76 (``tanh 1``)."""

LEVEL_TEMPERATURE = 0.02
"""Softmax temperature over the levels' best similarities (how sure a clause is "middle")."""


_PUNCTUATION = re.compile(r"[,;.!?]+")
_CONJUNCTION = re.compile(r"\s+(?:and|but)\s+", re.IGNORECASE)


EXTRA_DESCRIPTIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "head_motion": (
        ("keeps the head still", "hardly any head movement", "a still, quiet posture", "stays motionless",
         "moves very little", "a calm, steady head"),
        ("normal head movement", "moves the head naturally"),
        ("moves a lot", "big, lively head movements", "an animated, restless head", "moves the head constantly",
         "very energetic head motion"),
    ),
    "nodding": (
        ("never nods", "does not nod", "almost no nodding", "nods very rarely"),
        ("nods occasionally", "nods from time to time"),
        ("nods all the time", "nods frequently", "keeps nodding", "nods along eagerly", "lots of nodding"),
    ),
}
"""Descriptions added to the corpus' own wording for the two controlled axes (more ways to
say each level; written before the paraphrases of the tests, which are not among them)."""


def behaviour_descriptions() -> dict[str, tuple[tuple[str, ...], ...]]:
    """Per behaviour, its (low, middle, high) descriptions: the synthetic corpus' wording
    (:mod:`openinfp.data.style`) plus :data:`EXTRA_DESCRIPTIONS`.

    Keys are the controlled axes (:data:`~openinfp.core.behaviour.BEHAVIOUR_AXES`) and
    the behaviours that are only recognised (``smile``, ``feedback``, ``expressive``).
    """
    from openinfp.data import style

    corpus = {"head_motion": style.HEAD_MOTION_WORDING, "nodding": style.NOD_WORDING,
              "smile": style._SMILE, "feedback": style._BACKCHANNEL, "expressive": style._EXPRESSIVE}
    return {name: tuple(tuple(levels[i]) + tuple(EXTRA_DESCRIPTIONS.get(name, ((), (), ()))[i]) for i in range(3))
            for name, levels in corpus.items()}


def split_clauses(prompt: str) -> list[str]:
    """The prompt's clauses: cut at punctuation, and at "and" / "but" where both sides
    keep at least two words ("nods now and then" stays whole); empty pieces dropped."""
    out: list[str] = []
    for part in _PUNCTUATION.split(prompt):
        pieces = [p.strip() for p in _CONJUNCTION.split(part) if p.strip()]
        if pieces and all(len(p.split()) >= 2 for p in pieces):
            out.extend(pieces)
        elif part.strip():
            out.append(" ".join(part.split()))
    return out


@lru_cache(maxsize=1)
def _anchor_embeddings() -> tuple[tuple[tuple[str, int], ...], torch.Tensor]:
    """((behaviour, level -1/0/+1) per description, ``[M, 384]`` L2-normalised embeddings)."""
    from openinfp.conditioners.text import embed_texts

    keys, texts = [], []
    for name, levels in behaviour_descriptions().items():
        for level, phrases in enumerate(levels):
            for phrase in phrases:
                keys.append((name, level - 1))
                texts.append(phrase)
    return tuple(keys), embed_texts(texts)


def _axis_value(embedding: torch.Tensor, anchors: torch.Tensor, levels: torch.Tensor) -> float:
    """Where ``embedding [384]`` lies on the behaviour's scale, in ``(-1, 1)``.

    Direction: the projection on the direction from the mean low to the mean high
    description, from their midpoint, through ``tanh(x / TEMPERATURE)``. Size: times
    ``1 - p(middle)``, where ``p`` is a softmax (temperature :data:`LEVEL_TEMPERATURE`)
    over each level's best cosine similarity, so middle-level wording stays near 0.
    """
    high, low = anchors[levels == 1].mean(0), anchors[levels == -1].mean(0)
    direction = high - low
    x = float((embedding - (high + low) / 2) @ direction / direction.norm())
    best = torch.stack([(anchors[levels == lvl] @ embedding).max() for lvl in (-1, 0, 1)])
    middle = float(torch.softmax(best / LEVEL_TEMPERATURE, dim=0)[1])
    return float(torch.tanh(torch.tensor(x / TEMPERATURE))) * (1.0 - middle)


def read_behaviour(prompt: str) -> tuple[BehaviourSettings, dict[str, tuple[str, float, float]]]:
    """Behaviour settings described by ``prompt`` (the steps in the module docstring).

    Returns:
        ``(settings, evidence)``; ``evidence[behaviour] = (clause, value, similarity)`` for
        each behaviour some clause is about (value only for the controlled axes, else 0).
    """
    from openinfp.conditioners.text import embed_texts

    clauses = split_clauses(prompt)
    if not clauses:
        return BehaviourSettings(), {}
    keys, anchors = _anchor_embeddings()
    names = sorted({k[0] for k in keys})
    owner = [names.index(k[0]) for k in keys]
    levels = torch.tensor([k[1] for k in keys])
    embeddings = embed_texts(clauses)
    sims = embeddings @ anchors.T  # [C, M] cosine (both L2-normalised)
    evidence: dict[str, tuple[str, float, float]] = {}
    for ci, clause in enumerate(clauses):
        per_name = [float(max(sims[ci, m] for m in range(len(keys)) if owner[m] == j)) for j in range(len(names))]
        j = max(range(len(names)), key=per_name.__getitem__)
        about, similarity = names[j], per_name[j]
        if similarity < MIN_SIMILARITY or (about in evidence and similarity <= evidence[about][2]):
            continue
        rows = torch.tensor([owner[m] == j for m in range(len(keys))])
        value = _axis_value(embeddings[ci], anchors[rows], levels[rows]) if about in BEHAVIOUR_AXES else 0.0
        evidence[about] = (clause, value, similarity)
    settings = BehaviourSettings(**{a: round(evidence[a][1], 4) if a in evidence else 0.0 for a in BEHAVIOUR_AXES})
    log.debug("behaviour prompt %r -> %s (evidence %s)", prompt, settings, evidence)
    return settings, evidence

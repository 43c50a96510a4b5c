"""Per-participant behaviour style of the synthetic corpus, and its text description.

Every synthetic participant gets a :class:`StyleParams`; the motion rules read it, and
:func:`describe_style` turns it into an English sentence so that the text conditioner
has (text, motion) pairs whose text truly matches the motion.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

SHORT_PROMPT_SHARE = 0.3
"""Share of synthetic style descriptions cut to one or two clauses (head motion, nodding)."""

STYLE_KEYS: tuple[str, ...] = ("expressiveness", "nod_rate", "smile_rate", "head_motion_scale", "backchannel_rate")


@dataclass(frozen=True)
class StyleParams:
    """Behaviour parameters of one synthetic participant (all in [0, 1] except the scale).

    Attributes:
        expressiveness: amplitude of mouth shapes, brows and gestures (0.3 reserved .. 1 animated).
        nod_rate: probability of nodding at each of the partner's phrase ends.
        smile_rate: probability of smiling with a backchannel / at a phrase end.
        head_motion_scale: multiplier of every head rotation (0.4 still .. 1.6 lively).
        backchannel_rate: probability of saying "yeah", "mm hmm", ... at a partner's phrase end.
    """

    expressiveness: float
    nod_rate: float
    smile_rate: float
    head_motion_scale: float
    backchannel_rate: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}

    def as_vector(self) -> np.ndarray:
        """``[5]`` float32 in :data:`STYLE_KEYS` order."""
        return np.asarray([getattr(self, k) for k in STYLE_KEYS], dtype=np.float32)

    @classmethod
    def from_dict(cls, d: dict) -> StyleParams:
        return cls(**{f.name: float(d[f.name]) for f in fields(cls)})


def sample_style(rng: np.random.Generator) -> StyleParams:
    """Draw a random style (roughly uniform over the described bins)."""
    return StyleParams(
        expressiveness=float(rng.uniform(0.3, 1.0)),
        nod_rate=float(rng.uniform(0.05, 0.95)),
        smile_rate=float(rng.uniform(0.05, 0.8)),
        head_motion_scale=float(rng.uniform(0.3, 1.7)),
        backchannel_rate=float(rng.uniform(0.1, 0.6)),
    )


def _bin(value: float, low: float, high: float) -> int:
    """0 below ``low``, 2 above ``high``, else 1."""
    return 0 if value < low else (2 if value > high else 1)


_EXPRESSIVE = (("reserved", "restrained", "low-key"), ("moderately expressive", "natural", "relaxed"),
               ("animated", "very expressive", "lively"))
# how the corpus words each level (low, middle, high) of a behaviour; the text conditioner's
# behaviour control (openinfp.conditioners.text_behaviour) reads the head and nod levels too
HEAD_MOTION_WORDING: tuple[tuple[str, ...], ...] = (
    ("keeps the head quite still", "moves the head very little", "barely moves"),
    ("moves the head a moderate amount", "has ordinary head movement"),
    ("moves the head a lot", "has large, lively head movements"),
)
NOD_WORDING: tuple[tuple[str, ...], ...] = (
    ("rarely nods while listening", "seldom nods"),
    ("nods now and then while listening", "sometimes nods"),
    ("nods often while listening", "nods a lot when the other person talks", "nods a lot while listening"),
)
_SMILE = (("seldom smiles", "rarely smiles"), ("smiles occasionally", "smiles from time to time"),
          ("smiles a lot", "smiles often"))
_BACKCHANNEL = (("stays mostly silent while listening", "gives few verbal responses"),
                ("says 'yeah' or 'mm hmm' from time to time", "gives some verbal feedback"),
                ("often says 'yeah', 'right' or 'mm hmm' while listening", "gives frequent verbal feedback"))


def describe_style(style: StyleParams, rng: np.random.Generator | None = None) -> str:
    """An English description of ``style``.

    With ``rng`` the wording varies (synonyms and clause order) while the meaning stays
    the same; without it the first wording is used (deterministic).
    """
    def choose(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))] if rng is not None else options[0]

    adjective = choose(_EXPRESSIVE[_bin(style.expressiveness, 0.5, 0.8)])
    clauses = [
        choose(HEAD_MOTION_WORDING[_bin(style.head_motion_scale, 0.75, 1.25)]),
        choose(NOD_WORDING[_bin(style.nod_rate, 0.35, 0.65)]),
        choose(_SMILE[_bin(style.smile_rate, 0.25, 0.55)]),
        choose(_BACKCHANNEL[_bin(style.backchannel_rate, 0.25, 0.45)]),
    ]
    if rng is not None:
        order = rng.permutation(len(clauses))
        clauses = [clauses[i] for i in order]
        if rng.random() < SHORT_PROMPT_SHARE:
            # users type short prompts ("nods a lot while listening"): a share of the
            # descriptions names only the head-motion and/or nodding behaviour
            short = [clauses[i] for i in range(len(clauses)) if order[i] in (0, 1)]
            keep = short if rng.random() < 0.5 else short[:1]
            return " and ".join(keep) + "."
    article = "An" if adjective[0] in "aeiou" else "A"
    return f"{article} {adjective} person who {', '.join(clauses[:-1])} and {clauses[-1]}."


@dataclass(frozen=True)
class Baseline:
    """A participant's resting pose and expression, which their motion varies around.

    This is what a style image shows (its tracked head pose and ARKit expression): the
    rules add it to every frame, and the corpus stores it as the side's ``reference``
    (a ``head``-space vector) so the model learns to read it from the ``image`` token.

    Attributes:
        yaw, pitch, roll: head rotation offsets (degrees).
        smile: resting ``mouthSmile*`` (with cheek and eye squint) in [0, 0.6].
        brow: resting ``browInnerUp`` / ``browOuterUp*`` in [0, 0.4].
    """

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    smile: float = 0.0
    brow: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def sample_baseline(rng: np.random.Generator) -> Baseline:
    """A random resting pose/expression: often near neutral, sometimes clearly smiling or turned."""
    smiling = rng.random() < 0.35
    # the draws stay in this order (the corpus is a function of its seed); the smiling share
    # is 20 % (tracked real talkers hardly ever smile above 0.3: smile share 0.0)
    smiling = smiling and rng.random() < 0.57
    return Baseline(
        yaw=float(rng.normal(0.0, 6.0)), pitch=float(rng.normal(0.0, 4.0)), roll=float(rng.normal(0.0, 3.0)),
        smile=float(rng.uniform(0.25, 0.6) if smiling else rng.uniform(0.0, 0.08)),
        brow=float(rng.uniform(0.0, 0.3) if rng.random() < 0.2 else 0.0),
    )

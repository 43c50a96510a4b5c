"""Behaviour and distribution metrics of trained models on held-out cached conversations."""

from __future__ import annotations

import sys
from typing import Any, Iterable, Optional, Sequence

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.guider import GuiderInputs
from openinfp.core.motion_space import MotionSpace
from openinfp.training.features import ConversationFeatures


def _inputs_of(conv: ConversationFeatures, side: int) -> GuiderInputs:
    agent, partner = conv.sides[side], conv.sides[1 - side]
    style = {k: (torch.from_numpy(v)[None], torch.ones(1, v.shape[0], dtype=torch.bool))
             for k, v in agent.style.items()}
    return GuiderInputs(torch.from_numpy(agent.audio)[None], torch.from_numpy(partner.audio)[None], style,
                        conv.num_frames)


def generate_from_features(gen, conv: ConversationFeatures, side: int, seed: int = 0,
                           steps: Optional[int] = None):
    """Generate one side's motion of a cached conversation (the conditioners already ran)."""
    from openinfp.core.sampling import sample_chained

    inputs = _inputs_of(conv, side)
    inputs.style = {k: v for k, v in inputs.style.items() if k in gen.guider.style_proj}
    out = gen.guide(inputs)
    motion = sample_chained(gen.window_sampler(seed, steps), out.features, conv.num_frames)
    return gen.to_motion(motion[0], out.speaking_logits[0])


def evaluate(systems: dict[str, Any], convs: Sequence[ConversationFeatures], space: MotionSpace,
             fps: float = 25.0, seed: int = 0, steps: Optional[int] = None,
             progress: bool = True) -> dict[str, dict[str, Any]]:
    """Behaviour and distribution metrics of several systems on held-out conversations.

    ``systems``: name -> :class:`MotionGenerator`, or ``"static"`` for the baseline that
    holds the training-mean pose. Each conversation is evaluated from every side that has
    ground-truth motion. Uses :func:`openinfp.core.metrics.score_clips`; adds the
    per-frame jawOpen ROC AUC and nod rates during the partner's turns.
    """
    from tqdm.auto import tqdm

    from openinfp.core.metrics import behaviour
    from openinfp.core.metrics import features as mfeat
    from openinfp.core.metrics.suite import EvalClip, fit_codebooks, score_clips
    from openinfp.core.motion import MotionSequence

    cases = [(c, s) for c in convs for s in (0, 1) if c.sides[s].motion is not None]
    if not cases:
        raise InputError("no held-out conversation side with ground-truth motion to evaluate on")
    targets = [MotionSequence(torch.from_numpy(c.sides[s].motion), space, fps) for c, s in cases]
    codebooks = fit_codebooks(targets)
    face = mfeat.face_slice_name(space)

    def extra(seqs: list[MotionSequence]) -> dict[str, float]:
        jaw, lab, nods, listen_min = [], [], 0, 0.0
        for seq, (c, s) in zip(seqs, cases):
            jaw.append(space.get_component(seq.motion, face, "jawOpen").numpy())
            lab.append(c.sides[s].activity > 0.5)
            listening = (c.sides[1 - s].activity > 0.5) & (c.sides[s].activity <= 0.5)
            found = behaviour.detect_nods(mfeat.head_pitch(seq), fps)
            nods += sum(1 for n in found if listening[n.start])
            listen_min += listening.sum() / fps / 60.0
        labels = np.concatenate(lab)
        return {"jaw_auc": behaviour.roc_auc(np.concatenate(jaw), labels),
                "nods_per_listening_min": nods / max(listen_min, 1e-9)}

    results: dict[str, dict[str, Any]] = {}
    gt_clips = [EvalClip(f"{c.id}:{s}", t, agent_active=c.sides[s].activity > 0.5,
                         partner_active=c.sides[1 - s].activity > 0.5, target=t)
                for (c, s), t in zip(cases, targets)]
    res = score_clips(gt_clips, reference=targets, codebooks=codebooks)
    results["ground_truth"] = {**res.values, **extra(targets)}
    for name, system in systems.items():
        seqs = []
        for c, s in tqdm(cases, desc=f"eval {name}", unit="clip", disable=not progress, file=sys.stderr):
            if system == "static":
                seqs.append(MotionSequence(space.mean.expand(c.num_frames, -1).clone(), space, fps))
            else:
                seqs.append(generate_from_features(system, c, s, seed=seed, steps=steps))
        clips = [EvalClip(g.name, m, agent_active=g.agent_active, partner_active=g.partner_active, target=g.target)
                 for g, m in zip(gt_clips, seqs)]
        res = score_clips(clips, reference=targets, codebooks=codebooks)
        results[name] = {**res.values, **extra(seqs)}
    gt_rate = results["ground_truth"]["nods_per_listening_min"]
    for name in systems:
        rate = results[name]["nods_per_listening_min"]
        results[name]["nod_rate_ratio"] = rate / gt_rate if gt_rate > 0 else float("nan")
    return results


def format_table(results: dict[str, dict[str, Any]], keys: Optional[Iterable[str]] = None) -> str:
    """A Markdown table of :func:`evaluate` results (systems as columns)."""
    systems = list(results)
    keys = list(keys) if keys is not None else sorted({k for r in results.values() for k in r})
    lines = ["| metric | " + " | ".join(systems) + " |", "|---" * (len(systems) + 1) + "|"]
    for k in keys:
        cells = []
        for s in systems:
            v = results[s].get(k)
            cells.append("n/a" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}")
        lines.append(f"| {k} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


EVAL_KEYS = ("jaw_auc", "role_auc", "nods_per_listening_min", "nod_rate", "nod_rate_ratio", "fd_exp", "fd_pose",
             "sid_exp", "sid_pose", "var_exp", "var_pose")
"""Metrics shown in the evaluation table (``eval.md``)."""

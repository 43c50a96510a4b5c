"""Every motion metric over a set of clips, pooled the way the papers pool them.

:func:`score_clips` is what ``openinfp eval`` runs for each system (ground truth,
static face, baseline, model, ablations), and what training code can call on its
validation set. A metric whose inputs are missing (no ground truth, no partner
motion, no audio) is reported in ``SuiteResult.missing`` with the reason, never as 0.

Pooling (see ``docs/METRICS.md``): FD, P-FD, SID, L1 diversity and role-separation AUC
pool the frames of all clips; Var, lip-sync and beat consistency are averaged over
clips; L1/L2 and rPCC pool the frames of all clips; the nod rate is total nods over
total listening minutes and the head energy is averaged over all listening frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np

from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.errors import InputError
from openinfp.core.metrics import behaviour, distribution, features, paired, timing
from openinfp.core.motion import MotionSequence

FEATURE_KINDS: tuple[str, str] = ("expression", "pose")
_SHORT = {"expression": "exp", "pose": "pose"}


@dataclass
class EvalClip:
    """One clip of one system, with what the metrics may compare it against.

    Attributes:
        name: clip id (for messages).
        motion: the agent's motion produced by the system, ``T`` frames.
        agent_wave: the agent's 16 kHz audio ``[N]`` (lip sync, beats), if known.
        agent_active: ``[T]`` bool, the agent's speech activity, if known.
        partner_active: ``[T]`` bool, the partner's speech activity, if known.
        target: the real agent motion of the same clip (ground truth), if any.
        partner_motion: the real partner motion of the same clip, if any.
        sample_rate: rate of ``agent_wave``.
    """

    name: str
    motion: MotionSequence
    agent_wave: Optional[np.ndarray] = None
    agent_active: Optional[np.ndarray] = None
    partner_active: Optional[np.ndarray] = None
    target: Optional[MotionSequence] = None
    partner_motion: Optional[MotionSequence] = None
    sample_rate: int = SAMPLE_RATE


@dataclass
class SuiteOptions:
    """Parameters of the metrics (defaults follow the cited papers where they state one)."""

    sid_k: int = 40
    sid_seed: int = 0
    bc_sigma: float = 0.3
    bc_order: int = 7
    lip_max_lag: int = 5
    mouth_window_s: float = 0.32
    rpcc_per_dimension: bool = False


@dataclass
class SuiteResult:
    """Metric values by name and, for metrics that could not be computed, the reason."""

    values: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"values": dict(self.values), "missing": dict(self.missing)}


def _common(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = min(a.shape[0], b.shape[0])
    return a[:n], b[:n]


def fit_codebooks(reference: Sequence[MotionSequence], options: SuiteOptions = SuiteOptions()
                  ) -> dict[str, distribution.KMeansCodebook]:
    """k-means codebooks (expression and pose) for SID, fitted on pooled reference frames."""
    if not reference:
        raise InputError("SID codebooks need at least one reference clip")
    return {kind: distribution.KMeansCodebook.fit(np.concatenate([features.features(m, kind) for m in reference]),
                                                  k=options.sid_k, seed=options.sid_seed)
            for kind in FEATURE_KINDS}


def score_clips(clips: Sequence[EvalClip], reference: Optional[Sequence[MotionSequence]] = None,
                options: SuiteOptions = SuiteOptions(),
                codebooks: Optional[dict[str, distribution.KMeansCodebook]] = None) -> SuiteResult:
    """Compute every motion metric for one system's clips.

    Args:
        clips: the system's output, one entry per conversation.
        reference: real motion for FD (defaults to the clips' ``target`` motions).
        options: metric parameters.
        codebooks: SID codebooks by feature kind (from :func:`fit_codebooks`); shared
            across the systems of one evaluation so their SIDs are comparable. Default:
            fitted on ``reference`` when there is one.
    """
    if not clips:
        raise InputError("no clips to score")
    res = SuiteResult()
    targets = [c.target for c in clips]
    has_targets = all(t is not None for t in targets)
    if reference is None and has_targets:
        reference = targets  # type: ignore[assignment]
    has_partner = has_targets and all(c.partner_motion is not None for c in clips)

    def attempt(name: str, fn: Callable[[], float]) -> None:
        try:
            value = float(fn())
        except InputError as exc:
            res.missing[name] = str(exc)
            return
        if np.isnan(value):
            res.missing[name] = "undefined (NaN)"
        else:
            res.values[name] = value

    gen = {k: [features.features(c.motion, k) for c in clips] for k in FEATURE_KINDS}
    pooled = {k: np.concatenate(v) for k, v in gen.items()}
    if codebooks is None and reference:
        codebooks = fit_codebooks(reference, options)

    for kind in FEATURE_KINDS:
        s = _SHORT[kind]
        if reference:
            ref = np.concatenate([features.features(m, kind) for m in reference])
            attempt(f"fd_{s}", lambda: distribution.fd(ref, pooled[kind]))
        else:
            res.missing[f"fd_{s}"] = "no real motion to compare with"
        if has_partner:
            pairs = [_pair_features(c, kind) for c in clips]
            attempt(f"pfd_{s}", lambda: distribution.paired_fd(
                np.concatenate([p[0] for p in pairs]), np.concatenate([p[1] for p in pairs]),
                np.concatenate([p[2] for p in pairs])))
            attempt(f"rpcc_{s}", lambda: paired.rpcc([p[2] for p in pairs], [p[0] for p in pairs],
                                                     [p[1] for p in pairs], options.rpcc_per_dimension))
        else:
            res.missing[f"pfd_{s}"] = res.missing[f"rpcc_{s}"] = "needs ground truth and partner motion"
        if has_targets:
            pairs_gt = [_common(g, features.features(t, kind)) for g, t in zip(gen[kind], targets)]
            pred = np.concatenate([p[0] for p in pairs_gt])
            true = np.concatenate([p[1] for p in pairs_gt])
            attempt(f"l1_{s}", lambda: paired.l1_error(pred, true))
            attempt(f"l2_{s}", lambda: paired.l2_error(pred, true))
        else:
            res.missing[f"l1_{s}"] = res.missing[f"l2_{s}"] = "needs ground truth"
        if codebooks is not None:
            attempt(f"sid_{s}", lambda: distribution.sid(pooled[kind], codebook=codebooks[kind]))
        else:
            res.missing[f"sid_{s}"] = "no reference motion to fit the k-means codebook on"
        attempt(f"var_{s}", lambda: distribution.variance(gen[kind]))
        attempt(f"l1div_{s}", lambda: distribution.l1_diversity(pooled[kind]))

    _behaviour(clips, options, res, attempt)
    return res


def _pair_features(clip: EvalClip, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(real agent, real partner, generated agent)`` features cut to a common length."""
    real = features.features(clip.target, kind)  # type: ignore[arg-type]
    partner = features.features(clip.partner_motion, kind)  # type: ignore[arg-type]
    gen = features.features(clip.motion, kind)
    n = min(real.shape[0], partner.shape[0], gen.shape[0])
    return real[:n], partner[:n], gen[:n]


def _behaviour(clips: Sequence[EvalClip], options: SuiteOptions, res: SuiteResult, attempt) -> None:
    # Role separation: pool mouth activity and labels over clips.
    if all(c.agent_active is not None for c in clips):
        def auc() -> float:
            scores, labels = [], []
            for c in clips:
                act = np.asarray(c.agent_active).astype(bool)
                if act.size != c.motion.num_frames:
                    raise InputError(f"clip {c.name}: {act.size} activity frames, {c.motion.num_frames} motion frames")
                scores.append(behaviour.mouth_activity(c.motion, options.mouth_window_s))
                labels.append(act)
            return behaviour.roc_auc(np.concatenate(scores), np.concatenate(labels))
        attempt("role_auc", auc)
    else:
        res.missing["role_auc"] = "needs the agent's speech activity"

    if all(c.partner_active is not None for c in clips):
        energy_sum, frames, nods, listen_s, reasons = 0.0, 0, 0, 0.0, []
        for c in clips:
            try:
                live = behaviour.listening_liveliness(c.motion, c.partner_active, c.agent_active)
            except InputError as exc:
                reasons.append(f"{c.name}: {exc}")
                continue
            n_listen = int(round(live.listening_s * c.motion.fps))
            energy_sum += live.head_energy * n_listen
            frames += n_listen
            nods += live.nods
            listen_s += live.listening_s
        if frames:
            res.values["listen_head_energy"] = energy_sum / frames
            res.values["nod_rate"] = nods / (listen_s / 60.0)
            res.values["listen_s"] = listen_s
        else:
            res.missing["listen_head_energy"] = res.missing["nod_rate"] = "; ".join(reasons) or "no listening frames"
    else:
        res.missing["listen_head_energy"] = res.missing["nod_rate"] = "needs the partner's speech activity"

    if all(c.agent_wave is not None for c in clips):
        def lip() -> float:
            rs = [timing.lip_sync_proxy(c.motion, c.agent_wave, c.sample_rate, options.lip_max_lag)
                  for c in clips]
            lags = [lag for r, lag in rs if r > 0]  # a still mouth has no lag
            if lags:
                res.values["lipsync_lag"] = float(np.median(lags))
            else:
                res.missing["lipsync_lag"] = "the mouth never correlates positively with the speech"
            return float(np.mean([r for r, _ in rs]))
        attempt("lipsync_r", lip)

        def bc() -> float:
            scores, last = [], "no clips"
            for c in clips:
                try:
                    scores.append(timing.motion_beat_consistency(c.motion, c.agent_wave, c.sample_rate,
                                                                 sigma=options.bc_sigma, order=options.bc_order))
                except InputError as exc:  # e.g. the agent never speaks: no onsets, BC undefined
                    last = f"{c.name}: {exc}"
            if not scores:
                raise InputError(last)
            return float(np.mean(scores))
        attempt("beat_consistency", bc)
    else:
        res.missing["lipsync_r"] = res.missing["beat_consistency"] = "needs the agent's audio"

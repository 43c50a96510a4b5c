"""`run_eval`: generate with every system, score with the same metrics, tabulate.

For each system (row) and conversation: the system's agent motion (cut to the
conversation's frames), scored by :func:`openinfp.core.metrics.suite.score_clips`
against the conversation's ground truth where there is one. SID codebooks are fitted
once per evaluation (on the ground truth, or on all systems' pooled output when there
is none) so every row is measured with the same clusters. Optionally the first
conversations are rendered (``render_frames``) for image metrics: identity consistency
against the portrait, and SSIM/PSNR against the ground truth rendered the same way.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Optional, Sequence

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output
from openinfp.core.metrics.suite import EvalClip, SuiteOptions, SuiteResult, fit_codebooks, score_clips
from openinfp.core.motion import MotionSequence
from openinfp.eval import SYSTEM_NAMES
from openinfp.eval.inputs import EvalConversation
from openinfp.eval.systems import SystemUnavailable, build_systems


@dataclass
class EvalOptions:
    """How to evaluate.

    Attributes:
        space: motion space generated and scored (``head`` or ``smplx``).
        systems: rows, in order (see :data:`openinfp.eval.systems.SYSTEM_NAMES`).
        seed: generation seed (the same for every conversation and system).
        checkpoint: model checkpoint folder (empty: shipped default).
        no_banks_checkpoint: checkpoint trained without memory banks (empty: look for
            a shipped one).
        preset: pipeline config preset for the model rows.
        overrides: ``key=value`` config overrides for the model rows.
        render_frames: frames rendered per conversation for image metrics (0: none).
        render_clips: how many conversations (the first ones) to render.
        renderer: renderer used for image metrics.
        suite: metric parameters.
        human: name the ground-truth row ``human`` (real tracked people).
    """

    space: str = "head"
    systems: tuple[str, ...] = SYSTEM_NAMES
    seed: int = 0
    checkpoint: str = ""
    no_banks_checkpoint: str = ""
    preset: str = "default"
    overrides: tuple[str, ...] = ()
    render_frames: int = 25
    render_clips: int = 1
    renderer: str = "portrait"
    suite: SuiteOptions = field(default_factory=SuiteOptions)
    human: bool = False


@dataclass
class SystemResult:
    """One row: status, metric values, and why any is missing."""

    name: str
    status: str = "ok"
    reason: str = ""
    metrics: SuiteResult = field(default_factory=SuiteResult)
    image: dict[str, float] = field(default_factory=dict)
    image_missing: dict[str, str] = field(default_factory=dict)
    generation_s: float = 0.0
    frames: int = 0
    notes: list[str] = field(default_factory=list)

    def value(self, key: str) -> Optional[float]:
        if key in self.metrics.values:
            return self.metrics.values[key]
        return self.image.get(key)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "reason": self.reason,
                "metrics": self.metrics.to_dict(), "image": dict(self.image),
                "image_missing": dict(self.image_missing), "generation_s": self.generation_s, "frames": self.frames,
                "notes": list(self.notes)}


@dataclass
class EvalReport:
    """Everything one evaluation produced."""

    options: EvalOptions
    conversations: list[dict[str, Any]]
    results: list[SystemResult]
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        opts = asdict(self.options)
        return {"options": opts, "conversations": self.conversations,
                "systems": [r.to_dict() for r in self.results], "notes": list(self.notes), "wall_s": self.wall_s}

    def markdown(self) -> str:
        from openinfp.eval.report import format_eval_markdown

        return format_eval_markdown(self)


def _crop(seq: MotionSequence, frames: int) -> MotionSequence:
    if seq.num_frames == frames:
        return seq
    return MotionSequence(seq.motion[:frames], seq.space, seq.fps,
                          {k: v[:frames] for k, v in seq.annotations.items()})


def _clip(conv: EvalConversation, motion: MotionSequence, space: str) -> EvalClip:
    frames = min(conv.num_frames, motion.num_frames)
    samples = int(round(frames / conv.fps * conv.audio.sample_rate))
    target = conv.agent_motion.get(space)
    partner = conv.partner_motion.get(space)
    return EvalClip(
        name=conv.name, motion=_crop(motion, frames), agent_wave=conv.audio.agent[:samples],
        agent_active=conv.activity("agent")[:frames], partner_active=conv.activity("partner")[:frames],
        target=None if target is None else _crop(target, frames),
        partner_motion=None if partner is None else _crop(partner, frames), sample_rate=conv.audio.sample_rate)


def run_eval(conversations: Sequence[EvalConversation], options: EvalOptions = EvalOptions(),
             progress: Optional[Callable[[str], None]] = None) -> EvalReport:
    """Generate and score every system on ``conversations``."""
    if not conversations:
        raise InputError("nothing to evaluate: no conversations")
    t_start = time.perf_counter()
    say = progress or (lambda _m: None)
    space = options.space
    systems = build_systems(options.systems, space, options.checkpoint or None, options.no_banks_checkpoint or None,
                            options.preset, options.overrides)
    motions: dict[str, list[MotionSequence]] = {}
    results: list[SystemResult] = []
    for system in systems:
        label = "human" if options.human and system.name == "ground_truth" else system.name
        res = SystemResult(label)
        results.append(res)
        outs = []
        t0 = time.perf_counter()
        try:
            for conv in conversations:
                say(f"eval: {label} on {conv.name} ({conv.duration:.1f} s)")
                outs.append(system.motion(conv, space, options.seed))
        except SystemUnavailable as exc:
            res.status, res.reason = "unavailable", str(exc)
            continue
        except InputError as exc:
            res.status, res.reason = "failed", str(exc)
            continue
        res.generation_s = time.perf_counter() - t0
        res.notes = list(getattr(system, "notes", []))
        res.frames = sum(min(c.num_frames, m.num_frames) for c, m in zip(conversations, outs))
        motions[label] = outs

    notes: list[str] = [n for r in results for n in r.notes]
    have_gt = all(space in c.agent_motion for c in conversations)
    if have_gt:
        books = fit_codebooks([c.agent_motion[space] for c in conversations], options.suite)
        notes.append(f"SID: k={options.suite.sid_k}, seed={options.suite.sid_seed}, k-means fitted on the "
                     f"{'human' if options.human else 'ground-truth'} motion.")
    elif motions:
        pooled = [m for outs in motions.values() for m in outs]
        books = fit_codebooks(pooled, options.suite)
        notes.append(f"SID: k={options.suite.sid_k}, seed={options.suite.sid_seed}, k-means fitted on the pooled "
                     "output of all systems (no ground truth here).")
    else:
        books = None

    for res in results:
        if res.status != "ok":
            continue
        say(f"eval: scoring {res.name}")
        clips = [_clip(c, m, space) for c, m in zip(conversations, motions[res.name])]
        res.metrics = score_clips(clips, options=options.suite, codebooks=books)
        if res.name not in ("ground_truth", "human"):  # generation time means nothing for stored motion
            res.metrics.values["generation_rtf"] = res.generation_s / max(sum(c.duration for c in conversations), 1e-9)

    if options.render_frames > 0:
        _image_metrics(conversations, results, motions, options, say, notes)
    convs = [{"name": c.name, "seconds": round(c.duration, 3), "frames": c.num_frames, "source": c.source,
              "ground_truth": space in c.agent_motion, "partner_motion": space in c.partner_motion,
              "portrait": c.portrait is not None} for c in conversations]
    return EvalReport(options, convs, results, notes, time.perf_counter() - t_start)


def _image_metrics(conversations: Sequence[EvalConversation], results: list[SystemResult],
                   motions: dict[str, list[MotionSequence]], options: EvalOptions, say: Callable[[str], None],
                   notes: list[str]) -> None:
    """Render the first frames of the first conversations; identity consistency and SSIM/PSNR."""
    keys = ("ssim", "psnr", "id_nme", "face_found")
    chosen = [i for i, c in enumerate(conversations) if c.portrait is not None][: options.render_clips]

    def missing(reason: str) -> None:
        for r in results:
            if r.status == "ok":
                r.image_missing.update({k: reason for k in keys})

    if not chosen:
        missing("no portrait to render onto (pass --portrait for shard folders)")
        return
    from openinfp.eval.systems import _registry

    registry = _registry()
    if options.renderer not in registry.choices("renderers"):
        missing(f"renderer {options.renderer!r} is not registered "
                f"(registered: {', '.join(registry.choices('renderers')) or 'none'})")
        return
    from openinfp.core.interfaces import RenderSource
    from openinfp.core.metrics.image import FaceLandmarker, identity_consistency, psnr, ssim

    def render(conv: EvalConversation, motion: MotionSequence) -> list[np.ndarray]:
        clip = _crop(motion, min(options.render_frames, motion.num_frames))
        renderer = registry.renderer(options.renderer, {})
        renderer.setup(RenderSource(portrait=conv.portrait, label="agent"))
        return list(renderer.render(clip))

    gt_label = "human" if options.human else "ground_truth"
    reference: dict[int, list[np.ndarray]] = {}
    for i in chosen:
        conv = conversations[i]
        if options.space in conv.agent_motion:
            reference[i] = render(conv, conv.agent_motion[options.space])
    for res in results:
        if res.status != "ok":
            continue
        say(f"eval: rendering {res.name} for image metrics")
        ids, found, ss, ps = [], [], [], []
        for i in chosen:
            conv = conversations[i]
            frames = reference[i] if res.name == gt_label and i in reference else render(conv, motions[res.name][i])
            with FaceLandmarker(video=True) as lm:
                ic = identity_consistency(frames, conv.portrait, landmarker=lm)
            found.append(ic.detected)
            if not np.isnan(ic.nme_mean):
                ids.append(ic.nme_mean)
            if i in reference:
                ref = reference[i]
                n = min(len(ref), len(frames))
                ss.extend(ssim(frames[k], ref[k]) for k in range(n))
                ps.extend(min(psnr(frames[k], ref[k]), 100.0) for k in range(n))
        res.image["face_found"] = float(np.mean(found))
        if ids:
            res.image["id_nme"] = float(np.mean(ids))
        else:
            res.image_missing["id_nme"] = "no face found in any rendered frame"
        if ss:
            res.image["ssim"], res.image["psnr"] = float(np.mean(ss)), float(np.mean(ps))
        else:
            res.image_missing["ssim"] = res.image_missing["psnr"] = "no ground truth to render as reference"
    notes.append(f"Image metrics: first {options.render_frames} frames of {len(chosen)} conversation(s) rendered "
                 f"with {options.renderer!r}; SSIM/PSNR against the {gt_label.replace('_', ' ')} motion rendered the "
                 "same way (PSNR capped at 100 dB for identical frames); ID-NME = rigid-landmark error after "
                 "similarity alignment to the portrait, in inter-ocular distances.")


def write_json(report: EvalReport, path: PathLike) -> None:
    """Write the report as JSON (atomically)."""
    with atomic_output(path, suffix=".json") as tmp:
        tmp.write_text(json.dumps(report.to_dict(), indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    raise TypeError(f"cannot serialise {type(obj).__name__}")


def stderr_progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

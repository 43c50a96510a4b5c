"""The synthetic two-person conversation corpus (``openinfp synth``).

Conversation ``i`` of seed ``s`` is a pure function of ``(s, i)``: its planned length
and split come from ``SeedSequence([s, i, 0])``, everything else (voices, styles,
script, motion) from ``SeedSequence([s, i, 1])`` and per-side children. A run writes
``conv-s{seed}-{i:06d}.safetensors`` files (skipping those already present, so an
interrupted run resumes) and then rebuilds ``manifest.jsonl``.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from openinfp.core.errors import InputError
from openinfp.core.io import atomic_output
from openinfp.data.real_speech import RealSpeechSpec
from openinfp.data.shards import (
    SHARD_SUFFIX,
    Conversation,
    Side,
    shard_is_complete,
    write_conversation,
    write_manifest,
)
from openinfp.data.style import StyleParams

VAL_EVERY = 20
"""Conversation ``i`` is in the validation split when ``i % 20 == 7`` (5 %, held-out voices)."""

FPS = 25.0


@dataclass(frozen=True)
class PlannedConversation:
    """What a run will generate for one index (cheap to compute, no synthesis)."""

    seed: int
    index: int
    target_seconds: float
    split: str

    @property
    def id(self) -> str:
        return f"conv-s{self.seed}-{self.index:06d}"


def plan_conversation(seed: int, index: int, min_seconds: float = 40.0,
                      max_seconds: float = 100.0) -> PlannedConversation:
    """Planned length and split of conversation ``index`` of ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, index, 0]))
    split = "val" if index % VAL_EVERY == 7 else "train"
    return PlannedConversation(seed, index, float(rng.uniform(min_seconds, max_seconds)), split)


def plan_corpus(hours: float, seed: int, min_seconds: float = 40.0,
                max_seconds: float = 100.0) -> list[PlannedConversation]:
    """The conversations ``0..n-1`` whose planned lengths first add up to ``hours``."""
    plans, total, i = [], 0.0, 0
    while total < hours * 3600.0:
        p = plan_conversation(seed, i, min_seconds, max_seconds)
        plans.append(p)
        total += p.target_seconds
        i += 1
    return plans


def synth_conversation(plan: PlannedConversation, styles: dict[str, StyleParams] | None = None,
                       real: RealSpeechSpec | None = None) -> Conversation:
    """Generate one conversation: script, speech, activity, head and SMPL-X motion of both sides.

    Args:
        plan: which conversation (seed, index, planned length, split).
        styles: force the style of each side (``"a"``, ``"b"``) instead of drawing it.
        real: a pool of real speech; each side is a real voice with probability
            ``real.ratio`` (drawn from its own stream ``SeedSequence([seed, i, 2])``, so the
            eSpeak sides of a corpus do not change with the ratio).
    """
    from openinfp.data.body_rules import body_rules
    from openinfp.data.head_rules import head_rules, reference_vector, speech_track
    from openinfp.data.style import describe_style, sample_baseline, sample_style
    from openinfp.data.timeline import SIDES, sample_voice, speak_conversation

    seq = np.random.SeedSequence([plan.seed, plan.index, 1])
    main_seq, *side_seqs = seq.spawn(3)
    rng = np.random.default_rng(main_seq)
    held_out = plan.split == "val"
    voice_a = sample_voice(rng, held_out)
    voices = {"a": voice_a, "b": sample_voice(rng, held_out, avoid=voice_a.name)}
    drawn = {s: sample_style(rng) for s in SIDES}
    styles = {**drawn, **(styles or {})}
    style_texts = {s: describe_style(styles[s], rng) for s in SIDES}
    real_speakers, voice_info = _real_speakers(plan, real, voices)
    timeline = speak_conversation(rng, voices, styles, plan.target_seconds, real_speakers)
    hop = int(16000 / FPS)
    T = timeline.audio["a"].shape[0] // hop
    tracks = {s: speech_track(timeline.of(s), T, FPS) for s in SIDES}
    # recording conditions: a little crosstalk from the other microphone and a noise floor
    bleed = float(rng.uniform(0.0, 0.05))
    noise = float(rng.uniform(1e-4, 2e-3))
    sides: dict[str, Side] = {}
    events: dict[str, Any] = {"segments": [seg.as_dict() for seg in timeline.segments], "recording":
                              {"bleed_gain": round(bleed, 4), "noise_std": round(noise, 6)}}
    # resting pose/expression per side from its own stream (the rest of the corpus does not move)
    brng = np.random.default_rng(np.random.SeedSequence([plan.seed, plan.index, 3]))
    baselines = {s: sample_baseline(brng) for s in SIDES}
    for k, s in enumerate(SIDES):
        other = SIDES[1 - k]
        srng = np.random.default_rng(side_seqs[k])
        head = head_rules(tracks[s], tracks[other], timeline.audio[s], styles[s], srng, FPS, baselines[s])
        smplx = body_rules(head, tracks[s], styles[s], srng, FPS)
        audio = timeline.audio[s] + bleed * timeline.audio[other] + srng.normal(0, noise, T * hop).astype(np.float32)
        peak = float(np.abs(audio).max())
        if peak > 0.99:
            audio *= 0.99 / peak
        sides[s] = Side(
            audio=audio.astype(np.float32), activity=tracks[s].activity,
            motion={"head": head.motion, "smplx": smplx},
            style_text=style_texts[s], style=styles[s].as_dict(),
            info={"voice": voice_info[s], "baseline": baselines[s].as_dict(),
                  "reference": [round(float(v), 5) for v in reference_vector(baselines[s])]},
        )
        events[s] = head.events
    kind = "synthetic" if not real_speakers else "synthetic+real-speech"
    return Conversation(plan.id, f"{kind}:openinfp-synth seed={plan.seed} index={plan.index}", plan.split,
                        sides, FPS, events)


def _real_speakers(plan: PlannedConversation, real: RealSpeechSpec | None, voices: dict) -> tuple[dict, dict]:
    """Which sides speak with a real voice (side -> RealSpeaker), and every side's voice description."""
    from openinfp.data.real_speech import speakers_of
    from openinfp.data.real_turns import RealSpeaker
    from openinfp.data.timeline import SIDES

    info = {s: voices[s].as_dict() for s in SIDES}
    if real is None or real.ratio <= 0:
        return {}, info
    pool = real.pool()
    rng = np.random.default_rng(np.random.SeedSequence([plan.seed, plan.index, 2]))
    by_speaker: dict[str, list] = {}
    for u in pool:
        by_speaker.setdefault(u.speaker, []).append(u)
    names = speakers_of(pool, plan.split == "val")
    # speakers with several utterances give varied turns; single-utterance ones only as a fallback
    names = [n for n in names if len(by_speaker[n]) >= 2] or names
    chosen: dict = {}
    for s in SIDES:
        if rng.random() >= real.ratio:
            continue
        free = [n for n in names if n not in {c.speaker for c in chosen.values()}]
        if not free:
            continue
        name = free[int(rng.integers(len(free)))]
        chosen[s] = RealSpeaker(name, by_speaker[name], voices[s].loudness)
        info[s] = {"name": f"real:{name}", "corpus": "real-speech", "utterances": len(by_speaker[name]),
                   "loudness": round(voices[s].loudness, 4)}
    return chosen, info


def _init_worker() -> None:
    """Worker processes: one torch thread each (the rules are many tiny tensor ops)."""
    import torch

    torch.set_num_threads(1)


def _work(args: tuple[PlannedConversation, str, RealSpeechSpec | None]) -> tuple[str, float, float]:
    plan, out, real = args
    t0 = time.perf_counter()
    conv = synth_conversation(plan, real=real)
    write_conversation(conv, Path(out) / f"{plan.id}{SHARD_SUFFIX}")
    return plan.id, conv.duration, time.perf_counter() - t0


def synth_corpus(
    out: str | Path,
    hours: float,
    seed: int = 0,
    workers: int = 1,
    progress: bool = True,
    min_seconds: float = 40.0,
    max_seconds: float = 100.0,
    real: RealSpeechSpec | None = None,
) -> dict[str, Any]:
    """Generate (or resume) a synthetic corpus of about ``hours`` hours into ``out``.

    Args:
        out: output folder (created).
        hours: total planned conversation time.
        seed: corpus seed; the result is a function of ``seed`` (and the length options).
        workers: processes (each conversation is independent).
        progress: draw a tqdm bar on stderr.
        min_seconds, max_seconds: range of planned conversation lengths.
        real: real-voice mode: the pool and the share of sides spoken by real voices.

    Returns:
        Summary: conversations, generated/skipped counts, seconds of audio, wall time.
    """
    if hours <= 0:
        raise InputError(f"--hours must be positive, got {hours}")
    if not 5.0 <= min_seconds <= max_seconds:
        raise InputError(f"conversation length range [{min_seconds}, {max_seconds}] s is invalid "
                         "(need 5 <= min <= max)")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    plans = plan_corpus(hours, seed, min_seconds, max_seconds)
    todo = [p for p in plans if not shard_is_complete(out / f"{p.id}{SHARD_SUFFIX}")]
    from tqdm import tqdm

    t0 = time.perf_counter()
    generated_seconds = 0.0
    bar = tqdm(total=len(plans), initial=len(plans) - len(todo), unit="conv", desc="synth", file=sys.stderr,
               disable=not progress, dynamic_ncols=True)
    if real is not None and real.ratio > 0:
        real.pool()  # time the pool's phones once, before the workers read the cache
    jobs = [(p, str(out), real) for p in todo]
    try:
        if workers > 1 and len(jobs) > 1:
            ctx = mp.get_context("spawn")  # eSpeak holds process-wide state: fresh processes
            with ctx.Pool(min(workers, len(jobs)), initializer=_init_worker) as pool:
                for _, dur, _ in pool.imap_unordered(_work, jobs):
                    generated_seconds += dur
                    bar.update(1)
                    bar.set_postfix(audio_h=f"{generated_seconds / 3600:.2f}")
        else:
            for job in jobs:
                _, dur, _ = _work(job)
                generated_seconds += dur
                bar.update(1)
                bar.set_postfix(audio_h=f"{generated_seconds / 3600:.2f}")
    finally:
        bar.close()
        rows = write_manifest(out)
    wall = time.perf_counter() - t0
    own = [r for r in rows if r["id"] in {p.id for p in plans}]
    summary = {
        "seed": seed, "hours_requested": hours, "conversations": len(plans), "generated": len(todo),
        "skipped_existing": len(plans) - len(todo), "corpus_hours": round(sum(r["duration_s"] for r in own) / 3600, 4),
        "generated_hours": round(generated_seconds / 3600, 4), "wall_seconds": round(wall, 1), "workers": workers,
        "val_conversations": sum(r["split"] == "val" for r in own),
    }
    with atomic_output(out / f"synth-s{seed}.json") as tmp:
        extra = {"real_speech": list(real.folders), "real_ratio": real.ratio} if real is not None else {}
        tmp.write_text(json.dumps({**summary, "min_seconds": min_seconds, "max_seconds": max_seconds, **extra},
                                  indent=2))
    return summary

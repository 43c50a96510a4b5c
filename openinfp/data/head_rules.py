"""Ground-truth rules for the ``head`` motion space of a synthetic participant.

Given who says what when (the :class:`~openinfp.data.timeline.Timeline`), the rules
below produce a ``[T, 62]`` head motion at 25 fps. All amplitudes are scaled by the
participant's :class:`~openinfp.data.style.StyleParams`:

* **Mouth** (visemes): each 40 ms frame averages the viseme targets of the phonemes
  that cover it (``openinfp.data.visemes``), times ``0.9 + 0.3 * expressiveness``;
  silence is exactly zero, so ``jawOpen > 0`` only where the own track speaks.
* **Speaking head** (prosody): pitch dips with the high-passed frame energy
  (emphasis), yaw and roll follow the smoothed log-F0 z-score with a random sign per
  turn, pitch rises (chin up) with F0; plus faster sway (0.2-0.6 Hz).
* **Listening head**: slower sway (0.04-0.15 Hz, smaller), and **nods** at the
  partner's phrase ends (probability ``nod_rate``; single or double, 5-10 degrees),
  always with a backchannel of one's own (probability 0.8).
* **Gaze aversion** at 75 % of own turn starts: eyes (ARKit ``eyeLook*``) and a little
  head yaw turn away for 0.6-1.6 s, usually with a blink.
* **Blinks**: Poisson, 12-22 per minute (x1.3 while speaking), 0.15 s each.
* **Smiles**: with own backchannels (probability ``smile_rate``), at the partner's
  phrase ends (``0.25 * smile_rate``), at own sentence ends (``0.2 * smile_rate``);
  1-2.5 s, on ``mouthSmile*``, ``cheekSquint*`` and ``eyeSquint*``.
* **Brows** rise on own stressed syllables with high pitch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from openinfp.core.arkit import ARKIT_NAMES
from openinfp.data.prosody import frame_energy_db, frame_pitch, pitch_zscore
from openinfp.data.signals import frames_of, raised_cosine, smooth, sway
from openinfp.data.style import Baseline, StyleParams
from openinfp.data.timeline import Segment
from openinfp.data.visemes import (
    SILENCE,
    VISEMES,
    is_pause,
    is_stressed,
    viseme_index,
    viseme_matrix,
)
from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler

SUBFRAMES = 8
"""Phoneme coverage is measured on 8 sub-frames per motion frame (5 ms at 25 fps)."""

JAW_GAIN = 0.8
"""Scale of the viseme tables' jawOpen, calibrated on tracked real talkers (docs/MODELS.md,
"Rule calibration"): the uncalibrated rules reached a speaking p95 of 0.68 against 0.42
for the tracked real speakers."""

JAW_SMOOTH_S = 0.16
"""Coarticulation: jawOpen is smoothed over this window inside speech (real jaws move
slowly: per-frame rises of 0.09 at the 95th percentile against 0.42 for the raw rules).
Longer windows also smooth away the syllable rhythm the lips follow."""

ANTICIPATION_S = 0.08
"""The mouth shapes lead the sound by this much: on tracked real talking videos the
inner-lip gap best matches phone-derived jaw opening 2-3 frames earlier (lips move
before the sound comes out)."""

JAW_MAX_RISE = 0.12
"""Largest jawOpen increase per 25 fps frame (real speakers: at most 0.24)."""

JAW_MIN_SPEAKING = 0.04
"""Every frame with speech opens the jaw at least this much (so ``jawOpen > 0`` marks speech)."""

_A = {name: i for i, name in enumerate(ARKIT_NAMES)}


@dataclass
class SpeechTrack:
    """Frame-level facts of one participant's speech, derived from their segments.

    Attributes:
        viseme_weights: ``[T, V]`` fraction of each frame spent in each viseme.
        coverage: ``[T]`` fraction of the frame covered by speech (non-pause phonemes).
        activity: ``[T]`` 1.0 where ``coverage >= 0.5`` (the stored speech activity).
        in_turn: ``[T]`` 1.0 from the start to the end of every own turn (pauses included).
        stress_times: own primary-stressed syllables inside turns (s).
        phrase_ends: ends of own phrases inside turns (s), the partner nods at these.
        sentence_ends: the subset of ``phrase_ends`` that end a turn or a sentence.
        turns: ``(start, end)`` of own turns (s); backchannels: the same for backchannels.
    """

    viseme_weights: np.ndarray
    coverage: np.ndarray
    activity: np.ndarray
    in_turn: np.ndarray
    stress_times: np.ndarray
    phrase_ends: np.ndarray
    sentence_ends: np.ndarray
    turns: list[tuple[float, float]] = field(default_factory=list)
    backchannels: list[tuple[float, float]] = field(default_factory=list)


def speech_track(segments: list[Segment], num_frames: int, fps: float = 25.0) -> SpeechTrack:
    """Rasterise one speaker's segments onto ``num_frames`` frames."""
    sil = VISEMES.index(SILENCE)
    grid = np.full(num_frames * SUBFRAMES, sil, dtype=np.int16)
    rate = fps * SUBFRAMES
    stress, phrase_ends, sentence_ends = [], [], []
    turns, backchannels = [], []
    in_turn = np.zeros(num_frames, dtype=np.float32)
    times = (np.arange(num_frames) + 0.5) / fps
    for seg in segments:
        ph = seg.phonemes
        for i, (t0, p) in enumerate(ph):
            t1 = ph[i + 1][0] if i + 1 < len(ph) else seg.end
            t1 = min(t1, seg.end)
            if is_pause(p) or t1 <= t0:
                continue
            grid[int(round(t0 * rate)): int(round(t1 * rate))] = viseme_index(p)
            if seg.kind == "turn" and is_stressed(p):
                stress.append(t0)
        if seg.kind == "turn":
            turns.append((seg.start, seg.end))
            in_turn[frames_of(times, seg.start, seg.end)] = 1.0
            ends = seg.phrase_ends()
            phrase_ends.extend(ends)
            sentence_ends.append(seg.end)
        else:
            backchannels.append((seg.start, seg.end))
    onehot = np.zeros((num_frames * SUBFRAMES, len(VISEMES)), dtype=np.float32)
    onehot[np.arange(grid.size), grid] = 1.0
    weights = onehot.reshape(num_frames, SUBFRAMES, len(VISEMES)).mean(axis=1)
    coverage = 1.0 - weights[:, sil]
    return SpeechTrack(
        viseme_weights=weights, coverage=coverage, activity=(coverage >= 0.5).astype(np.float32), in_turn=in_turn,
        stress_times=np.asarray(stress, dtype=np.float64), phrase_ends=np.asarray(phrase_ends, dtype=np.float64),
        sentence_ends=np.asarray(sentence_ends, dtype=np.float64), turns=turns, backchannels=backchannels,
    )


@dataclass
class HeadResult:
    """Head-space motion of one participant plus the signals the body rules reuse.

    Attributes:
        motion: ``[T, 62]`` float32 in the ``head`` space.
        ypr: ``[T, 3]`` head yaw/pitch/roll (radians).
        gaze: ``[T, 2]`` gaze direction (x right, y up) in about [-1, 1].
        events: lists of ``[start, end]`` seconds: ``nods``, ``blinks``, ``smiles``, ``gaze_aversions``.
    """

    motion: np.ndarray
    ypr: np.ndarray
    gaze: np.ndarray
    events: dict[str, list[list[float]]]


def _no_overlap(start: float, end: float, taken: list[list[float]], margin: float = 0.1) -> bool:
    return all(end + margin <= s or start >= e + margin for s, e in taken)


def head_rules(
    own: SpeechTrack,
    partner: SpeechTrack,
    wave: np.ndarray,
    style: StyleParams,
    rng: np.random.Generator,
    fps: float = 25.0,
    baseline: Baseline | None = None,
) -> HeadResult:
    """Ground-truth ``head`` motion of a participant (rules in the module docstring).

    Args:
        own, partner: the rasterised speech of this participant and of the other one.
        wave: ``[N]`` this participant's own audio track at 16 kHz (for prosody).
        style: behaviour parameters.
        rng: random generator (deterministic per conversation and side).
        baseline: resting pose/expression the motion varies around (default neutral).
    """
    T = own.activity.shape[0]
    times = (np.arange(T) + 0.5) / fps
    deg = np.pi / 180.0
    scale = style.head_motion_scale
    expr = style.expressiveness
    arkit = np.zeros((T, 52), dtype=np.float32)
    events: dict[str, list[list[float]]] = {"nods": [], "blinks": [], "smiles": [], "gaze_aversions": []}

    # ---- mouth from visemes, ahead of the sound (anticipatory coarticulation)
    arkit += anticipated(own.viseme_weights @ viseme_matrix(), fps) * (0.9 + 0.3 * expr)
    arkit[:, _A["jawOpen"]] = calibrated_jaw(arkit[:, _A["jawOpen"]], fps)

    # ---- speaking state and prosody
    speaking = smooth(own.in_turn, 0.4, fps)
    active = smooth(own.activity, 0.2, fps)
    energy = np.clip((frame_energy_db(wave, T) + 50.0) / 40.0, 0.0, 1.0)
    emphasis = (energy - smooth(energy, 0.6, fps)) * active
    f0z = smooth(pitch_zscore(frame_pitch(wave, T)), 0.2, fps) * active
    turn_sign = np.zeros(T, dtype=np.float32)
    for s, e in own.turns:
        turn_sign[frames_of(times, s, e + 0.5)] = rng.choice([-1.0, 1.0])
    ypr = np.zeros((T, 3), dtype=np.float32)
    ypr[:, 0] += 3.0 * deg * f0z * turn_sign
    ypr[:, 1] += 6.0 * deg * expr * emphasis - 1.5 * deg * f0z
    ypr[:, 2] += -2.0 * deg * f0z * turn_sign
    # slower, smaller sway while listening; livelier while speaking
    for k, (amp_listen, amp_speak) in enumerate(((1.5, 2.5), (0.8, 1.5), (0.8, 1.5))):
        slow = sway(times, rng, 0.04, 0.15)
        fast = sway(times, rng, 0.2, 0.6)
        ypr[:, k] += deg * ((1 - speaking) * amp_listen * slow + speaking * amp_speak * fast)
    # own turn offsets: a speaker settles at a slightly different yaw each turn
    for s, e in own.turns:
        ypr[:, 0] += rng.uniform(-4, 4) * deg * raised_cosine(times, s - 0.2, e + 0.3, 0.4, 0.5)

    # ---- gaze aversion at own turn starts
    gaze = np.zeros((T, 2), dtype=np.float32)
    blink_starts: list[float] = []
    for s, e in own.turns:
        if rng.random() >= 0.75:
            continue
        angle = rng.uniform(0, 2 * np.pi)
        dur = min(rng.uniform(0.6, 1.6), max(e - s, 0.4))
        env = raised_cosine(times, s - 0.1, s - 0.1 + dur, 0.15, 0.3)
        gx, gy = 0.6 * np.cos(angle), 0.5 * np.sin(angle)
        gaze[:, 0] += gx * env
        gaze[:, 1] += gy * env
        ypr[:, 0] += 8.0 * deg * gx * env
        ypr[:, 1] -= 4.0 * deg * gy * env
        events["gaze_aversions"].append([round(s - 0.1, 3), round(s - 0.1 + dur, 3)])
        if rng.random() < 0.5:
            blink_starts.append(s - 0.1)

    # ---- nods at the partner's phrase ends while listening, and with own backchannels
    nod_times: list[float] = []
    for pe in partner.phrase_ends:
        i = min(int(pe * fps), T - 1)
        if own.in_turn[i] > 0 or own.coverage[i] > 0 or rng.random() >= style.nod_rate:
            continue
        nod_times.append(pe + rng.uniform(-0.05, 0.25))
    for s, _ in own.backchannels:
        if rng.random() < 0.8:
            nod_times.append(s + rng.uniform(-0.1, 0.1))
    pitch_nod = np.zeros(T, dtype=np.float32)
    for onset in sorted(nod_times):
        cycles = 2 if rng.random() < 0.3 else 1
        dur = 0.5 * cycles
        i = min(max(int(onset * fps), 0), T - 1)
        if own.in_turn[i] > 0 or not _no_overlap(onset, onset + dur, events["nods"]):
            continue
        u = np.clip((times - onset) / dur, 0.0, 1.0)
        amp = rng.uniform(5.0, 10.0) * deg * (0.6 + 0.4 * scale) / (1.0 + 0.3 * (cycles - 1))
        pitch_nod += (amp * np.sin(np.pi * cycles * u) ** 2 * (1 - 0.3 * u)).astype(np.float32)
        events["nods"].append([round(onset, 3), round(onset + dur, 3)])

    ypr[:, 0] *= scale
    ypr[:, 1] *= scale
    ypr[:, 2] *= scale
    ypr[:, 1] += pitch_nod
    ypr = smooth(ypr, 0.12, fps)
    base = baseline or Baseline()
    ypr += np.asarray([base.yaw, base.pitch, base.roll], dtype=np.float32) * deg

    # ---- smiles
    smile = np.full(T, 0.05 * style.smile_rate + base.smile, dtype=np.float32)
    smile_starts: list[float] = []
    smile_starts += [s - 0.2 for s, _ in own.backchannels if rng.random() < style.smile_rate]
    for pe in partner.phrase_ends:
        i = min(int(pe * fps), T - 1)
        if own.in_turn[i] == 0 and rng.random() < 0.25 * style.smile_rate:
            smile_starts.append(pe)
    smile_starts += [se - 0.3 for se in own.sentence_ends if rng.random() < 0.2 * style.smile_rate]
    for s0 in sorted(smile_starts):
        dur = rng.uniform(1.0, 2.5)
        if not _no_overlap(s0, s0 + dur, events["smiles"], 0.0):
            continue
        smile += rng.uniform(0.3, 0.7) * (0.5 + 0.5 * expr) * raised_cosine(times, s0, s0 + dur, 0.25, 0.4)
        events["smiles"].append([round(s0, 3), round(s0 + dur, 3)])
    asym = rng.uniform(-0.1, 0.1)
    arkit[:, _A["mouthSmileLeft"]] += smile * (1 + asym)
    arkit[:, _A["mouthSmileRight"]] += smile * (1 - asym)
    for side in ("Left", "Right"):
        arkit[:, _A[f"cheekSquint{side}"]] += 0.4 * smile
        arkit[:, _A[f"eyeSquint{side}"]] += 0.2 * smile

    # ---- brows on stressed, high-pitched syllables
    brow = np.full(T, base.brow, dtype=np.float32)
    for st in own.stress_times:
        i = min(int(st * fps), T - 1)
        if f0z[i] > 0.3 or rng.random() < 0.15:
            brow += 0.35 * expr * raised_cosine(times, st - 0.05, st + 0.3, 0.08, 0.2)
    arkit[:, _A["browInnerUp"]] += brow
    arkit[:, _A["browOuterUpLeft"]] += 0.8 * brow
    arkit[:, _A["browOuterUpRight"]] += 0.8 * brow

    # ---- blinks
    t = rng.exponential(3.0)
    base_rate = rng.uniform(12, 22) / 60.0
    duration = T / fps
    while t < duration:
        i = min(int(t * fps), T - 1)
        rate = base_rate * (1.3 if own.in_turn[i] > 0 else 1.0)
        if rng.random() < rate / (base_rate * 1.3):
            blink_starts.append(t)
        t += max(rng.exponential(1.0 / (base_rate * 1.3)), 0.4)
    blink = np.zeros(T, dtype=np.float32)
    for b in sorted(blink_starts):
        if not _no_overlap(b, b + 0.15, events["blinks"], 0.25):
            continue
        blink = np.maximum(blink, np.clip(1.0 - np.abs(times - (b + 0.075)) / 0.1, 0.0, 1.0))
        events["blinks"].append([round(b, 3), round(b + 0.15, 3)])
    arkit[:, _A["eyeBlinkLeft"]] += blink
    arkit[:, _A["eyeBlinkRight"]] += blink

    # ---- eye direction from gaze (x: the viewer's right = the person's left)
    gx, gy = gaze[:, 0], gaze[:, 1]
    arkit[:, _A["eyeLookOutLeft"]] += np.clip(gx, 0, None)
    arkit[:, _A["eyeLookInRight"]] += np.clip(gx, 0, None)
    arkit[:, _A["eyeLookInLeft"]] += np.clip(-gx, 0, None)
    arkit[:, _A["eyeLookOutRight"]] += np.clip(-gx, 0, None)
    for side in ("Left", "Right"):
        arkit[:, _A[f"eyeLookUp{side}"]] += np.clip(gy, 0, None)
        arkit[:, _A[f"eyeLookDown{side}"]] += np.clip(-gy, 0, None)

    # ---- assemble the head-space vector through the space's named slices
    space = head_motion_space()
    motion = space.neutral(T)
    motion = space.set(motion, "head_rotation", head_rotation_from_euler(torch.from_numpy(ypr)))
    lean = 0.08 * smooth(own.in_turn, 1.0, fps) * expr
    transl = np.stack([0.2 * ypr[:, 0], -0.1 * ypr[:, 1], lean], axis=1).astype(np.float32)
    motion = space.set(motion, "head_translation", torch.from_numpy(transl))
    motion = space.set(motion, "head_scale", torch.from_numpy(1.0 + 0.25 * lean)[:, None])
    motion = space.set(motion, "arkit", torch.from_numpy(np.clip(arkit, 0.0, 1.0)))
    return HeadResult(motion.numpy().astype(np.float32), ypr, gaze, events)


def rise_limited(x: np.ndarray, max_rise: float) -> np.ndarray:
    """``[T]`` signal whose frame-to-frame increase is at most ``max_rise`` (falls unchanged)."""
    out = x.astype(np.float32, copy=True)
    for t in range(1, out.shape[0]):
        out[t] = min(out[t], out[t - 1] + max_rise)
    return out


def reference_vector(baseline: Baseline) -> np.ndarray:
    """``[62]`` ``head``-space vector of a resting pose/expression (what a style image gives)."""
    deg = np.pi / 180.0
    space = head_motion_space()
    ref = space.neutral(1)
    ypr = torch.tensor([[baseline.yaw * deg, baseline.pitch * deg, baseline.roll * deg]], dtype=torch.float32)
    ref = space.set(ref, "head_rotation", head_rotation_from_euler(ypr))
    arkit = np.zeros((1, 52), dtype=np.float32)
    for side in ("Left", "Right"):
        arkit[0, _A[f"mouthSmile{side}"]] = baseline.smile
        arkit[0, _A[f"cheekSquint{side}"]] = 0.4 * baseline.smile
        arkit[0, _A[f"eyeSquint{side}"]] = 0.2 * baseline.smile
        arkit[0, _A[f"browOuterUp{side}"]] = 0.8 * baseline.brow
    arkit[0, _A["browInnerUp"]] = baseline.brow
    ref = space.set(ref, "arkit", torch.from_numpy(arkit))
    return ref[0].numpy().astype(np.float32)


def calibrated_jaw(raw: np.ndarray, fps: float) -> np.ndarray:
    """Viseme jawOpen ``[T]`` -> the calibrated jaw: gain, smoothing inside speech, rise limit.

    Frames without speech (``raw == 0``) stay exactly 0.
    """
    speech = raw > 0
    jaw = np.maximum(smooth(raw * JAW_GAIN, JAW_SMOOTH_S, fps), JAW_MIN_SPEAKING) * speech
    return rise_limited(jaw.astype(np.float32), JAW_MAX_RISE)


def anticipated(x: np.ndarray, fps: float) -> np.ndarray:
    """``[T, ...]`` shifted earlier by :data:`ANTICIPATION_S` (the end padded with zeros)."""
    k = int(round(ANTICIPATION_S * fps))
    if k <= 0:
        return x
    out = np.zeros_like(x)
    out[: x.shape[0] - k] = x[k:]
    return out

"""The lip-sync ceiling table of docs/MODELS.md: leave-one-clip-out linear read-outs.

    PYTHONPATH=. python scripts/lip_ceiling.py ../shared/realdata/talking_video \\
        --cache /work/cache/trackcache [--weights FILE]

With ``--mlp`` it adds a small nonlinear read-out of the two richest sets.
For each feature set (the ``phonetic`` conditioner's acoustic columns, its PocketSphinx
viseme posteriors, the learned viseme net's output, formant-based correlates of mouth
opening, and combinations) it prints the mean
held-out lagged r of a ridge read-out to the tracked inner-lip gap
(:mod:`openinfp.eval.lip_ceiling`). The talking videos only score the features.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def formant_columns(wave: np.ndarray, num_frames: int, fps: float) -> np.ndarray:
    """``[T, 5]`` acoustic correlates of mouth opening: F1 and F2 (kHz, LPC order 10 at 8 kHz,
    loudness-weighted per frame), level (/20 dB re the clip's loud level), F1 x level, voiced share."""
    from scipy.linalg import solve_toeplitz
    from scipy.signal import resample_poly

    x = resample_poly(wave, 1, 2).astype(np.float64)
    x = np.append(x[0], x[1:] - 0.9 * x[:-1])  # pre-emphasis
    hop, win = 80, 200
    n = max(1, (len(x) - win) // hop + 1)
    f12, energy, window = np.zeros((n, 2)), np.zeros(n), np.hamming(win)
    for i in range(n):
        frame = x[i * hop:i * hop + win] * window
        energy[i] = frame @ frame
        if energy[i] < 1e-7:
            continue
        r = np.correlate(frame, frame, "full")[win - 1:win + 11]
        r[0] *= 1.0001
        roots = np.roots(np.r_[1.0, -solve_toeplitz(r[:10], r[1:11])])
        roots = roots[np.imag(roots) > 0]
        freq, bw = np.angle(roots) * 4000 / np.pi, -np.log(np.abs(roots)) * 8000 / np.pi
        found = np.sort(freq[(freq > 200) & (bw < 500)])[:2] / 1000
        f12[i, :found.size] = found
    db = 10 * np.log10(energy + 1e-10)
    level = np.clip((db - np.quantile(db, 0.95)) / 20, -4, 0)
    idx = np.minimum(((np.arange(n) * hop + win / 2) / 8000 * fps).astype(int), num_frames - 1)
    weight, count = np.clip(level + 2, 0, None), np.maximum(np.bincount(idx, None, num_frames), 1)
    out = np.zeros((num_frames, 5))
    for k in range(2):
        den = np.bincount(idx, weight, num_frames)
        out[:, k] = np.bincount(idx, weight * f12[:, k], num_frames) / np.maximum(den, 1e-9)
    out[:, 2] = np.bincount(idx, level, num_frames) / count
    out[:, 3] = out[:, 0] * (out[:, 2] + 4)
    out[:, 4] = np.bincount(idx, (f12[:, 0] > 0) * weight, num_frames) / count
    return out


def main() -> None:
    import torch

    from openinfp.audio.activity import speech_activity
    from openinfp.audio.viseme_net import load_viseme_net, viseme_evidence
    from openinfp.conditioners.audio_features import track_features
    from openinfp.conditioners.phonetic import viseme_posteriors
    from openinfp.core.metrics.audio import speech_envelope
    from openinfp.eval.lip_ceiling import leave_one_clip_out, load_clips, mlp_fitter, single_signal_r

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("folder", type=Path)
    p.add_argument("--cache", type=Path, default=None, help="tracking cache of openinfp eval --real")
    p.add_argument("--weights", type=Path, default=None, help="viseme net weights (default: shipped)")
    p.add_argument("--alpha", type=float, default=10.0)
    p.add_argument("--mlp", action="store_true",
                   help="also a nonlinear read-out (small MLP) of the net + formant and all-features sets")
    args = p.parse_args()
    torch.set_num_threads(1)
    net = load_viseme_net(args.weights)
    clips = load_clips(args.folder, args.cache)
    sets: dict[str, list[np.ndarray]] = {"acoustic": [], "visemes": [], "net": [], "formant": []}
    env = []
    for c in clips:
        t = c.lip_gap.size
        act = speech_activity(c.wave, c.fps, t)
        ac = track_features(c.wave, t, c.fps, activity=act)
        sets["acoustic"].append(ac)
        sets["visemes"].append(viseme_posteriors(c.wave, t, c.fps, act))
        sets["net"].append(viseme_evidence(ac, net))
        sets["formant"].append(formant_columns(c.wave, t, c.fps))
        env.append(speech_envelope(c.wave, fps=c.fps, num_frames=t))
    gaps = [c.lip_gap for c in clips]
    print(f"{len(clips)} clips; audio envelope (no fit): r = {np.mean(single_signal_r(env, gaps)):.3f}")
    print(f"net jaw column alone (no fit): r = {np.mean(single_signal_r([n[:, -1] for n in sets['net']], gaps)):.3f}")
    combos = {
        "acoustic (49)": ["acoustic"], "visemes (15)": ["visemes"], "acoustic + visemes": ["acoustic", "visemes"],
        "formant (5)": ["formant"], "net (16)": ["net"], "net + visemes": ["net", "visemes"],
        "net + formant": ["net", "formant"], "net + visemes + formant": ["net", "visemes", "formant"],
    }
    for label, keys in combos.items():
        feats = [np.hstack(parts) for parts in zip(*(sets[k] for k in keys))]
        rs = [np.mean(leave_one_clip_out(feats, gaps, context=ctx, alpha=args.alpha)) for ctx in (0, 4)]
        print(f"{label:24s} r = {rs[0]:.3f}   (+-4 frames stacked: {rs[1]:.3f})")
        if args.mlp and label in ("net + formant", "net + visemes + formant"):
            rm = [np.mean(leave_one_clip_out(feats, gaps, context=ctx, fitter=mlp_fitter())) for ctx in (4, 8)]
            print(f"{label:24s} MLP read-out, +-4 / +-8 frames stacked: r = {rm[0]:.3f} / {rm[1]:.3f}")


if __name__ == "__main__":
    main()

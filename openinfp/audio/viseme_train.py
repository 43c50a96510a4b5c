"""Training data and training loop of :class:`openinfp.audio.viseme_net.VisemeNet`.

Data (nothing else may train it; the talking videos are evaluation only):

* real speech folders (``realdata/speech`` layout, :mod:`openinfp.data.real_speech`):
  phone timings from PocketSphinx forced alignment where a transcript exists, phone
  recognition elsewhere (cached in a JSON file);
* eSpeak NG utterances of the synthetic conversation phrases (:mod:`openinfp.data.phrases`)
  in random voices, rates and pitches, whose phonemes are known exactly.

Per motion frame the target is the viseme occupancy (fraction of the frame spent in each
viseme) and the rules' ``jawOpen`` of those visemes (smoothed over 0.16 s as the lip
rules coarticulate). Input: the ``audio`` conditioner's 49 feature columns with speech
activity from the same detector as inference.

Command (the shipped weights)::

    python -m openinfp.audio.viseme_train --speech ../shared/realdata/speech \\
        --phone-cache CACHE/real-phones.json --espeak 400 --steps 1500 --seed 0 \\
        -o openinfp/audio/viseme_net.safetensors
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np
import torch

from openinfp.audio.viseme_net import IN_FEATURES, NUM_VISEMES, VisemeNet

log = logging.getLogger(__name__)

FPS = 25.0
SUB = 8
"""Sub-frames per frame used to measure viseme occupancy."""


@dataclass
class Example:
    """One utterance: ``feats`` ``[T, 49]``, ``occupancy`` ``[T, V]``, ``jaw`` ``[T]``, and its source."""

    feats: np.ndarray
    occupancy: np.ndarray
    jaw: np.ndarray
    source: str
    held_out: bool = False


def occupancy_from_intervals(intervals: Iterable[tuple[float, float, int]], num_frames: int,
                             fps: float = FPS) -> np.ndarray:
    """``(start s, end s, viseme index)`` intervals -> ``[num_frames, V]`` occupancy (silence elsewhere)."""
    from openinfp.data.visemes import SILENCE, VISEMES

    grid = np.full(num_frames * SUB, VISEMES.index(SILENCE), np.int64)
    rate = fps * SUB
    for t0, t1, v in intervals:
        lo, hi = max(int(round(t0 * rate)), 0), min(int(round(t1 * rate)), grid.size)
        if hi > lo:
            grid[lo:hi] = v
    onehot = np.zeros((grid.size, len(VISEMES)), np.float32)
    onehot[np.arange(grid.size), grid] = 1.0
    return onehot.reshape(num_frames, SUB, len(VISEMES)).mean(axis=1)


def rule_jaw(occupancy: np.ndarray, fps: float = FPS) -> np.ndarray:
    """``[T, V]`` occupancy -> ``[T]`` rule ``jawOpen``, coarticulated (smoothed 0.16 s)."""
    from openinfp.core.arkit import ARKIT_NAMES
    from openinfp.data.signals import smooth
    from openinfp.data.visemes import viseme_matrix

    jaw = occupancy @ viseme_matrix()[:, ARKIT_NAMES.index("jawOpen")]
    return smooth(jaw.astype(np.float32), 0.16, fps).astype(np.float32)


def _features(wave: np.ndarray, num_frames: int) -> np.ndarray:
    from openinfp.audio.activity import speech_activity
    from openinfp.conditioners.audio_features import track_features

    act = speech_activity(wave, FPS, num_frames)
    return track_features(wave, num_frames, FPS, activity=act)


def _example(wave: np.ndarray, intervals: list[tuple[float, float, int]], source: str,
             held_out: bool) -> Example:
    n = int(len(wave) / 16000 * FPS)
    occ = occupancy_from_intervals(intervals, n)
    return Example(_features(wave, n), occ, rule_jaw(occ), source, held_out)


def real_examples(folders: Sequence[str | Path], phone_cache: str | Path) -> list[Example]:
    """Examples of every utterance of the real speech ``folders`` (phone timing cached)."""
    from openinfp.audio.phones import ARPABET_TO_ESPEAK
    from openinfp.data.real_speech import build_pool, is_val_speaker, read_utterance
    from openinfp.data.visemes import viseme_index

    out = []
    for utt in build_pool(list(folders), phone_cache):
        wave = read_utterance(utt.path)
        iv = [(p.start, p.end, viseme_index(ARPABET_TO_ESPEAK[p.phone])) for p in utt.phones if not p.is_silence]
        kind = "aligned" if utt.transcript else "recognised"
        out.append(_example(wave, iv, f"real-{kind}", is_val_speaker(utt.speaker)))
    return out


def espeak_examples(count: int, seed: int) -> list[Example]:
    """``count`` eSpeak utterances of the conversation phrases (random voice, rate, pitch)."""
    from openinfp.audio.espeak import list_variants, synthesize
    from openinfp.data.phrases import turn_text
    from openinfp.data.visemes import is_pause, viseme_index

    rng = np.random.default_rng(seed)
    variants = list_variants()
    out = []
    for i in range(count):
        text = turn_text(rng, first=i % 5 == 0, previous_was_question=bool(rng.random() < 0.3), max_sentences=2)
        voice = str(rng.choice(["en-us", "en", "en-gb-x-rp"])) + (f"+{rng.choice(variants)}" if variants else "")
        try:
            utt = synthesize(text, voice, rate=int(rng.integers(130, 210)), pitch=int(rng.integers(25, 80)),
                             pitch_range=int(rng.integers(30, 80)))
        except Exception as err:  # noqa: BLE001 - an unknown voice name: skip it, keep the corpus going
            log.warning("eSpeak %s: %s", voice, err)
            continue
        ev = utt.phonemes
        iv = [(e.time, ev[k + 1].time if k + 1 < len(ev) else utt.duration, viseme_index(e.phoneme))
              for k, e in enumerate(ev) if not is_pause(e.phoneme)]
        out.append(_example(utt.wave, iv, "espeak", i % 8 == 0))
    return out


def _batches(examples: Sequence[Example], rng: np.random.Generator, batch: int, length: int):
    weights = np.array([max(len(e.feats) - length, 1) for e in examples], np.float64)
    weights /= weights.sum()
    while True:
        xs, occs, jaws = [], [], []
        for k in rng.choice(len(examples), size=batch, p=weights):
            e = examples[k]
            s = int(rng.integers(0, max(len(e.feats) - length, 0) + 1))
            x = np.zeros((length, IN_FEATURES), np.float32)
            o = np.zeros((length, NUM_VISEMES), np.float32)
            j = np.zeros(length, np.float32)
            seg = slice(s, s + length)
            m = len(e.feats[seg])
            x[:m], o[:m], j[:m] = e.feats[seg], e.occupancy[seg], e.jaw[seg]
            if m < length:  # pad with the utterance's last frame, labelled as it
                x[m:], o[m:], j[m:] = x[m - 1], o[m - 1], j[m - 1]
            xs.append(x)
            occs.append(o)
            jaws.append(j)
        x = np.stack(xs)
        # Channel and voice variety: random level and spectral tilt on the mel columns (/20 dB units).
        n_mels = IN_FEATURES - 9
        tilt = rng.normal(0, 0.15, (batch, 1, 1)) * np.linspace(-1, 1, n_mels)[None, None, :]
        x[:, :, :n_mels] += (rng.normal(0, 0.1, (batch, 1, 1)) + tilt).astype(np.float32)
        yield torch.from_numpy(x), torch.from_numpy(np.stack(occs)), torch.from_numpy(np.stack(jaws))


def train(examples: Sequence[Example], steps: int = 1500, seed: int = 0, batch: int = 32, length: int = 100,
          lr: float = 3e-3, jaw_weight: float = 20.0) -> VisemeNet:
    """Train a :class:`VisemeNet` (deterministic for a seed, single-threaded CPU)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_set = [e for e in examples if not e.held_out]
    net = VisemeNet()
    allx = np.concatenate([e.feats for e in train_set])
    net.mean.copy_(torch.from_numpy(allx.mean(axis=0)))
    net.std.copy_(torch.from_numpy(np.maximum(allx.std(axis=0), 1e-3)))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    data = _batches(train_set, rng, batch, length)
    net.train()
    for step in range(steps):
        x, occ, jaw = next(data)
        out = net(x)
        ce = -(occ * torch.log_softmax(out[..., :NUM_VISEMES], dim=-1)).sum(-1).mean()
        loss = ce + jaw_weight * torch.mean((out[..., NUM_VISEMES] - jaw) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 500 == 0 or step == steps - 1:
            log.info("step %d: viseme CE %.3f, loss %.3f", step, ce.item(), loss.item())
    return net.eval()


def frame_accuracy(net: VisemeNet, examples: Sequence[Example]) -> Optional[float]:
    """Share of frames whose most probable viseme is the frame's majority viseme."""
    hits = total = 0
    with torch.no_grad():
        for e in examples:
            out = net(torch.from_numpy(e.feats)[None])[0, :, :NUM_VISEMES].numpy()
            hits += int((out.argmax(1) == e.occupancy.argmax(1)).sum())
            total += len(e.feats)
    return hits / total if total else None


def main(argv: Optional[Sequence[str]] = None) -> None:
    from safetensors.torch import save_file

    p = argparse.ArgumentParser(description="Train the viseme classifier (openinfp.audio.viseme_net).")
    p.add_argument("--speech", action="append", default=[], help="real speech folder (repeatable)")
    p.add_argument("--phone-cache", required=True, help="JSON cache of the real utterances' phone timings")
    p.add_argument("--espeak", type=int, default=400, help="eSpeak utterances to synthesise")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)
    examples = real_examples(args.speech, args.phone_cache) if args.speech else []
    examples += espeak_examples(args.espeak, args.seed)
    log.info("%d utterances, %.1f min", len(examples), sum(len(e.feats) for e in examples) / FPS / 60)
    net = train(examples, steps=args.steps, seed=args.seed)
    for src in sorted({e.source for e in examples}):
        held = [e for e in examples if e.held_out and e.source == src]
        log.info("held-out frame accuracy %s: %s", src, frame_accuracy(net, held))
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, args.output)
    log.info("wrote %s", args.output)


if __name__ == "__main__":
    main()

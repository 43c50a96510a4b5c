"""Fine-tuning segmentation-3.0 on simulated conversations (:mod:`openinfp.audio.segmentation_sim`).

Only the top of the network trains: the SincNet front end and the first ``train_from``
LSTM layers stay as shipped (their outputs are computed once per chunk and stored in
float16), the remaining LSTM layers and the linear layers learn at a low rate. The loss
is pyannote's: cross-entropy on the 7 powerset classes, invariant to the order of the
three local speakers (the best of the 6 orders per chunk).

Data: only the real speech folder (``realdata/speech`` layout; conversations and talking
videos are evaluation only). Speakers are split by :func:`openinfp.data.real_speech.is_val_speaker`;
the held-out voices make the validation chunks. Speech masks of the utterances come from
the shipped model on each clean utterance alone.

Command::

    python -m openinfp.audio.segmentation_train --speech ../shared/realdata/speech \\
        --chunks 1000 --val-chunks 100 --train-from 2 --steps 300 --lr 1e-4 --level-db -20 0 \\
        --overlap-p 0.5 --backchannel-p 0.5 --fill-gap-s 0.3 --seed 0 -o segmentation_ft.safetensors

Tried on the real conversations and not shipped (docs/AUDIO.md, "Tried"): the tuned model
learns the simulated overlap but marks less speech on real meetings.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import time
from collections import defaultdict
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch
from torch import nn

from openinfp.audio.segmentation_sim import CHUNK, FRAME_STEP, SimConfig, Source, simulate_chunk

log = logging.getLogger(__name__)

HIDDEN = 128
LAYERS = 4


def _lstm_part(model: nn.Module, first: int, last: int) -> nn.LSTM:
    """LSTM layers ``first..last-1`` of ``model.lstm`` as a stand-alone bidirectional LSTM."""
    part = nn.LSTM(60 if first == 0 else 2 * HIDDEN, HIDDEN, num_layers=last - first, bidirectional=True,
                   batch_first=True)
    full = model.lstm.state_dict()
    part.load_state_dict({name: full[name.replace(f"_l{i}", f"_l{i + first}", 1)]
                          for name in part.state_dict() for i in [int(name.split("_l")[1][0])]})
    return part


class Front(nn.Module):
    """Frozen lower part: ``[B, 1, 160000]`` waveform -> ``[B, 589, D]`` (D = 60 or 256)."""

    def __init__(self, model: nn.Module, train_from: int) -> None:
        super().__init__()
        self.sincnet = model.sincnet
        self.lstm = _lstm_part(model, 0, train_from) if train_from > 0 else None

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        x = self.sincnet(wav).transpose(1, 2)
        return self.lstm(x)[0] if self.lstm is not None else x


class Head(nn.Module):
    """Trained upper part: ``[B, 589, D]`` -> ``[B, 589, 7]`` powerset log-probabilities."""

    def __init__(self, model: nn.Module, train_from: int) -> None:
        super().__init__()
        self.train_from = train_from
        self.lstm = _lstm_part(model, train_from, LAYERS)
        self.linear = model.linear
        self.classifier = model.classifier

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, _ = self.lstm(x)
        for layer in self.linear:
            x = torch.nn.functional.leaky_relu(layer(x))
        return torch.log_softmax(self.classifier(x), dim=-1)

    def full_state(self) -> dict[str, torch.Tensor]:
        """The trained tensors under the full network's names (``lstm.weight_ih_l3``, ``linear.0.weight``...)."""
        out = {}
        for name, value in self.lstm.state_dict().items():
            i = int(name.split("_l")[1][0])
            out["lstm." + name.replace(f"_l{i}", f"_l{i + self.train_from}", 1)] = value
        for prefix, module in (("linear.", self.linear), ("classifier.", self.classifier)):
            out.update({prefix + k: v for k, v in module.state_dict().items()})
        return {k: v.detach().clone() for k, v in out.items()}


def powerset_index(labels: torch.Tensor) -> torch.Tensor:
    """``[..., 3]`` multi-hot (at most two on) -> ``[...]`` powerset class (0 nobody, 1-3 one, 4-6 pairs)."""
    from openinfp.audio.segmentation import powerset_to_speakers

    table = torch.from_numpy(powerset_to_speakers())  # [7, 3]
    code = (labels.round().long() * torch.tensor([1, 2, 4])).sum(-1)
    lookup = torch.full((8,), -1, dtype=torch.long)
    lookup[(table.long() * torch.tensor([1, 2, 4])).sum(-1)] = torch.arange(7)
    index = lookup[code]
    if (index < 0).any():
        raise ValueError("a frame has three active speakers; the powerset holds at most two")
    return index


def pit_powerset_loss(logp: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Permutation-invariant powerset cross-entropy.

    Args:
        logp: ``[B, F, 7]`` log-probabilities.
        labels: ``[B, F, 3]`` multi-hot local speaker activity.

    Returns:
        Scalar: mean over chunks of the smallest (over the 6 orders of the local speakers)
        mean frame negative log-likelihood.
    """
    losses = []
    for perm in itertools.permutations(range(labels.shape[-1])):
        target = powerset_index(labels[..., list(perm)])
        losses.append(-logp.gather(-1, target[..., None])[..., 0].mean(dim=1))
    return torch.stack(losses, dim=1).min(dim=1).values.mean()


def teacher_mask(model: nn.Module, wave: np.ndarray) -> np.ndarray:
    """``[N]`` bool: where the shipped model hears speech in ``wave`` (10 s windows, frame-centre resolution)."""
    from openinfp.audio.segmentation_sim import FRAME_CENTRE, FRAMES

    mask = np.zeros(wave.shape[0], bool)
    hop = FRAMES * FRAME_STEP
    with torch.inference_mode():
        for start in range(0, wave.shape[0], hop):
            piece = np.zeros(CHUNK, np.float32)
            seg = wave[start:start + CHUNK]
            piece[:seg.shape[0]] = seg
            speech = model(torch.from_numpy(piece)[None, None]).argmax(-1)[0].numpy() > 0
            for f in np.flatnonzero(speech):
                c = start + FRAME_CENTRE + FRAME_STEP * f
                mask[max(c - FRAME_STEP // 2, 0):c + FRAME_STEP // 2 + 1] = True
    return mask


def close_gaps(mask: np.ndarray, gap: int) -> np.ndarray:
    """``[N]`` bool with every pause shorter than ``gap`` samples between two speech runs filled."""
    out = mask.copy()
    edges = np.flatnonzero(np.diff(mask.astype(np.int8)))
    for a, b in zip(edges, edges[1:]):
        if not mask[a + 1] and b + 1 - (a + 1) < gap and mask[a]:
            out[a + 1:b + 1] = True
    return out


def load_speakers(folder: Path, model: nn.Module,
                  fill_gap_s: float = 0.0) -> tuple[list[list[Source]], list[list[Source]]]:
    """Utterances of ``folder`` grouped by speaker: ``(train speakers, held-out speakers)``.

    ``fill_gap_s``: pauses shorter than this inside an utterance's speech mask count as speech
    (as in turn-level human annotation).
    """
    from openinfp.data.real_speech import find_utterances, is_val_speaker, read_utterance

    groups: dict[str, list[Source]] = defaultdict(list)
    for path, speaker, _ in find_utterances(folder):
        wave = read_utterance(str(path))
        mask = teacher_mask(model, wave)
        groups[speaker].append(Source(wave, close_gaps(mask, int(fill_gap_s * 16000)) if fill_gap_s > 0 else mask))
    train = [v for k, v in sorted(groups.items()) if not is_val_speaker(k)]
    val = [v for k, v in sorted(groups.items()) if is_val_speaker(k)]
    log.info("%d training speakers, %d held out", len(train), len(val))
    return train, val


def make_features(front: Front, speakers: Sequence[Sequence[Source]], count: int, seed: int,
                  cfg: SimConfig = SimConfig(), batch: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """``count`` simulated chunks through the frozen front: ``([count, 589, D] float16, [count, 589, 3])``."""
    rng = np.random.default_rng(seed)
    feats, labels = [], []
    with torch.inference_mode():
        for b0 in range(0, count, batch):
            pairs = [simulate_chunk(rng, speakers, cfg) for _ in range(min(batch, count - b0))]
            wav = torch.from_numpy(np.stack([p[0] for p in pairs]))[:, None]
            feats.append(front(wav).half())
            labels.append(torch.from_numpy(np.stack([p[1] for p in pairs])))
    return torch.cat(feats), torch.cat(labels)


def evaluate(head: Head, feats: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Loss and overlap recall / precision (argmax, best speaker order) on stored chunks."""
    head.eval()
    with torch.inference_mode():
        logp = head(feats.float())
        loss = float(pit_powerset_loss(logp, labels))
        pred_pair = logp.argmax(-1) >= 4
    true_pair = labels.sum(-1) >= 2
    hit = float((pred_pair & true_pair).sum())
    return {"loss": loss, "overlap_recall": hit / max(float(true_pair.sum()), 1.0),
            "overlap_precision": hit / max(float(pred_pair.sum()), 1.0)}


def train(head: Head, feats: torch.Tensor, labels: torch.Tensor, steps: int, lr: float = 1e-4,
          batch: int = 16, seed: int = 0, val: Optional[tuple[torch.Tensor, torch.Tensor]] = None,
          every: int = 100, checkpoint: Optional[Path] = None) -> list[dict[str, float]]:
    """Adam on the head's parameters; returns the validation history (every ``every`` steps)."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    history: list[dict[str, float]] = []
    t0 = time.time()
    for step in range(1, steps + 1):
        head.train()
        idx = torch.randint(feats.shape[0], (batch,))
        loss = pit_powerset_loss(head(feats[idx].float()), labels[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if val is not None and (step % every == 0 or step == steps):
            row = {"step": step, "train_loss": float(loss), "seconds": time.time() - t0, **evaluate(head, *val)}
            history.append(row)
            log.info("%s", row)
            if checkpoint is not None:
                save_head(head, checkpoint.with_name(f"{checkpoint.stem}_step{step}{checkpoint.suffix}"))
    return history


def save_head(head: Head, path: Path) -> None:
    """The trained tensors (full-network names) as float16 safetensors."""
    from safetensors.torch import save_file

    save_file({k: v.half().contiguous() for k, v in head.full_state().items()}, str(path))


def main(argv: Optional[Sequence[str]] = None) -> int:
    from openinfp.audio.segmentation import _build_model, segmentation_model

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--speech", required=True, type=Path)
    p.add_argument("--chunks", type=int, default=1200)
    p.add_argument("--val-chunks", type=int, default=120)
    p.add_argument("--train-from", type=int, default=2, choices=range(LAYERS))
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--level-db", type=float, nargs=2, default=SimConfig.level_db, metavar=("LOW", "HIGH"),
                   help="range of each voice's level (dB)")
    p.add_argument("--overlap-p", type=float, default=SimConfig.overlap_p, help="share of overlapping turns")
    p.add_argument("--backchannel-p", type=float, default=SimConfig.backchannel_p)
    p.add_argument("--fill-gap-s", type=float, default=0.0, help="fill shorter pauses in the speech labels")
    p.add_argument("-o", "--output", required=True, type=Path)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(1)
    teacher = segmentation_model()
    model = _build_model()
    model.load_state_dict(teacher.state_dict())
    front, head = Front(model, args.train_from).eval(), Head(model, args.train_from)
    for param in front.parameters():
        param.requires_grad_(False)
    train_spk, val_spk = load_speakers(args.speech, teacher, args.fill_gap_s)
    cfg = SimConfig(level_db=tuple(args.level_db), overlap_p=args.overlap_p, backchannel_p=args.backchannel_p)
    val = make_features(front, val_spk, args.val_chunks, args.seed + 1, cfg)
    log.info("before: %s", evaluate(head, *val))
    feats, labels = make_features(front, train_spk, args.chunks, args.seed, cfg)
    speaking = labels.sum(-1)
    log.info("features ready: %s; frames with speech %.2f, with two voices %.2f", tuple(feats.shape),
             float((speaking > 0).float().mean()), float((speaking > 1).float().mean()))
    train(head, feats, labels, args.steps, args.lr, args.batch, args.seed, val, checkpoint=args.output)
    save_head(head, args.output)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

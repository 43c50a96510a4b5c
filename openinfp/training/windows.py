"""Training samples: spans of ``context + window`` frames seen from either side.

The side whose motion is learned is the agent, the other the partner; motion is
normalised with statistics of the training motion. Style tokens (text, image) are
dropped now and then, so the model also learns to move without them.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from openinfp.core.errors import InputError
from openinfp.core.guider import GuiderInputs
from openinfp.core.motion_space import MotionSpace
from openinfp.training.features import ConversationFeatures

STYLE_DROPOUT = 0.3
"""Probability that a training window goes without each of its style tokens (text, image)."""


class WindowDataset(torch.utils.data.Dataset):
    """Spans of ``context + window`` frames, from every side that has motion.

    Each item: ``agent_audio [S, F]``, ``partner_audio [S, F]``, ``motion [S, D]``
    (normalised), ``speaking [S, 2]`` (agent, partner activity), ``style.<name>`` tokens.
    """

    def __init__(self, convs: Sequence[ConversationFeatures], space: MotionSpace, span: int, stride: int,
                 swap_roles: bool = True, style_dropout: float = 0.0) -> None:
        self.convs = list(convs)
        self.style_dropout = style_dropout
        self.space = space
        self.span = span
        self.index: list[tuple[int, int, int]] = []
        for ci, conv in enumerate(self.convs):
            sides = [0, 1] if swap_roles else [0]
            for side in sides:
                if conv.sides[side].motion is None or conv.num_frames < span:
                    continue
                for start in range(0, conv.num_frames - span + 1, stride):
                    self.index.append((ci, side, start))
        if not self.index:
            raise InputError(f"no training windows: every conversation is shorter than {span} frames "
                             "or has no motion")

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ci, side, start = self.index[i]
        conv = self.convs[ci]
        agent, partner = conv.sides[side], conv.sides[1 - side]
        sl = slice(start, start + self.span)
        motion = self.space.normalize(torch.from_numpy(agent.motion[sl]))
        item = {
            "agent_audio": torch.from_numpy(agent.audio[sl]),
            "partner_audio": torch.from_numpy(partner.audio[sl]),
            "motion": motion,
            "speaking": torch.from_numpy(np.stack([agent.activity[sl], partner.activity[sl]], -1)),
        }
        for name, tok in agent.style.items():
            # style dropout: the model also sees windows without a prompt / style image, as
            # at inference without them (the default run draws from torch's seeded generator)
            if self.style_dropout > 0 and float(torch.rand(())) < self.style_dropout:
                continue
            item[f"style.{name}"] = torch.from_numpy(tok)
        return item


def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack items; style tokens padded to the longest with a mask (absent = all masked)."""
    out = {k: torch.stack([it[k] for it in items]) for k in ("agent_audio", "partner_audio", "motion", "speaking")}
    names = sorted({k for it in items for k in it if k.startswith("style.")})
    for key in names:
        toks = [it.get(key) for it in items]
        ref = next(t for t in toks if t is not None)
        n = max(t.shape[0] for t in toks if t is not None)
        batch = torch.zeros(len(items), n, ref.shape[1])
        mask = torch.zeros(len(items), n, dtype=torch.bool)
        for i, t in enumerate(toks):
            if t is not None:
                batch[i, :t.shape[0]] = t
                mask[i, :t.shape[0]] = True
        out[key] = batch
        out[key + ".mask"] = mask
    return out


def batch_inputs(batch: dict[str, torch.Tensor]) -> GuiderInputs:
    """Guider inputs of a collated batch."""
    style = {k[len("style."):]: (v, batch[k + ".mask"]) for k, v in batch.items()
             if k.startswith("style.") and not k.endswith(".mask")}
    return GuiderInputs(batch["agent_audio"], batch["partner_audio"], style, batch["agent_audio"].shape[1])

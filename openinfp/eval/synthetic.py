"""Held-out synthetic conversations for ``openinfp eval`` without a data folder.

The conversations are those of the synthetic corpus's validation split (held-out
voices) for the given seed, planned at ``seconds`` each,
written as shards by :mod:`openinfp.data` so evaluation goes through the same reader as
real shard folders. The data card (``docs/DATA.md``) describes their rules: these
scores measure how well a system reproduces rule-based synthetic behaviour, not real
people (use ``--human`` for that).
"""

from __future__ import annotations

from pathlib import Path

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike


def heldout_conversations(out: PathLike, count: int, seconds: float = 20.0, seed: int = 0) -> Path:
    """Write ``count`` validation-split synthetic conversations into ``out``; returns ``out``.

    Raises:
        InputError: ``count < 1`` or ``seconds`` under 5.
    """
    from dataclasses import replace

    from openinfp.data.shards import SHARD_SUFFIX, write_conversation, write_manifest
    from openinfp.data.synth import plan_conversation, synth_conversation

    if count < 1:
        raise InputError(f"need at least one synthetic conversation, got {count}")
    if seconds < 5:
        raise InputError(f"synthetic conversations must be at least 5 s long, got {seconds:g}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    index, made = 0, 0
    while made < count:
        plan = plan_conversation(seed, index)
        index += 1
        if plan.split != "val":  # the corpus decides which indices are held out
            continue
        plan = replace(plan, target_seconds=float(seconds))
        write_conversation(synth_conversation(plan), folder / f"{plan.id}{SHARD_SUFFIX}")
        made += 1
    write_manifest(folder)
    return folder

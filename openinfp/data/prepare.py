"""``openinfp prepare``: recordings in a dataset layout -> conversation shards + manifest.

A reader (a registered dataset format: ``dualtalk``, ``beat2``, ``video``, ``shards`` or
a plugin's) lists the items under the inputs in a stable order; ``--shard i/n`` keeps
items ``i, i + n, i + 2n, ...`` so ``n`` machines (a cluster array job) split the work
without talking to each other. Items whose shard already exists are skipped (resume).
An item that fails (bad file, no face, ...) is recorded in
``prepare-failures-{i}-of-{n}.jsonl`` and the others go on. The manifest is rebuilt
from every shard in the output folder at the end.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from openinfp.core.errors import InputError, OpenInfpError
from openinfp.core.io import PathLike, atomic_output
from openinfp.data.readers.common import ConversationReader, PrepareItem
from openinfp.data.shards import SHARD_SUFFIX, ConversationShard, shard_is_complete, write_conversation, write_manifest


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` -> ``(i, n)`` with ``0 <= i < n``."""
    try:
        i_text, n_text = text.split("/")
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise InputError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if n < 1 or not 0 <= i < n:
        raise InputError(f"--shard {text}: need n >= 1 and 0 <= i < n (i counts from 0)")
    return i, n


def prepare_corpus(
    reader: ConversationReader,
    inputs: list[str],
    out: PathLike,
    shard: tuple[int, int] = (0, 1),
    progress: bool = True,
) -> dict[str, Any]:
    """Convert this shard's items into conversation shards in ``out``.

    Returns:
        Summary: items found, this shard's items, written, skipped, failed, hours, wall time.

    Raises:
        InputError: no items at all under the inputs.
    """
    from tqdm import tqdm

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"output {out} exists and is not a folder")
    items: list[PrepareItem] = reader.discover(inputs)
    if not items:
        raise InputError(f"no clips found under {', '.join(inputs)} for this format; see docs/DATA.md for the layouts")
    i, n = shard
    mine = items[i::n]
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    written, skipped, failures, seconds = 0, 0, [], 0.0
    for item in tqdm(mine, desc=f"prepare {i}/{n}", unit="clip", file=sys.stderr, disable=not progress):
        target = out / f"{item.id}{SHARD_SUFFIX}"
        if shard_is_complete(target):
            skipped += 1
            continue
        try:
            conv = reader.read(item)
            write_conversation(conv, target)
        except OpenInfpError as exc:
            failures.append({"id": item.id, "paths": item.paths, "error": str(exc)})
            continue
        written += 1
        seconds += conv.duration
    rows = write_manifest(out)
    fail_path = out / f"prepare-failures-{i}-of-{n}.jsonl"
    if failures:
        with atomic_output(fail_path) as tmp:
            tmp.write_text("".join(json.dumps(f) + "\n" for f in failures), encoding="utf-8")
    elif fail_path.exists():
        fail_path.unlink()
    return {
        "items_found": len(items), "shard": f"{i}/{n}", "items_in_shard": len(mine), "written": written,
        "skipped_existing": skipped, "failed": len(failures), "written_hours": round(seconds / 3600, 4),
        "manifest_rows": len(rows), "wall_seconds": round(time.perf_counter() - t0, 1),
        "failures_file": str(fail_path) if failures else None,
    }


class ShardsReader:
    """``openinfp prepare --format shards``: re-validate and copy existing shards (e.g. to merge corpora)."""

    def __init__(self, options: Any = None) -> None:
        self.options = options

    def discover(self, inputs: list[str]) -> list[PrepareItem]:
        from openinfp.data.shards import iter_shards

        items = {}
        for root in map(Path, inputs):
            files = [root] if root.is_file() else list(iter_shards(root)) if root.is_dir() else None
            if files is None:
                raise InputError(f"shard input {root} does not exist")
            for f in files:
                items[f.stem] = PrepareItem(f.stem, {"shard": str(f)})
        return [items[k] for k in sorted(items)]

    def read(self, item: PrepareItem):
        return ConversationShard(item.paths["shard"]).load()

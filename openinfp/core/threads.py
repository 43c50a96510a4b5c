"""Scoped torch CPU thread count."""

from __future__ import annotations

import contextlib
from typing import Iterator, Optional


@contextlib.contextmanager
def torch_threads(num: Optional[int]) -> Iterator[None]:
    """Run the block with ``torch.set_num_threads(num)``, then restore the previous count.

    ``None`` or ``num <= 0`` leaves the setting unchanged. Small-matrix work (sampling,
    per-frame rasterisation) runs faster on one thread on a busy 2-core machine, where a
    second thread spin-waits for a core; callers use this around such work only.
    """
    if num is None or num <= 0:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if previous == num:
        yield
        return
    torch.set_num_threads(num)
    try:
        yield
    finally:
        torch.set_num_threads(previous)

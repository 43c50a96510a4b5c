"""BEAT2 clips: SMPL-X ``.npz`` (``poses`` T x 165, ``trans``, ``expressions``,
``mocap_frame_rate``) with the speaker's ``.wav``.

Layout: ``*.npz`` anywhere under the input folders (BEAT2 keeps them in
``smplxflame_30/``); the audio is the ``.wav`` with the same stem next to it, or in a
sibling ``wave16k/`` folder (BEAT2's layout). BEAT2 is monologue: the speaker is side
``a`` and there is no partner (the dataset gives a silent partner). The motion is read
with :func:`openinfp.body.beat2.load_beat2`, resampled to 25 fps, and also converted to
the ``head`` space (:func:`~openinfp.data.readers.common.smplx_to_head`). BEAT2's FLAME
expression coefficients are not ARKit weights: the ARKit face is neutral except
``jawOpen`` from the jaw joint (``info.arkit_face_known = false`` says so).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openinfp.core.errors import InputError
from openinfp.data.config import Beat2Options
from openinfp.data.readers.common import (
    FPS,
    PrepareItem,
    build_conversation,
    resample_motion,
    safe_id,
    smplx_to_head,
    split_for,
)
from openinfp.data.shards import Conversation


def _find_wav(npz: Path) -> Path | None:
    for candidate in (npz.with_suffix(".wav"), npz.parent.parent / "wave16k" / f"{npz.stem}.wav",
                      npz.parent / "wave16k" / f"{npz.stem}.wav"):
        if candidate.is_file():
            return candidate
    return None


class Beat2Reader:
    """``openinfp prepare --format beat2`` (see the module docstring for the layout)."""

    def __init__(self, options: Beat2Options | None = None) -> None:
        self.options = options or Beat2Options()

    def discover(self, inputs: list[str]) -> list[PrepareItem]:
        items: dict[str, PrepareItem] = {}
        for root in map(Path, inputs):
            files = ([root] if root.is_file() and root.suffix == ".npz"
                     else sorted(root.rglob("*.npz")) if root.is_dir() else None)
            if files is None:
                raise InputError(f"BEAT2 input {root} is neither a folder nor an .npz file")
            for npz in files:
                wav = _find_wav(npz)
                paths = {"npz": str(npz)} | ({"wav": str(wav)} if wav else {})
                item_id = safe_id(f"beat2-{npz.stem}")
                items[item_id] = PrepareItem(item_id, paths)
        return [items[k] for k in sorted(items)]

    def read(self, item: PrepareItem) -> Conversation:
        from openinfp.audio.conversation import load_conversation
        from openinfp.body.beat2 import SMPLX_EXPRESSION_ANNOTATION, load_beat2

        if "wav" not in item.paths:
            npz = Path(item.paths["npz"])
            raise InputError(f"BEAT2 clip {npz}: no audio found ({npz.with_suffix('.wav').name} next to it or "
                             f"in ../wave16k/)")
        seq = load_beat2(item.paths["npz"])
        body = resample_motion(seq.motion.numpy(), seq.space, seq.fps, FPS)
        # the face: ARKit when the file has it, else only the jaw joint is known
        face_known = SMPLX_EXPRESSION_ANNOTATION not in seq.annotations and bool(np.any(seq.get("expression").numpy()))
        head = smplx_to_head(body)
        audio = load_conversation(item.paths["wav"], fps=FPS)  # mono: the speaker alone
        info = {"files": dict(item.paths), "source_fps": seq.fps, "arkit_face_known": face_known,
                "head_pose_known": True}
        return build_conversation(item.id, f"beat2:{item.paths['npz']}", split_for(item.id, self.options.val_fraction),
                                  audio, {"a": {"smplx": body, "head": head}}, {"a": info}, f"BEAT2 clip {item.id}")


__all__ = ["Beat2Reader"]

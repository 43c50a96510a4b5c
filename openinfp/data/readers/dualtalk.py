"""DualTalk-style clips: per clip, each speaker's wav and ARKit blendshape array.

Accepted layouts (under each input folder, searched recursively):

* ``CLIP/speaker1.wav``, ``CLIP/speaker2.wav`` with ``CLIP/speaker1.{npy,npz,csv}``
  and ``CLIP/speaker2.{npy,npz,csv}``;
* flat: ``CLIP_speaker1.wav`` ... ``CLIP_speaker2.npy`` side by side.

Blendshape arrays: ``.npy`` ``[T, 52]`` ARKit weights in Apple's order, or ``[T, 55]``
with head yaw, pitch, roll (radians, openinfp's convention) appended; ``.npz`` with an
array named ``arkit``, ``blendshapes`` or ``bs`` (plus optional ``head_ypr`` ``[T, 3]``);
``.csv`` in the Live Link Face layout (columns named by the ARKit names, any
capitalisation, optional ``HeadYaw``/``HeadPitch``/``HeadRoll``). Arrays are at
``blendshape_fps`` and are resampled to 25 fps. Speaker 1 becomes side ``a``, speaker 2
side ``b``; speech activity comes from the two tracks (Silero VAD with bleed handling).
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import torch

from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.errors import InputError
from openinfp.data.config import DualTalkOptions
from openinfp.data.readers.common import FPS, PrepareItem, build_conversation, resample_motion, safe_id, split_for
from openinfp.data.shards import Conversation

_ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
_SPEAKERS = ("speaker1", "speaker2")


def _find_array(folder: Path, stem: str) -> Path | None:
    for suffix in _ARRAY_SUFFIXES:
        p = folder / f"{stem}{suffix}"
        if p.is_file():
            return p
    return None


def read_blendshapes(path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """``(arkit [T, 52], head_ypr [T, 3] or None)`` from a ``.npy``/``.npz``/``.csv`` file.

    Raises:
        InputError: unreadable file, pickled content, wrong width, NaN values.
    """
    where = f"blendshape file {path}"
    head = None
    try:
        if path.suffix == ".csv":
            with open(path, newline="", encoding="utf-8") as fh:
                rows = list(csv.reader(fh))
            if len(rows) < 2:
                raise InputError(f"{where} has no data rows")
            header = [h.strip().lower() for h in rows[0]]
            missing = [n for n in ARKIT_NAMES if n.lower() not in header]
            if missing:
                raise InputError(f"{where} lacks ARKit columns such as {missing[0]!r} (Live Link Face layout expected)")
            data = np.asarray([[float(r[header.index(n.lower())]) for n in ARKIT_NAMES] for r in rows[1:] if r],
                              dtype=np.float32)
            if all(h in header for h in ("headyaw", "headpitch", "headroll")):
                head = np.asarray([[float(r[header.index(h)]) for h in ("headyaw", "headpitch", "headroll")]
                                   for r in rows[1:] if r], dtype=np.float32)
        else:
            loaded = np.load(path, allow_pickle=False)
            if isinstance(loaded, np.lib.npyio.NpzFile):
                with loaded:
                    key = next((k for k in ("arkit", "blendshapes", "bs") if k in loaded.files), None)
                    if key is None:
                        raise InputError(f"{where} has no 'arkit'/'blendshapes'/'bs' array (has {loaded.files})")
                    data = np.asarray(loaded[key], dtype=np.float32)
                    if "head_ypr" in loaded.files:
                        head = np.asarray(loaded["head_ypr"], dtype=np.float32)
            else:
                data = np.asarray(loaded, dtype=np.float32)
    except InputError:
        raise
    except ValueError as exc:
        raise InputError(f"{where} cannot be read without pickle or has non-numeric values ({exc})") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"{where} is not a readable array file ({exc})") from None
    if data.ndim != 2 or data.shape[1] not in (52, 55):
        raise InputError(f"{where}: expected [T, 52] ARKit weights (or [T, 55] with head yaw/pitch/roll), "
                         f"got {data.shape}")
    if data.shape[1] == 55:
        data, head = data[:, :52], data[:, 52:]
    if head is not None and head.shape != (data.shape[0], 3):
        raise InputError(f"{where}: head rotation must be [{data.shape[0]}, 3], got {head.shape}")
    if not np.all(np.isfinite(data)) or (head is not None and not np.all(np.isfinite(head))):
        raise InputError(f"{where} contains NaN or infinite values")
    if data.shape[0] == 0:
        raise InputError(f"{where} has no frames")
    return np.clip(data, 0.0, 1.0), head


def head_motion_from_arkit(arkit: np.ndarray, head_ypr: np.ndarray | None) -> np.ndarray:
    """``head`` motion ``[T, 62]``: the ARKit weights, the head rotation if known (else facing the camera)."""
    from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler

    space = head_motion_space()
    motion = space.neutral(arkit.shape[0])
    motion = space.set(motion, "arkit", torch.from_numpy(arkit))
    if head_ypr is not None:
        motion = space.set(motion, "head_rotation", head_rotation_from_euler(torch.from_numpy(head_ypr)))
    return motion.numpy()


class DualTalkReader:
    """``openinfp prepare --format dualtalk`` (see the module docstring for the layout)."""

    def __init__(self, options: DualTalkOptions | None = None) -> None:
        self.options = options or DualTalkOptions()
        if self.options.blendshape_fps <= 0:
            raise InputError(f"blendshape_fps must be positive, got {self.options.blendshape_fps}")

    def discover(self, inputs: list[str]) -> list[PrepareItem]:
        items: dict[str, PrepareItem] = {}
        for root in map(Path, inputs):
            if not root.is_dir():
                raise InputError(f"DualTalk input {root} is not a folder")
            for wav in sorted(root.rglob("*speaker1.wav")):
                folder = wav.parent
                prefix = wav.name[: -len("speaker1.wav")]
                clip = folder.name if prefix == "" else prefix.rstrip("_-.")
                paths = {"speaker1_wav": str(wav), "speaker2_wav": str(folder / f"{prefix}speaker2.wav")}
                for spk in _SPEAKERS:
                    arr = _find_array(folder, f"{prefix}{spk}")
                    if arr is not None:
                        paths[f"{spk}_arkit"] = str(arr)
                rel = folder.relative_to(root) if prefix else folder.relative_to(root).parent
                item_id = safe_id(f"dualtalk-{rel.as_posix()}-{clip}" if str(rel) != "." else f"dualtalk-{clip}")
                items[item_id] = PrepareItem(item_id, paths)
        return [items[k] for k in sorted(items)]

    def read(self, item: PrepareItem) -> Conversation:
        from openinfp.audio.conversation import load_conversation
        from openinfp.head.motion_space import head_motion_space

        for key in ("speaker2_wav", "speaker1_arkit", "speaker2_arkit"):
            if key not in item.paths or not Path(item.paths[key]).is_file():
                want = item.paths.get(key, key.replace("_arkit", ".npy|.npz|.csv"))
                raise InputError(f"DualTalk clip {item.id}: missing {want}")
        audio = load_conversation(item.paths["speaker1_wav"], item.paths["speaker2_wav"], fps=FPS)
        space = head_motion_space()
        motions, infos = {}, {}
        for side, spk in (("a", "speaker1"), ("b", "speaker2")):
            arkit, head = read_blendshapes(Path(item.paths[f"{spk}_arkit"]))
            motion = head_motion_from_arkit(arkit, head)
            motions[side] = {"head": resample_motion(motion, space, self.options.blendshape_fps, FPS)}
            # without head columns the rotation is a constant "facing the camera", not a measurement
            infos[side] = {"files": {k: v for k, v in item.paths.items() if k.startswith(spk)},
                           "head_pose_known": head is not None}
        return build_conversation(item.id, f"dualtalk:{Path(item.paths['speaker1_wav']).parent}",
                                  split_for(item.id, self.options.val_fraction), audio, motions, infos,
                                  f"DualTalk clip {item.id}")

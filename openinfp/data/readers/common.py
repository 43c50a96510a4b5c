"""What every recording reader shares: items, splits, resampling, alignment, SMPL-X -> head."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Optional, Protocol

import numpy as np
import torch

from openinfp.core.audio import SAMPLE_RATE, ConversationAudio
from openinfp.core.errors import InputError
from openinfp.core.motion_space import MotionSpace
from openinfp.core.rotations import matrix_to_rot6d, rot6d_to_matrix
from openinfp.data.shards import Conversation, Side

FPS = 25.0
HOP = int(SAMPLE_RATE / FPS)
MAX_LENGTH_MISMATCH_S = 2.0
"""Motion and audio of one clip may differ by this much (the longer is trimmed); more is refused."""


@dataclass(frozen=True)
class PrepareItem:
    """One conversation a reader found: an id and the files it is made from."""

    id: str
    paths: dict[str, str] = field(default_factory=dict)


class ConversationReader(Protocol):
    """A dataset format for ``openinfp prepare``: finds items, turns each into a :class:`Conversation`."""

    def discover(self, inputs: list[str]) -> list[PrepareItem]:
        """Items under the given files/folders, in a stable order."""

    def read(self, item: PrepareItem) -> Conversation:
        """The conversation of one item (raises :class:`InputError` for a bad item)."""


def safe_id(text: str) -> str:
    """A file-name-safe id: runs of other characters become ``-``."""
    out = re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-.")
    return out or "clip"


def split_for(item_id: str, val_fraction: float) -> str:
    """``"val"`` for a stable ``val_fraction`` share of ids (CRC32 hash), else ``"train"``."""
    if not 0.0 <= val_fraction <= 1.0:
        raise InputError(f"val_fraction must be in [0, 1], got {val_fraction}")
    return "val" if (zlib.crc32(item_id.encode()) % 10_000) < val_fraction * 10_000 else "train"


def resample_motion(motion: np.ndarray, space: MotionSpace, fps_in: float, fps_out: float = FPS,
                    num_frames: Optional[int] = None) -> np.ndarray:
    """Resample ``[T, D]`` motion to ``fps_out`` (linear; 6D rotations re-orthonormalised).

    Frame ``j`` of the output samples time ``j / fps_out``; ``num_frames`` defaults to
    the number of output frames that fit in the input's duration.
    """
    T = motion.shape[0]
    if num_frames is None:
        num_frames = max(1, int(np.floor(T / fps_in * fps_out + 1e-6)))
    if abs(fps_in - fps_out) < 1e-9 and num_frames <= T:
        return np.ascontiguousarray(motion[:num_frames], dtype=np.float32)
    pos = np.clip(np.arange(num_frames) * fps_in / fps_out, 0, T - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    w = (pos - i0)[:, None].astype(np.float32)
    out = (motion[i0] * (1 - w) + motion[i1] * w).astype(np.float32)
    for part in space.slices:
        if part.rotation == "6d":
            idx = space.index(part.name)
            r6 = torch.from_numpy(out[:, idx]).reshape(num_frames, -1, 6)
            out[:, idx] = matrix_to_rot6d(rot6d_to_matrix(r6)).reshape(num_frames, -1).numpy()
    return out


def align(audio: ConversationAudio, motions: dict[str, dict[str, np.ndarray]], what: str) -> tuple[int, float]:
    """Common frame count of audio and every motion; ``(T, seconds trimmed at most)``.

    Raises:
        InputError: audio and motion lengths differ by more than :data:`MAX_LENGTH_MISMATCH_S`.
    """
    t_audio = audio.num_samples // HOP
    lengths = [t_audio] + [m.shape[0] for side in motions.values() for m in side.values()]
    T = min(lengths)
    mismatch = (max(lengths) - T) / FPS
    if mismatch > MAX_LENGTH_MISMATCH_S:
        motion_s = ", ".join(f"{n / FPS:.2f}" for n in lengths[1:])
        raise InputError(f"{what}: audio ({t_audio / FPS:.2f} s) and motion ({motion_s} s) "
                         f"differ by {mismatch:.2f} s (limit {MAX_LENGTH_MISMATCH_S} s); are they from the same clip?")
    if T < 1:
        raise InputError(f"{what}: no complete frame of audio and motion")
    return T, mismatch


def build_conversation(
    item_id: str,
    source: str,
    split: str,
    audio: ConversationAudio,
    motions: dict[str, dict[str, np.ndarray]],
    infos: dict[str, dict],
    what: str,
) -> Conversation:
    """Trim audio, activity and motion to a common length and assemble a :class:`Conversation`.

    Args:
        audio: agent track = side ``a``, partner track = side ``b``.
        motions: side -> space -> ``[T_m, D]`` at 25 fps; side ``b`` may be missing
            (then ``b`` is kept only if its track has sound: a listener with no motion).
        infos: side -> free metadata.
    """
    T, mismatch = align(audio, motions, what)
    acts = {"a": audio.agent_activity, "b": audio.partner_activity}
    waves = {"a": audio.agent, "b": audio.partner}
    sides: dict[str, Side] = {}
    for side in ("a", "b"):
        wave = waves[side][: T * HOP]
        if side not in motions and not np.any(wave):
            continue  # a silent person with no motion adds nothing
        act = acts[side]
        act = np.zeros(T, np.float32) if act is None else np.asarray(act, np.float32)[:T]
        if act.shape[0] < T:
            act = np.pad(act, (0, T - act.shape[0]), mode="edge" if act.size else "constant")
        sides[side] = Side(
            audio=wave.astype(np.float32), activity=np.clip(act, 0.0, 1.0),
            motion={k: v[:T] for k, v in motions.get(side, {}).items()},
            info={**infos.get(side, {}), "audio_source": audio.source, "audio_notes": list(audio.notes),
                  "trimmed_s": round(mismatch, 3)},
        )
    return Conversation(item_id, source, split, sides, FPS)


def smplx_to_head(motion: np.ndarray) -> np.ndarray:
    """``smplx`` motion ``[T, 385]`` -> ``head`` motion ``[T, 62]``.

    Head rotation: the ``head`` joint's global rotation (root, spine, neck, head chain)
    relative to the direction the body faces (so a body turned away from the camera
    still gives a frontal head when its head is straight); translation 0, scale 1.
    ARKit: the ``expression`` weights, with ``jawOpen`` raised to the jaw joint's opening.
    """
    from openinfp.body.convert import facing_yaw, jaw_open_amount, yaw_matrix
    from openinfp.body.motion_space import SMPLX_JOINTS, joint_rotmats, smplx_motion_space
    from openinfp.head.motion_space import head_motion_space

    body = torch.from_numpy(np.ascontiguousarray(motion, dtype=np.float32))
    rot = joint_rotmats(body)  # [T, 55, 3, 3] local rotations
    chain = ("pelvis", "spine1", "spine2", "spine3", "neck", "head")
    glob = rot[:, SMPLX_JOINTS.index(chain[0])]
    for joint in chain[1:]:
        glob = glob @ rot[:, SMPLX_JOINTS.index(joint)]
    root = rot[:, SMPLX_JOINTS.index("pelvis")]
    rel = yaw_matrix(-facing_yaw(root)) @ glob
    bspace, hspace = smplx_motion_space(), head_motion_space()
    arkit = bspace.get(body, "expression").clone()
    jaw_idx = hspace.part("arkit").component_names.index("jawOpen")
    arkit[:, jaw_idx] = jaw_open_amount(body)
    out = hspace.neutral(body.shape[0])
    out = hspace.set(out, "head_rotation", matrix_to_rot6d(rel))
    out = hspace.set(out, "arkit", arkit.clamp(0.0, 1.0))
    return out.numpy().astype(np.float32)

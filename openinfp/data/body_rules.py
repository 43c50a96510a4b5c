"""Ground-truth rules for the ``smplx`` motion space of a synthetic participant.

The body is seated/standing facing +z (SMPL-X canonical frame: y up, x = the body's
left, which is the viewer's right, as in the ``head`` space), so the head rotation of
the ``head`` space carries over unchanged:

* ``spine3`` leans forward 3 degrees while the person holds the turn (plus a little
  spine sway); ``neck`` and ``head`` then turn so that the head's global rotation is
  exactly the ``head`` space's rotation (the neck takes 40 % of what is left after the
  spine, the head the rest), so both spaces agree on where the head points;
* ``jaw`` opens about x by ``0.3 rad * jawOpen``; the eyeballs turn with the gaze;
* arms rest hanging with slightly bent elbows; while speaking, the arms rise into the
  gesture space (level ``0.3 + 0.7 * expressiveness``), the dominant arm most, and every
  primary-stressed syllable triggers a **beat** (probability ``0.3 + 0.5 *
  expressiveness``): a 0.4 s downward stroke of the forearm and wrist, with the hand
  opening;
* fingers keep a relaxed curl; ``transl`` sways by a centimetre; ``expression`` is the
  ARKit-52 face of the ``head`` motion.
"""

from __future__ import annotations

import numpy as np
import torch

from openinfp.body.motion_space import SMPLX_JOINTS, smplx_motion_space
from openinfp.core.rotations import axis_angle_to_matrix, euler_ypr_to_matrix, matrix_to_axis_angle, matrix_to_rot6d
from openinfp.data.head_rules import HeadResult, SpeechTrack
from openinfp.data.signals import smooth, sway
from openinfp.data.style import StyleParams
from openinfp.head.motion_space import head_motion_space

_J = {name: i for i, name in enumerate(SMPLX_JOINTS)}


def _axis(T: int, axis: int, angle: np.ndarray | float) -> np.ndarray:
    """``[T, 3]`` axis-angle about one coordinate axis."""
    aa = np.zeros((T, 3), dtype=np.float32)
    aa[:, axis] = angle
    return aa


def _rotmat(aa: np.ndarray) -> torch.Tensor:
    return axis_angle_to_matrix(torch.from_numpy(np.ascontiguousarray(aa, dtype=np.float32)))


def body_rules(
    head: HeadResult,
    own: SpeechTrack,
    style: StyleParams,
    rng: np.random.Generator,
    fps: float = 25.0,
) -> np.ndarray:
    """Ground-truth ``smplx`` motion ``[T, 385]`` of a participant (rules in the module docstring)."""
    T = head.motion.shape[0]
    times = (np.arange(T) + 0.5) / fps
    deg = np.pi / 180.0
    expr = style.expressiveness
    hspace = head_motion_space()
    arkit = hspace.get(torch.from_numpy(head.motion), "arkit").numpy()
    jaw_open = arkit[:, hspace.part("arkit").component_names.index("jawOpen")]

    mats = torch.eye(3).expand(T, len(SMPLX_JOINTS), 3, 3).clone()

    def put(joint: str, m: torch.Tensor) -> None:
        mats[:, _J[joint]] = m

    speaking = smooth(own.in_turn, 0.8, fps)
    spine3 = _rotmat(_axis(T, 0, 3 * deg * speaking + 0.5 * deg * sway(times, rng, 0.05, 0.2)))
    spine2 = _rotmat(_axis(T, 1, 1.0 * deg * sway(times, rng, 0.03, 0.1)))
    put("spine3", spine3)
    put("spine2", spine2)
    # neck @ head = what the spine leaves of the target head rotation (exact, no Euler split)
    rest = (spine2 @ spine3).transpose(-1, -2) @ euler_ypr_to_matrix(torch.from_numpy(head.ypr))
    neck = axis_angle_to_matrix(0.4 * matrix_to_axis_angle(rest))
    put("neck", neck)
    put("head", neck.transpose(-1, -2) @ rest)
    put("jaw", _rotmat(_axis(T, 0, 0.3 * jaw_open)))
    eyes = euler_ypr_to_matrix(torch.from_numpy(np.stack([0.35 * head.gaze[:, 0], -0.25 * head.gaze[:, 1],
                                                          np.zeros(T, np.float32)], axis=1)))
    put("left_eye_smplhf", eyes)
    put("right_eye_smplhf", eyes)

    # arm gestures: level (arms up into gesture space) + beats on stressed syllables
    dominant = "right" if rng.random() < 0.8 else "left"
    level = speaking * (0.3 + 0.7 * expr) * rng.uniform(0.6, 1.0)
    beat = np.zeros(T, dtype=np.float32)
    p_beat = 0.3 + 0.5 * expr
    last = -1.0
    beats = []
    for st in own.stress_times:
        if st - last < 0.35 or rng.random() >= p_beat:
            continue
        u = np.clip((times - (st - 0.15)) / 0.4, 0.0, 1.0)
        beat += (np.sin(np.pi * u) ** 2).astype(np.float32) * rng.uniform(0.6, 1.0)
        beats.append(round(float(st), 3))
        last = st
    beat = np.clip(beat, 0.0, 1.0) * (0.5 + 0.5 * expr)
    head.events["beats"] = [[b - 0.15, b + 0.25] for b in beats]
    for side, sign in (("left", -1.0), ("right", 1.0)):
        own_level = level * (1.0 if side == dominant else 0.4)
        own_beat = beat * (1.0 if side == dominant else 0.3)
        # shoulder: arm down (about z), forward flexion rises with the gesture level (about x)
        down = _rotmat(_axis(T, 2, sign * 65 * deg * np.ones(T, np.float32)))
        flex = _rotmat(_axis(T, 0, -(10 * deg + 25 * deg * own_level)))
        put(f"{side}_shoulder", flex @ down)
        # elbow: forearm forward/up (about y in the rest frame), a beat is a downward stroke
        elbow_angle = 20 * deg + 60 * deg * own_level - 15 * deg * own_beat
        put(f"{side}_elbow", _rotmat(_axis(T, 1, sign * elbow_angle)))
        put(f"{side}_wrist", _rotmat(_axis(T, 2, sign * (10 * deg * own_beat - 5 * deg))))
        curl = (0.35 - 0.25 * own_beat - 0.1 * own_level).astype(np.float32)
        for finger in ("index", "middle", "pinky", "ring"):
            for k in (1, 2, 3):
                put(f"{side}_{finger}{k}", _rotmat(_axis(T, 2, sign * curl * (1.2 if k > 1 else 1.0))))
        for k in (1, 2, 3):
            put(f"{side}_thumb{k}", _rotmat(_axis(T, 1, -sign * 0.5 * curl)))

    rot6d = matrix_to_rot6d(mats)  # [T, 55, 6]
    space = smplx_motion_space()
    motion = space.neutral(T)
    joint_names = list(SMPLX_JOINTS)
    for name in space.group("rotations"):
        part = space.part(name)
        joints = list(dict.fromkeys(c.rsplit(".", 1)[0] for c in part.component_names))
        idx = [joint_names.index(j) for j in joints]
        motion = space.set(motion, name, rot6d[:, idx].reshape(T, -1))
    transl = np.stack([0.01 * sway(times, rng, 0.03, 0.1), np.zeros(T, np.float32),
                       0.01 * smooth(own.in_turn, 1.0, fps)], axis=1).astype(np.float32)
    motion = space.set(motion, "transl", torch.from_numpy(transl))
    motion = space.set(motion, "expression", torch.from_numpy(arkit))
    return motion.numpy().astype(np.float32)

"""Face exports of any motion: ``smplx`` motion seen as ``head`` motion.

The ARKit CSV exporter (:func:`openinfp.head.export.export_arkit_csv`) reads ``head``
motion. A body's face is its ``expression`` slice and its head rotation relative to
the torso is ``neck @ head`` (local SMPL-X joints), which is the ``head`` space's
rotation convention for a body facing the camera (the inverse of
:func:`openinfp.body.convert.head_to_smplx`).
"""

from __future__ import annotations

from openinfp.core.errors import InputError
from openinfp.core.io import PathLike
from openinfp.core.motion import MotionSequence


def as_head_motion(motion: MotionSequence) -> MotionSequence:
    """``motion`` in the ``head`` space: unchanged, or the face of ``smplx`` motion.

    For ``smplx``: ``arkit`` = ``expression``, ``head_rotation`` = ``neck @ head``,
    translation 0 and scale 1 (a body has no image-plane offset). Annotations are kept.
    """
    if motion.space.name == "head":
        return motion
    if motion.space.name != "smplx":
        raise InputError(f"cannot export the face of {motion.space.name!r} motion; need 'head' or 'smplx'")
    from openinfp.body.motion_space import joint_position, joint_rotmats
    from openinfp.core.rotations import matrix_to_rot6d
    from openinfp.head.motion_space import head_motion_space

    rot = joint_rotmats(motion.motion)  # [T, 55, 3, 3] local
    head_rot = rot[:, joint_position("neck")] @ rot[:, joint_position("head")]
    space = head_motion_space()
    out = space.neutral(motion.num_frames)
    out = space.set(out, "head_rotation", matrix_to_rot6d(head_rot))
    out = space.set(out, "arkit", motion.get("expression").clamp(0.0, 1.0))
    return MotionSequence(out, space, motion.fps, dict(motion.annotations))


def export_face_csv(motion: MotionSequence, path: PathLike) -> None:
    """Live Link Face-style ARKit CSV of ``motion``'s face (``head`` or ``smplx`` motion)."""
    from openinfp.head.export import export_arkit_csv

    export_arkit_csv(as_head_motion(motion), path)

"""The ``skeleton`` renderer: a 3D stick figure over the generic SMPL-X skeleton.

Needs no model files. Bones are tubes, joints small spheres, the head an ellipsoid
with a nose (so the facing direction reads) and two eyes; the jaw is a short bone
from the jaw joint to the chin, so mouth opening shows. Left limbs are blue, right
limbs red (tinted by the participant's colour). The ARKit expression is not drawn
(apart from the jaw), see ``docs/BODY.md``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Iterator, Optional

import torch

from openinfp.body.camera import BodyFraming
from openinfp.body.config import SkeletonRenderOptions
from openinfp.body.convert import JAW_OPEN_ANGLE, jaw_open_amount
from openinfp.body.motion_space import SMPLX_JOINTS, joint_position, joint_rotmats, smplx_motion_space
from openinfp.body.primitives import instance_spheres, instance_tubes
from openinfp.body.raster import Mesh
from openinfp.body.render import BodyRenderer
from openinfp.body.skeleton import (
    END_SITES,
    SMPLX_PARENTS,
    end_site_parents,
    end_site_positions,
    forward_kinematics,
    generic_end_sites,
    generic_rest_joints,
)
from openinfp.core.motion import MotionSequence
from openinfp.core.rotations import axis_angle_to_matrix

_LEFT = (0.25, 0.45, 0.85)
_RIGHT = (0.85, 0.30, 0.25)
_MID = (0.80, 0.80, 0.78)
_EYE = (0.08, 0.08, 0.10)

# Head ellipsoid, nose and eyes relative to the head joint, in the head's rest frame.
_HEAD_CENTER = (0.0, 0.095, 0.015)
_HEAD_AXES = (0.080, 0.108, 0.095)
_NOSE = (0.0, 0.065, 0.105)


def _bone_radius(child: str) -> float:
    if any(f in child for f in ("index", "middle", "ring", "pinky", "thumb")):
        return 0.0075
    if child.endswith(("_knee", "_hip")):
        return 0.05 if child.endswith("_knee") else 0.045
    if child.endswith(("_ankle",)):
        return 0.038
    if child.endswith(("_foot", "_toe")):
        return 0.027
    if child.endswith(("_elbow", "_shoulder")):
        return 0.034 if child.endswith("_elbow") else 0.04
    if child.endswith("_wrist"):
        return 0.028
    if child.startswith("spine") or child == "neck":
        return 0.055 if child != "neck" else 0.04
    if child.endswith("_collar"):
        return 0.04
    if child == "chin":
        return 0.016
    return 0.03


def _side_color(name: str) -> tuple[float, float, float]:
    if name.startswith("left_"):
        return _LEFT
    if name.startswith("right_"):
        return _RIGHT
    return _MID


@lru_cache(maxsize=1)
def _bones() -> tuple[tuple[int, int, float, str], ...]:
    """``(start, end, radius, name)`` over points ``cat([joints, end_sites])``."""
    bones = []
    skip = {"jaw", "left_eye_smplhf", "right_eye_smplhf", "head_top", "left_eye_front", "right_eye_front"}
    for j, p in enumerate(SMPLX_PARENTS):
        if p >= 0 and SMPLX_JOINTS[j] not in skip:
            bones.append((p, j, _bone_radius(SMPLX_JOINTS[j]), SMPLX_JOINTS[j]))
    for e, p in enumerate(end_site_parents()):
        name = END_SITES[e]
        if name not in skip:
            bones.append((p, len(SMPLX_JOINTS) + e, _bone_radius(name), name))
    return tuple(bones)


class SkeletonRenderer(BodyRenderer):
    """Draws ``smplx`` motion as a stick figure (no model files needed)."""

    name = "skeleton"

    def __init__(self, options: Optional[SkeletonRenderOptions] = None) -> None:
        super().__init__(options or SkeletonRenderOptions())

    def _load(self) -> None:
        self.rest_joints = generic_rest_joints()
        self.rest_end_sites = generic_end_sites()

    def rest_pelvis(self) -> torch.Tensor:
        self.ensure_loaded()
        return self.rest_joints[joint_position("pelvis")]

    def framing(self) -> BodyFraming:
        self.ensure_loaded()
        pelvis = float(self.rest_joints[joint_position("pelvis"), 1])
        top = float(self.rest_joints[joint_position("head"), 1]) + _HEAD_CENTER[1] + _HEAD_AXES[1]
        bottom = float(self.rest_end_sites[:, 1].min()) - 0.03
        return BodyFraming(head=float(self.rest_joints[joint_position("head"), 1]) - pelvis,
                           eyes=float(self.rest_joints[joint_position("left_eye_smplhf"), 1]) - pelvis,
                           top=top - pelvis, bottom=bottom - pelvis)

    def posed_points(self, motion: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(points [T, 55 + E, 3], global_rotmats [T, 55, 3, 3])`` of ``[T, 385]`` motion,
        the jaw opened by :func:`~openinfp.body.convert.jaw_open_amount`."""
        self.ensure_loaded()
        space = smplx_motion_space()
        rot = joint_rotmats(motion)
        # The jaw shows the larger of the jaw joint and ARKit jawOpen.
        jaw = jaw_open_amount(motion) * JAW_OPEN_ANGLE
        aa = torch.zeros(*jaw.shape, 3)
        aa[..., 0] = jaw
        rot[..., joint_position("jaw"), :, :] = axis_angle_to_matrix(aa)
        joints, grot = forward_kinematics(rot, self.rest_joints, space.get(motion, "transl"))
        ends = end_site_positions(joints, grot, self.rest_joints, self.rest_end_sites)
        return torch.cat([joints, ends], dim=-2), grot

    def mesh_batches(self, motion: MotionSequence, label: Optional[str] = None) -> Iterator[Mesh]:
        self.ensure_loaded()
        tint = torch.tensor(self._label_color(label))
        bones = _bones()
        starts = torch.tensor([b[0] for b in bones])
        ends = torch.tensor([b[1] for b in bones])
        radius = torch.tensor([b[2] for b in bones])
        bone_colors = torch.tensor([_side_color(b[3]) for b in bones]) * 0.6 + tint * 0.4
        # Joint spheres: every joint that starts or ends a drawn bone, sized by its bones.
        joint_radius = torch.zeros(len(SMPLX_JOINTS) + len(END_SITES))
        joint_radius.scatter_reduce_(0, torch.cat([starts, ends]), torch.cat([radius, radius]) * 1.12, "amax")
        sphere_idx = (joint_radius > 0).nonzero()[:, 0]
        names = list(SMPLX_JOINTS) + list(END_SITES)
        sphere_colors = torch.tensor([_side_color(names[i]) for i in sphere_idx.tolist()]) * 0.5 + tint * 0.5
        head_idx = joint_position("head")
        eyes_idx = torch.tensor([joint_position("left_eye_smplhf"), joint_position("right_eye_smplhf")])
        head_offsets = torch.tensor([_HEAD_CENTER, _NOSE])

        batch = self.options.batch_frames
        for start in range(0, motion.num_frames, batch):
            chunk = motion.motion[start:start + batch]
            points, grot = self.posed_points(chunk)
            n = chunk.shape[0]
            parts_v, parts_f, parts_c = [], [], []

            def add(verts: torch.Tensor, faces: torch.Tensor, colors: torch.Tensor) -> None:
                offset = sum(v.shape[1] for v in parts_v)
                parts_v.append(verts)
                parts_f.append(faces + offset)
                parts_c.append(colors)

            tv, tf = instance_tubes(points[:, starts], points[:, ends], radius)
            add(tv, tf, bone_colors.repeat_interleave(tv.shape[1] // len(bones), dim=0))
            sv, sf = instance_spheres(points[:, sphere_idx], joint_radius[sphere_idx])
            add(sv, sf, sphere_colors.repeat_interleave(sv.shape[1] // len(sphere_idx), dim=0))
            # Head ellipsoid and nose, turned with the head.
            head_rot = grot[:, head_idx]  # [n, 3, 3]
            centers = points[:, head_idx, None, :] + (head_rot[:, None] @ head_offsets[None, :, :, None])[..., 0]
            rots = head_rot[:, None].expand(n, 2, 3, 3)
            hv, hf = instance_spheres(centers, torch.tensor([1.0, 1.0]), level=2, rotation=rots,
                                      axes=torch.tensor([_HEAD_AXES, (0.018, 0.024, 0.03)]))
            head_color = (torch.tensor(_MID) * 0.5 + tint * 0.5)
            add(hv, hf, head_color.expand(hv.shape[1], 3))
            ev, ef = instance_spheres(points[:, eyes_idx] + (head_rot[:, None] @ torch.tensor(
                [0.0, 0.0, 0.018])[None, None, :, None])[..., 0], torch.tensor([0.014, 0.014]), level=1)
            add(ev, ef, torch.tensor(_EYE).expand(ev.shape[1], 3))
            faces = torch.cat(parts_f)
            colors = torch.cat(parts_c)
            yield Mesh(torch.cat(parts_v, dim=1), faces, colors)

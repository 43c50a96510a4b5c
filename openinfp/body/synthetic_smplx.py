"""A synthetic SMPL-X model file, for tests and demos without the licence-gated model.

:func:`write_synthetic_smplx` writes ``<dir>/smplx/SMPLX_NEUTRAL.npz`` with every key
``smplx.SMPLX`` reads, in the shapes of the SMPL-X 2020 release (10475 vertices,
55 joints, 300 shape + 100 expression directions, 486 pose correctives, 45 x 45 hand
PCA, 51 face landmarks). The geometry is a capsule figure built over the generic
skeleton of :mod:`openinfp.body.skeleton`: each bone is a tube rigidly skinned to its
joint, joints are spheres, the head an ellipsoid. The joint regressor picks one
marker vertex per joint, so the model's rest joints *are* the generic skeleton, and
posing it through ``smplx`` must agree with :func:`~openinfp.body.skeleton.forward_kinematics`.
It is a stand-in of the right format, not a human body model.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from openinfp.body.motion_space import SMPLX_JOINTS, joint_position
from openinfp.body.primitives import icosphere, instance_spheres, instance_tubes
from openinfp.body.skeleton import (
    END_SITES,
    SMPLX_PARENTS,
    end_site_parents,
    generic_end_sites,
    generic_rest_joints,
)
from openinfp.core.io import PathLike, atomic_output, write_npz

NUM_VERTICES = 10475
NUM_SHAPE = 300
NUM_EXPRESSION = 100
NUM_POSE_BASIS = (len(SMPLX_JOINTS) - 1) * 9  # 486
NUM_LANDMARKS = 51


def _radius(child: str) -> float:
    if any(f in child for f in ("index", "middle", "ring", "pinky", "thumb")):
        return 0.009
    if child.startswith("spine") or child in ("left_hip", "right_hip"):
        return 0.09 if child.startswith("spine") else 0.07
    if child.endswith(("knee", "shoulder", "collar")):
        return 0.06 if child.endswith("knee") else 0.05
    if child.endswith(("ankle", "elbow")):
        return 0.045 if child.endswith("ankle") else 0.04
    if child in ("neck", "head"):
        return 0.05
    return 0.035


def synthetic_smplx_arrays(seed: int = 0) -> dict[str, np.ndarray]:
    """The arrays of a synthetic ``SMPLX_NEUTRAL.npz`` (see the module docstring)."""
    rng = np.random.default_rng(seed)
    joints = generic_rest_joints()
    ends = generic_end_sites()
    points = torch.cat([joints, ends])
    point_joint = list(range(len(SMPLX_JOINTS))) + list(end_site_parents())  # skinning joint of each point
    bones = [(p, j) for j, p in enumerate(SMPLX_PARENTS) if p >= 0 and SMPLX_JOINTS[j] not in
             ("jaw", "left_eye_smplhf", "right_eye_smplhf")]
    bones += [(p, len(SMPLX_JOINTS) + e) for e, p in enumerate(end_site_parents())
              if END_SITES[e] not in ("head_top", "left_eye_front", "right_eye_front")]
    names = list(SMPLX_JOINTS) + list(END_SITES)
    radius = torch.tensor([_radius(names[j]) for _, j in bones])

    verts_parts, faces_parts, weight_joint = [], [], []
    offset = 0

    def add(v: torch.Tensor, f: torch.Tensor, joint_of_vertex: list[int]) -> None:
        nonlocal offset
        verts_parts.append(v)
        faces_parts.append(f + offset)
        weight_joint.extend(joint_of_vertex)
        offset += v.shape[0]

    # Tubes, skinned to the bone's parent joint (the joint that rotates it).
    starts = torch.tensor([b[0] for b in bones])
    stops = torch.tensor([b[1] for b in bones])
    tv, tf = instance_tubes(points[starts], points[stops], radius, sides=12)
    per_tube = tv.shape[0] // len(bones)
    add(tv, tf, [point_joint[s] for s, _ in bones for _ in range(per_tube)])
    # Joint spheres.
    sphere_radius = torch.tensor([max([_radius(names[j]) for p, j in bones if p == i or j == i] or [0.01])
                                  for i in range(len(SMPLX_JOINTS))])
    sv, sf = instance_spheres(joints, sphere_radius, level=1)
    per_sphere = sv.shape[0] // len(SMPLX_JOINTS)
    add(sv, sf, [j for j in range(len(SMPLX_JOINTS)) for _ in range(per_sphere)])
    # Head ellipsoid.
    head = joint_position("head")
    hv, hf = icosphere(3)
    hv = joints[head] + torch.tensor([0.0, 0.095, 0.015]) + hv * torch.tensor([0.085, 0.11, 0.1])
    add(hv, hf, [head] * hv.shape[0])

    drawn = offset
    if drawn + len(SMPLX_JOINTS) > NUM_VERTICES:
        raise RuntimeError(f"synthetic SMPL-X mesh has {drawn} vertices, more than {NUM_VERTICES}")
    # Padding up to the SMPL-X vertex count: one marker vertex per joint (what the
    # joint regressor reads), then unused vertices at the pelvis. No face uses them.
    markers = torch.arange(drawn, drawn + len(SMPLX_JOINTS))
    pad = NUM_VERTICES - drawn - len(SMPLX_JOINTS)
    add(joints.clone(), torch.zeros(0, 3, dtype=torch.long), list(range(len(SMPLX_JOINTS))))
    add(joints[:1].expand(pad, 3).clone(), torch.zeros(0, 3, dtype=torch.long), [0] * pad)

    v_template = torch.cat(verts_parts).numpy().astype(np.float64)
    faces = torch.cat(faces_parts).numpy().astype(np.uint32)
    weights = np.zeros((NUM_VERTICES, len(SMPLX_JOINTS)))
    weights[np.arange(NUM_VERTICES), np.asarray(weight_joint)] = 1.0
    j_regressor = np.zeros((len(SMPLX_JOINTS), NUM_VERTICES))
    j_regressor[np.arange(len(SMPLX_JOINTS)), markers.numpy()] = 1.0
    kintree = np.stack([np.asarray(SMPLX_PARENTS, dtype=np.int64) % (2 ** 32),
                        np.arange(len(SMPLX_JOINTS))]).astype(np.uint32)
    # Shape directions: beta 0 scales the body about the pelvis (taller / shorter);
    # the others and all expression directions are zero.
    shapedirs = np.zeros((NUM_VERTICES, 3, NUM_SHAPE + NUM_EXPRESSION), dtype=np.float32)
    shapedirs[:, :, 0] = 0.05 * (v_template - v_template[markers[0].item()])
    posedirs = np.zeros((NUM_VERTICES, 3, NUM_POSE_BASIS), dtype=np.float32)
    hand_pca = np.linalg.qr(rng.standard_normal((45, 45)))[0]
    lmk_faces = rng.integers(0, faces.shape[0], NUM_LANDMARKS)
    bary = rng.random((NUM_LANDMARKS, 3))
    bary /= bary.sum(1, keepdims=True)
    return {
        "v_template": v_template,
        "f": faces,
        "shapedirs": shapedirs,
        "posedirs": posedirs,
        "J_regressor": j_regressor,
        "kintree_table": kintree,
        "weights": weights,
        "hands_componentsl": hand_pca,
        "hands_componentsr": hand_pca.copy(),
        "hands_meanl": np.zeros(45),
        "hands_meanr": np.zeros(45),
        "lmk_faces_idx": lmk_faces.astype(np.int64),
        "lmk_bary_coords": bary,
        "dynamic_lmk_faces_idx": rng.integers(0, faces.shape[0], (79, 17)).astype(np.int64),
        "dynamic_lmk_bary_coords": np.full((79, 17, 3), 1.0 / 3.0),
    }


def write_synthetic_smplx(model_dir: PathLike, gender: str = "neutral", seed: int = 0) -> Path:
    """Write ``<model_dir>/smplx/SMPLX_<GENDER>.npz`` (compressed; about 1 MB) and return its path."""
    path = Path(model_dir) / "smplx" / f"SMPLX_{gender.upper()}.npz"
    arrays = synthetic_smplx_arrays(seed)
    with atomic_output(path, suffix=".npz") as tmp:
        write_npz(tmp, arrays, compress=True)
    return path

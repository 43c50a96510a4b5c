"""Anny (the ``anny`` package, CC0 data) as an SMPL-X-driven body: retargeting and posing.

Retargeting, SMPL-X joint rotations -> Anny's 104-bone skeleton:

* :data:`ANNY_CORRESPONDENCE` names, for every Anny bone, the SMPL-X joint whose world
  rotation drives it and the SMPL-X segment (joint -> child joint or end site) it lies
  along. Bones not listed follow their parent rigidly.
* Rest poses differ (SMPL-X rests in a T-pose, Anny in an A-pose with a curved spine
  and bent fingers). For each listed bone an alignment rotation ``A_b`` (the smallest
  rotation taking Anny's rest bone direction onto the SMPL-X rest segment direction of
  :mod:`openinfp.body.skeleton`) is computed once; unlisted bones inherit their
  parent's. A posed bone's world orientation is then ``G_j @ A_b @ O_b``, with ``G_j``
  the SMPL-X joint's world rotation (forward kinematics) and ``O_b`` Anny's rest
  orientation, so every bone points where its SMPL-X segment points and twists with it.
* Frames: Anny is z-up, facing -y; SMPL-X is y-up, facing +z. ``ANNY_TO_SMPLX`` maps one
  onto the other; Anny's root is put on the SMPL-X pelvis.

Face: Anny's 52 ARKit facial actions take the ``expression`` slice directly (by name),
with ``jawOpen`` raised to the jaw joint's opening (:func:`~openinfp.body.convert.jaw_open_amount`),
since Anny's default rig has no jaw bone. The eye joints turn Anny's eye bones.

The first build of Anny's model data (several hundred MB, written to ``ANNY_CACHE_DIR``,
default ``~/.cache/openinfp/anny``) takes about 1.5 minutes on a 2-core CPU; later loads
take about a second.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Optional

import torch

from openinfp.body.convert import jaw_open_amount
from openinfp.body.motion_space import SMPLX_JOINTS, joint_position, joint_rotmats, smplx_motion_space
from openinfp.body.raster import vertex_normals
from openinfp.body.skeleton import END_SITES, forward_kinematics, generic_end_sites, generic_rest_joints
from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.errors import DependencyError

DEFAULT_ANNY_CACHE = Path("~/.cache/openinfp/anny").expanduser()
"""Where Anny's built model data is cached when ``ANNY_CACHE_DIR`` is not set."""

ANNY_TO_SMPLX = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
"""Rotation from Anny's frame (x left, y back, z up) to SMPL-X's (x left, y up, z forward)."""

PHENOTYPES = ("gender", "age", "muscle", "weight", "height", "proportions")


def _side(entries: list[tuple[str, str, Optional[str]]], side: str) -> list[tuple[str, str, Optional[str]]]:
    out = []
    suffix = ".L" if side == "left" else ".R"
    for bone, joint, end in entries:
        out.append((bone + suffix, f"{side}_{joint}", None if end is None else f"{side}_{end}"))
    return out


_LIMB = [
    ("upperleg01", "hip", "knee"), ("upperleg02", "hip", "knee"),
    ("lowerleg01", "knee", "ankle"), ("lowerleg02", "knee", "ankle"),
    ("foot", "ankle", "foot"),
    *[(f"toe{t}-{k}", "foot", None) for t in range(1, 6) for k in range(1, 4) if not (t == 1 and k == 3)],
    ("clavicle", "collar", "shoulder"), ("shoulder01", "collar", None),
    ("upperarm01", "shoulder", "elbow"), ("upperarm02", "shoulder", "elbow"),
    ("lowerarm01", "elbow", "wrist"), ("lowerarm02", "elbow", "wrist"),
    ("wrist", "wrist", "middle1"),
    *[(f"metacarpal{m}", "wrist", None) for m in range(1, 5)],
    # Anny's finger1 is the thumb, finger2..5 index, middle, ring, pinky.
    *[(f"finger{a}-{k}", f"{f}{k}", f"{f}{k + 1}" if k < 3 else f"{f}_tip")
      for a, f in ((1, "thumb"), (2, "index"), (3, "middle"), (4, "ring"), (5, "pinky")) for k in (1, 2, 3)],
    ("eye", "eye_smplhf", "eye_front"),
]

ANNY_CORRESPONDENCE: tuple[tuple[str, str, Optional[str]], ...] = tuple([
    ("root", "pelvis", None),
    ("pelvis.L", "pelvis", None), ("pelvis.R", "pelvis", None),
    ("spine05", "pelvis", "spine1"),
    ("spine04", "spine1", "spine2"), ("spine03", "spine1", "spine2"),
    ("spine02", "spine2", "spine3"),
    ("spine01", "spine3", "neck"),
    ("neck01", "neck", "head"), ("neck02", "neck", "head"), ("neck03", "neck", "head"),
    ("head", "head", "head_top"),
    *_side(_LIMB, "left"), *_side(_LIMB, "right"),
])
"""``(anny bone, driving SMPL-X joint, end of the SMPL-X segment it lies along or None)``.
``None``: no alignment of its own (inherits its parent's, i.e. moves rigidly with it)."""


def ensure_anny_cache_dir(cache_dir: str = "") -> Path:
    """Set Anny's cache folder: ``cache_dir`` if given, else ``$ANNY_CACHE_DIR``, else
    :data:`DEFAULT_ANNY_CACHE` (also exported as ``ANNY_CACHE_DIR``). Returns it."""
    if cache_dir:
        path = Path(cache_dir).expanduser()
    elif os.environ.get("ANNY_CACHE_DIR"):
        path = Path(os.environ["ANNY_CACHE_DIR"]).expanduser()
    else:
        path = DEFAULT_ANNY_CACHE
        os.environ["ANNY_CACHE_DIR"] = str(path)
    try:
        import anny.paths
    except ImportError as exc:
        raise DependencyError(f"the anny body needs the 'anny' package ({exc}); pip install anny") from None
    anny.paths.set_anny_cache_path(path)
    return path


def _min_rotation(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Smallest rotation ``[..., 3, 3]`` taking unit ``u`` onto unit ``v`` (``[..., 3]``)."""
    from openinfp.core.rotations import axis_angle_to_matrix

    cross = torch.linalg.cross(u, v)
    sin = torch.linalg.norm(cross, dim=-1, keepdim=True)
    cos = (u * v).sum(-1, keepdim=True)
    angle = torch.atan2(sin, cos)
    axis = cross / sin.clamp_min(1e-12)
    return axis_angle_to_matrix(axis * angle)


@dataclass
class AnnyBody:
    """Everything needed to pose one Anny body (float32, SMPL-X frame for outputs).

    Attributes:
        rest_vertices: ``[V, 3]`` rest mesh (Anny frame), shaped by the phenotype.
        face_basis: ``[52, V, 3]`` ARKit facial-action offsets in :data:`ARKIT_NAMES` order.
        faces: ``[F, 3]`` triangles, counter-clockwise seen from outside.
        parts: ``[V]`` body part per vertex (indices into :data:`PART_NAMES`).
        rest_bone_poses: ``[B, 4, 4]`` Anny rest bone poses (Anny frame).
        driver: ``[B]`` SMPL-X joint index driving each bone.
        rest_world: ``[B, 3, 3]`` ``A_b @ C @ O_b``: each bone's aligned rest orientation (SMPL-X frame).
        bone_labels: Anny bone names.
        dense_weights: ``[V, B]`` skinning weights.
        rest_normals: ``[V, 3]`` unit normals of the rest mesh (Anny frame).
    """

    rest_vertices: torch.Tensor
    face_basis: torch.Tensor
    faces: torch.Tensor
    parts: torch.Tensor
    rest_bone_poses: torch.Tensor
    driver: torch.Tensor
    rest_world: torch.Tensor
    bone_labels: list[str]
    dense_weights: torch.Tensor
    rest_normals: torch.Tensor
    chain: tuple

    @property
    def rest_bone_heads(self) -> torch.Tensor:
        """``[B, 3]`` rest bone heads in the SMPL-X frame, relative to Anny's root."""
        heads = self.rest_bone_poses[:, :3, 3]
        return (heads - heads[0]) @ ANNY_TO_SMPLX.T

    def colors(self, skin: tuple[float, float, float]) -> torch.Tensor:
        """``[V, 3]`` albedo: ``skin`` with the eyes, mouth and tongue coloured."""
        palette = torch.tensor([PART_COLORS.get(name, skin) for name in PART_NAMES])
        palette[PART_NAMES.index("eye_cavity")] = 0.8 * torch.tensor(skin)
        return palette[self.parts]

    def bone(self, label: str) -> int:
        return self.bone_labels.index(label)

    def bone_world_rotations(self, global_rotmats: torch.Tensor) -> torch.Tensor:
        """Posed bone orientations in Anny's frame: ``[..., 55, 3, 3]`` -> ``[..., B, 3, 3]``."""
        c = ANNY_TO_SMPLX
        return c.T @ global_rotmats[..., self.driver, :, :] @ self.rest_world

    def pose(self, motion: torch.Tensor, return_bones: bool = False) -> tuple[torch.Tensor, ...]:
        """Pose Anny with ``[T, 385]`` motion.

        Returns:
            ``(vertices [T, V, 3], normals [T, V, 3])`` in the SMPL-X frame (metres),
            plus the posed bone heads ``[T, B, 3]`` with ``return_bones``. Normals are
            the rest normals carried by the skinning (the face's blendshapes do not
            re-light it), which saves recomputing them from the mesh every frame.
        """
        from anny.utils.kinematics import forward_kinematic

        space = smplx_motion_space()
        motion = motion.float()
        joints, grot = forward_kinematics(joint_rotmats(motion), generic_rest_joints(), space.get(motion, "transl"))
        T = motion.shape[0]
        c = ANNY_TO_SMPLX
        delta = torch.zeros(T, len(self.bone_labels), 4, 4)
        delta[..., :3, :3] = self.bone_world_rotations(grot)
        delta[..., 3, 3] = 1.0
        delta[:, 0, :3, 3] = joints[:, joint_position("pelvis")] @ c  # C^T p, as rows
        transforms, bone_poses = forward_kinematic(self.chain, self.rest_bone_poses.expand(T, -1, -1, -1), delta,
                                                   "world-orient")
        # Face: ARKit weights (jawOpen raised to the jaw joint's opening) on the rest mesh.
        face = space.get(motion, "expression").clamp(0.0, 1.0).clone()
        face[:, ARKIT_NAMES.index("jawOpen")] = jaw_open_amount(motion)
        rest = self.rest_vertices + (face @ self.face_basis.reshape(len(ARKIT_NAMES), -1)).reshape(T, -1, 3)
        # Linear blend skinning: one dense matrix product blends the bone transforms per vertex.
        blended = torch.matmul(self.dense_weights, transforms[:, :, :3, :].reshape(T, -1, 12)).reshape(T, -1, 3, 4)
        posed = (blended[..., 0] * rest[..., 0:1] + blended[..., 1] * rest[..., 1:2]
                 + blended[..., 2] * rest[..., 2:3] + blended[..., 3])
        n = self.rest_normals
        normals = blended[..., 0] * n[:, 0:1] + blended[..., 1] * n[:, 1:2] + blended[..., 2] * n[:, 2:3]
        normals = torch.nn.functional.normalize(normals, dim=-1, eps=1e-12)
        out = (posed @ c.T, normals @ c.T)
        if return_bones:
            return out + (bone_poses[:, :, :3, 3] @ c.T,)
        return out


PART_NAMES = ("skin", "eye_white", "iris", "pupil", "mouth", "tongue", "eye_cavity")
PART_COLORS = {
    "eye_white": (0.93, 0.92, 0.90),
    "iris": (0.30, 0.20, 0.12),
    "pupil": (0.03, 0.03, 0.03),
    "mouth": (0.35, 0.12, 0.12),
    "tongue": (0.70, 0.35, 0.38),
}
_SEGMENTS = {
    "eye_white": ("eye_back.L", "eye_back.R", "eye_front.L", "eye_front.R"),
    "mouth": ("mouth_cavity",),
    "tongue": ("tongue",),
    "eye_cavity": ("eye_cavity.L", "eye_cavity.R"),
}


def _vertex_parts(model, faces: torch.Tensor, num_vertices: int) -> torch.Tensor:
    """Body part per vertex ``[V]`` from Anny's body-part segmentation."""
    from anny.face_segmentation import get_face_segmentation_mask

    parts = torch.zeros(num_vertices, dtype=torch.long)
    for name, labels in _SEGMENTS.items():
        mask = get_face_segmentation_mask(model, list(labels)).cpu()
        parts[faces[mask].reshape(-1).unique()] = PART_NAMES.index(name)
    # Iris and pupil: the eyeball vertices within 30 / 13 degrees of its forward axis
    # (Anny looks along -y).
    verts = model.template_vertices.float()
    forward = torch.tensor([0.0, -1.0, 0.0])
    for side in ("L", "R"):
        mask = get_face_segmentation_mask(model, [f"eye_front.{side}", f"eye_back.{side}"]).cpu()
        idx = faces[mask].reshape(-1).unique()
        center = verts[idx].mean(0)
        cos = torch.nn.functional.normalize(verts[idx] - center, dim=-1) @ forward
        parts[idx[cos > 0.87]] = PART_NAMES.index("iris")
        parts[idx[cos > 0.975]] = PART_NAMES.index("pupil")
    return parts


def _rest_normals(rest_vertices: torch.Tensor, faces: torch.Tensor, parts: torch.Tensor) -> torch.Tensor:
    """Unit vertex normals of the rest mesh, welded across seams; the eyeballs
    (inconsistently wound) get radial normals from their centres."""
    normals = vertex_normals(rest_vertices, faces)
    # The mesh splits vertices along texture seams: average the normals of vertices
    # at the same place, or the seams show as lines in the shading.
    _, weld = torch.unique(torch.round(rest_vertices * 1e5), dim=0, return_inverse=True)
    summed = torch.zeros(int(weld.max()) + 1, 3).index_add_(0, weld, normals)
    normals = torch.nn.functional.normalize(summed[weld], dim=-1, eps=1e-12)
    eye = torch.isin(parts, torch.tensor([PART_NAMES.index(p) for p in ("eye_white", "iris", "pupil")]))
    for side in (rest_vertices[:, 0] > 0, rest_vertices[:, 0] < 0):
        idx = (eye & side).nonzero()[:, 0]
        if idx.numel():
            center = rest_vertices[idx].mean(0)
            normals[idx] = torch.nn.functional.normalize(rest_vertices[idx] - center, dim=-1)
    return normals


@lru_cache(maxsize=4)
def load_anny_body(phenotype: tuple[tuple[str, float], ...] = (), cache_dir: str = "") -> AnnyBody:
    """Build (or load from the cache) Anny with all 52 ARKit facial actions, shape it
    with ``phenotype`` (``(("gender", 0.5), ...)``, values in [0, 1]) and prepare the
    retargeting tables. Cached per arguments.

    Raises:
        DependencyError: the ``anny`` package is missing.
    """
    from openinfp.body.anny_cache import announce_first_build

    cache = ensure_anny_cache_dir(cache_dir)
    try:
        import anny
    except ImportError as exc:
        raise DependencyError(f"the anny body needs the 'anny' package ({exc}); pip install anny") from None

    with announce_first_build(cache):  # the first build takes a minute or two: say so, show progress
        model = anny.Anny(facial_actions="all", skinning_method="lbs")
    values = dict(phenotype)
    unknown = set(values) - set(model.phenotype_labels)
    if unknown:
        raise ValueError(f"unknown Anny phenotype(s) {sorted(unknown)}; known: {model.phenotype_labels}")
    with torch.no_grad():
        pheno = torch.tensor([[float(values.get(k, 0.5)) for k in model.phenotype_labels]], dtype=model.dtype)
        coeffs = model._get_phenotype_blendshape_coefficients(
            pheno, torch.zeros(1, len(model.local_change_labels), dtype=model.dtype),
            torch.zeros(1, len(model.facial_action_labels), dtype=model.dtype))
        rest = model.get_rest_model(coeffs)
    labels = list(model.blendshape_labels)
    face_rows = [labels.index(f"facial_action:{name}") for name in ARKIT_NAMES]
    face_basis = model.blendshapes[face_rows].float()
    rest_poses = rest["rest_bone_poses"][0].float()
    bone_labels = list(model.bone_labels)
    parents = [int(p) for p in model.bone_parents]
    faces = model.faces.long()
    parts = _vertex_parts(model, faces, model.template_vertices.shape[0])
    # The eyeballs' faces are not consistently wound: draw them from both sides.
    eye_parts = torch.tensor([PART_NAMES.index(p) for p in ("eye_white", "iris", "pupil")])
    eye_faces = faces[torch.isin(parts[faces], eye_parts).all(dim=1)]
    faces = torch.cat([faces, eye_faces[:, [0, 2, 1]]])

    # Retargeting tables: driver joint and alignment per bone (inherited when not listed).
    table = {bone: (joint, end) for bone, joint, end in ANNY_CORRESPONDENCE}
    missing = [b for b, _, _ in ANNY_CORRESPONDENCE if b not in bone_labels]
    if missing:
        raise RuntimeError(f"this anny version lacks the bones {missing}; the correspondence table needs updating")
    rest_joints = generic_rest_joints()
    rest_ends = generic_end_sites()

    def point(name: str) -> torch.Tensor:
        return rest_joints[joint_position(name)] if name in SMPLX_JOINTS else rest_ends[END_SITES.index(name)]

    c = ANNY_TO_SMPLX
    orient = c @ rest_poses[:, :3, :3]  # rest orientations in the SMPL-X frame
    driver = torch.zeros(len(bone_labels), dtype=torch.long)
    align = torch.eye(3).repeat(len(bone_labels), 1, 1)
    for b, label in enumerate(bone_labels):  # parents come before children
        if label in table:
            joint, end = table[label]
            driver[b] = joint_position(joint)
            if end is not None:
                target = torch.nn.functional.normalize(point(end) - point(joint), dim=0)
                align[b] = _min_rotation(orient[b, :, 1], target)  # Anny bones point along local +y
            elif parents[b] >= 0:
                align[b] = align[parents[b]]
        elif parents[b] >= 0:
            driver[b] = driver[parents[b]]
            align[b] = align[parents[b]]
    skin_weights = model.vertex_bone_weights.float()
    skin_weights = skin_weights / skin_weights.sum(1, keepdim=True).clamp_min(1e-8)
    dense = torch.zeros(skin_weights.shape[0], len(bone_labels))
    dense.scatter_add_(1, model.vertex_bone_indices.long(), skin_weights)
    rest_vertices = rest["rest_vertices"][0].float()
    body = AnnyBody(
        rest_vertices=rest_vertices,
        face_basis=face_basis,
        faces=faces,
        parts=parts,
        rest_bone_poses=rest_poses,
        driver=driver,
        rest_world=align @ orient,
        bone_labels=bone_labels,
        dense_weights=dense,
        rest_normals=_rest_normals(rest_vertices, faces, parts),
        chain=(model.kinematic_chain_levels, model.kinematic_chain_indices),
    )
    return body

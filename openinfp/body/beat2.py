"""``smplx`` motion <-> the BEAT2/EMAGE ``.npz`` layout, so results open in SMPL-X tools.

Keys written by :func:`save_beat2` (``numpy.savez``, readable with ``allow_pickle=False``):

* ``poses``: float32 ``[T, 165]``, the 55 SMPL-X joints as axis-angle, SMPL-X order
  (global orient, 21 body, jaw, left eye, right eye, 15 + 15 hand joints; hands
  relative to the flat hand, i.e. ``flat_hand_mean=True``);
* ``trans``: float32 ``[T, 3]`` root translation (metres);
* ``expressions``: float32 ``[T, N]`` SMPL-X expression coefficients. Our face lives
  in ARKit-52 weights, which cannot be turned into the SMPL-X expression basis without
  the licence-gated model, so this holds the coefficients the motion was read with
  (annotation ``smplx_expressions``) or zeros (``N = 100``, a neutral face; the mouth
  still opens through the ``jaw`` joint in ``poses``);
* ``arkit``: float32 ``[T, 52]`` the ARKit weights, with ``arkit_names`` ``[52]``
  (openinfp's extension; other tools ignore extra keys);
* ``betas``: float32 ``[B]`` body shape (zeros(300) unless given);
* ``mocap_frame_rate``: float scalar fps; ``gender`` ("neutral"); ``model`` ("smplx").

:func:`load_beat2` reads such files and real BEAT2 / AMASS SMPL-X files;
:meth:`openinfp.core.motion.MotionSequence.load` recognises them by their keys
(:func:`is_beat2_layout`), so every command that reads motion accepts them directly.
"""

from __future__ import annotations

import zipfile
from typing import Optional

import numpy as np
import torch

from openinfp.body.convert import axis_angle_to_smplx, smplx_to_axis_angle
from openinfp.body.motion_space import SMPLX_JOINTS, smplx_motion_space
from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.errors import InputError
from openinfp.core.io import PathLike, atomic_output, require_file, write_npz
from openinfp.core.motion import MotionSequence, check_npz_archive

SMPLX_EXPRESSION_ANNOTATION = "smplx_expressions"
"""Annotation key under which :func:`load_beat2` keeps a file's SMPL-X ``expressions``."""

DEFAULT_NUM_EXPRESSIONS = 100
DEFAULT_NUM_BETAS = 300
_FPS_KEYS = ("mocap_frame_rate", "mocap_framerate")

BEAT2_LAYOUT = "BEAT2/EMAGE SMPL-X (poses T x 165, trans, expressions, mocap_frame_rate)"
"""How the layout is named in messages."""


def is_beat2_layout(keys) -> bool:
    """True when an ``.npz`` with these array names is a BEAT2/EMAGE/AMASS SMPL-X file, not openinfp motion."""
    keys = set(keys)
    return "poses" in keys and "motion" not in keys


def beat2_layout_note(path: PathLike) -> Optional[str]:
    """A one-line note when ``path`` is a BEAT2-layout ``.npz`` (read from the zip directory only), else ``None``.

    Unreadable files give ``None``: the loader reports what is wrong with them.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            keys = {name[:-4] for name in zf.namelist() if name.endswith(".npy")}
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
    if not is_beat2_layout(keys):
        return None
    return f"{path}: read as {BEAT2_LAYOUT}, converted to smplx motion"


def save_beat2(motion: MotionSequence, path: PathLike, betas: Optional[np.ndarray] = None) -> None:
    """Write ``smplx`` motion as a BEAT2/EMAGE ``.npz`` (atomically; layout in the module doc).

    Args:
        motion: ``[T, 385]`` motion in the ``smplx`` space.
        path: output ``.npz``.
        betas: optional ``[B]`` SMPL-X shape coefficients (default zeros(300)).

    Raises:
        InputError: the motion is not ``smplx`` motion or ``betas`` is not a finite vector.
    """
    if motion.space.name != "smplx":
        raise InputError(f"save_beat2 needs 'smplx' motion, got {motion.space.name!r} "
                         "(lift head motion first with openinfp.body.convert.head_to_smplx)")
    space = smplx_motion_space()
    T = motion.num_frames
    poses = smplx_to_axis_angle(motion.motion).reshape(T, -1).numpy().astype(np.float32)
    if betas is None:
        betas_arr = np.zeros(DEFAULT_NUM_BETAS, dtype=np.float32)
    else:
        betas_arr = np.asarray(betas, dtype=np.float32).reshape(-1)
        if not np.all(np.isfinite(betas_arr)):
            raise InputError("save_beat2: betas contain NaN or infinite values")
    expressions = motion.annotations.get(SMPLX_EXPRESSION_ANNOTATION)
    if expressions is None or np.asarray(expressions).ndim != 2:
        expressions = np.zeros((T, DEFAULT_NUM_EXPRESSIONS), dtype=np.float32)
    arrays = {
        "poses": poses,
        "trans": space.get(motion.motion, "transl").numpy().astype(np.float32),
        "expressions": np.asarray(expressions, dtype=np.float32),
        "arkit": space.get(motion.motion, "expression").numpy().astype(np.float32),
        "arkit_names": np.asarray(ARKIT_NAMES),
        "betas": betas_arr,
        "mocap_frame_rate": np.asarray(float(motion.fps), dtype=np.float32),
        "gender": np.asarray("neutral"),
        "model": np.asarray("smplx"),
    }
    with atomic_output(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            write_npz(fh, arrays)


def _read(path: PathLike) -> tuple[dict[str, np.ndarray], str]:
    p = require_file(path, "BEAT2 motion file")
    if not zipfile.is_zipfile(p):
        raise InputError(f"BEAT2 motion file {p} is not a readable .npz archive (not a zip file)")
    # sizes, dtypes and declared lengths from the headers before any array is read
    check_npz_archive(p, what="BEAT2 motion file")
    try:
        with np.load(p, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}, str(p)
    except ValueError as exc:  # pickles were refused from the headers: a damaged archive
        raise InputError(f"BEAT2 motion file {p} could not be read: {exc}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(f"BEAT2 motion file {p} is not a readable .npz archive ({exc})") from None


def _float_array(arrays: dict[str, np.ndarray], key: str, where: str) -> np.ndarray:
    value = arrays[key]
    if value.dtype.kind not in "fiu":
        raise InputError(f"{where}: '{key}' must be numeric, got dtype {value.dtype}")
    value = value.astype(np.float32)
    if not np.all(np.isfinite(value)):
        raise InputError(f"{where}: '{key}' contains NaN or infinite values")
    return value


def load_beat2(path: PathLike) -> MotionSequence:
    """Read a BEAT2/EMAGE (or AMASS SMPL-X) ``.npz`` into ``smplx`` motion.

    The face comes from ``arkit`` when present (files written by :func:`save_beat2`),
    else from ``expressions`` if it has exactly 52 columns (ARKit weights), else it is
    neutral and the file's SMPL-X ``expressions`` are kept in the annotation
    :data:`SMPLX_EXPRESSION_ANNOTATION` (so saving again writes them back unchanged).

    Raises:
        InputError: missing file, not an npz, pickled content, missing ``poses`` or
            frame rate, wrong shapes, non-finite values.
    """
    arrays, where = _read(path)
    return motion_from_beat2_arrays(arrays, f"BEAT2 motion file {where}")


def motion_from_beat2_arrays(arrays: dict[str, np.ndarray], where: str) -> MotionSequence:
    """``smplx`` motion ``[T, 385]`` from the arrays of a BEAT2-layout ``.npz`` (see :func:`load_beat2`).

    Args:
        arrays: the file's arrays by key (``poses`` ``[T, 165]`` or ``[T, 55, 3]``, ...).
        where: how to name the file in error messages.
    """
    if "poses" not in arrays:
        raise InputError(f"{where} has no 'poses' array (keys: {', '.join(sorted(arrays)) or 'none'}); "
                         "expected the BEAT2/EMAGE SMPL-X layout (poses T x 165)")
    poses = _float_array(arrays, "poses", where)
    num_joints = len(SMPLX_JOINTS)
    if poses.ndim == 3 and poses.shape[1:] == (num_joints, 3):
        poses = poses.reshape(poses.shape[0], -1)
    if poses.ndim != 2 or poses.shape[1] != 3 * num_joints:
        raise InputError(f"{where}: 'poses' must be T x {3 * num_joints} SMPL-X axis-angle, got shape "
                         f"{poses.shape} (SMPL / SMPL-H poses with 72 or 156 columns are not SMPL-X)")
    T = poses.shape[0]
    if T == 0:
        raise InputError(f"{where}: 'poses' has no frames")
    fps_key = next((k for k in _FPS_KEYS if k in arrays), None)
    if fps_key is None:
        raise InputError(f"{where} has no frame rate ('mocap_frame_rate'); add it or re-export the file")
    fps = float(np.asarray(arrays[fps_key]).reshape(-1)[0])
    if not (np.isfinite(fps) and fps > 0):
        raise InputError(f"{where}: '{fps_key}' must be a positive number, got {fps}")

    trans = None
    if "trans" in arrays:
        trans = _float_array(arrays, "trans", where)
        if trans.shape != (T, 3):
            raise InputError(f"{where}: 'trans' must be {T} x 3 like 'poses', got {trans.shape}")

    annotations: dict[str, np.ndarray] = {}
    arkit = None
    if "arkit" in arrays:
        arkit = _float_array(arrays, "arkit", where)
        if arkit.shape != (T, len(ARKIT_NAMES)):
            raise InputError(f"{where}: 'arkit' must be {T} x {len(ARKIT_NAMES)}, got {arkit.shape}")
        if "arkit_names" in arrays and [str(n) for n in arrays["arkit_names"].tolist()] != list(ARKIT_NAMES):
            raise InputError(f"{where}: 'arkit_names' are not the ARKit-52 names in Apple's order")
    if "expressions" in arrays:
        expressions = _float_array(arrays, "expressions", where)
        if expressions.ndim != 2 or expressions.shape[0] != T:
            raise InputError(f"{where}: 'expressions' must be {T} x N like 'poses', got {expressions.shape}")
        if arkit is None and expressions.shape[1] == len(ARKIT_NAMES):
            arkit = expressions
        else:
            annotations[SMPLX_EXPRESSION_ANNOTATION] = expressions

    motion = axis_angle_to_smplx(
        torch.from_numpy(poses).reshape(T, num_joints, 3),
        None if trans is None else torch.from_numpy(trans),
        None if arkit is None else torch.from_numpy(np.clip(arkit, 0.0, 1.0)),
    )
    return MotionSequence(motion, smplx_motion_space(), fps, annotations)


def load_beat2_betas(path: PathLike) -> Optional[np.ndarray]:
    """The ``betas`` vector of a BEAT2 file (``[B]`` float32), or ``None`` if it has none."""
    arrays, where = _read(path)
    if "betas" not in arrays:
        return None
    return _float_array(arrays, "betas", f"BEAT2 motion file {where}").reshape(-1)

"""Checkpoints: ``config.json`` + ``model.safetensors`` per component, never pickles.

A motion-generator checkpoint is a folder::

    config.json            what the folder is: format, motion space, fps, sampler, components
    guider/config.json     GuiderConfig
    guider/model.safetensors
    dit/config.json        DiTConfig + motion_dim + cond_dim
    dit/model.safetensors
    normalizer/config.json motion space name and per-dimension names
    normalizer/model.safetensors   mean [D], std [D]

Loading refuses a folder with anything else in it (``*.bin``, ``*.pt``, stray files),
so nothing pickled is ever read. Training state for resuming (optimizer moments, step,
EMA) is written the same way, as safetensors plus JSON.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Mapping, Optional

import torch

from openinfp.core.errors import CheckpointError
from openinfp.core.io import PathLike, check_output_path, temporary_sibling_dir

CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"
FORMAT = "openinfp-motion-generator"
FORMAT_VERSION = 1
_PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".npy")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"checkpoint file {path} is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"checkpoint file {path} must hold a JSON object")
    return data


def _check_only(folder: Path, allowed: set[str], what: str) -> None:
    """Refuse anything in ``folder`` other than ``allowed`` names."""
    extra = sorted(p.name for p in folder.iterdir() if p.name not in allowed)
    if extra:
        pickled = [e for e in extra if e.endswith(_PICKLE_SUFFIXES)]
        why = "pickled weights are refused; convert them to model.safetensors" if pickled else \
            f"a {what} folder holds only {', '.join(sorted(allowed))}"
        raise CheckpointError(f"{what} {folder} contains unexpected {', '.join(extra)}: {why}")


def save_component(folder: PathLike, config: Mapping[str, Any], state: Mapping[str, torch.Tensor],
                   dtype: Optional[torch.dtype] = None) -> None:
    """Write ``config.json`` and ``model.safetensors`` into ``folder``.

    ``dtype`` (e.g. ``torch.float16``) stores floating tensors at that precision to
    keep shipped weights small; they are loaded back as float32.
    """
    from safetensors.torch import save_file

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for k, v in state.items():
        v = v.detach().cpu()
        if dtype is not None and torch.is_floating_point(v):
            v = v.to(dtype)
        tensors[k] = v.contiguous()
    save_file(tensors, str(folder / WEIGHTS_NAME), metadata={"format": "pt"})
    (folder / CONFIG_NAME).write_text(json.dumps(dict(config), indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_component(folder: PathLike, what: str = "checkpoint component"
                   ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read ``config.json`` and ``model.safetensors`` (as float32) from ``folder``.

    Raises:
        CheckpointError: folder missing, a file missing, anything else present, unreadable.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"{what} {folder} is not a folder")
    _check_only(folder, {CONFIG_NAME, WEIGHTS_NAME}, what)
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (folder / name).is_file():
            raise CheckpointError(f"{what} {folder} lacks {name}")
    config = _read_json(folder / CONFIG_NAME)
    try:
        state = load_file(str(folder / WEIGHTS_NAME))
    except (SafetensorError, OSError, RuntimeError) as exc:
        raise CheckpointError(f"{what} {folder / WEIGHTS_NAME} is not a valid safetensors file ({exc})") from None
    return config, {k: (v.float() if torch.is_floating_point(v) else v) for k, v in state.items()}


def load_state_into(module: torch.nn.Module, state: Mapping[str, torch.Tensor], where: PathLike) -> None:
    """``module.load_state_dict(state)`` with a one-line error on mismatch."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise CheckpointError(f"weights in {where} do not fit the model described by its config.json "
                              f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
    for k, v in state.items():
        if own[k].shape != v.shape:
            raise CheckpointError(f"weights in {where}: {k} has shape {tuple(v.shape)}, "
                                  f"the config.json describes {tuple(own[k].shape)}")
    module.load_state_dict(state)


def read_index(folder: PathLike) -> dict[str, Any]:
    """The top-level ``config.json`` of a checkpoint folder, checked.

    Raises:
        CheckpointError: not a folder, not an openinfp motion-generator checkpoint,
            unexpected files, or a newer format.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint {folder} is not a folder (expected config.json + component folders)")
    index_path = folder / CONFIG_NAME
    if not index_path.is_file():
        raise CheckpointError(f"checkpoint {folder} lacks {CONFIG_NAME}")
    index = _read_json(index_path)
    if index.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {folder}: {CONFIG_NAME} is not an {FORMAT} index "
                              f"(format={index.get('format')!r})")
    if int(index.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {folder} has format version {index['format_version']}; "
                              f"this openinfp reads up to {FORMAT_VERSION}: upgrade openinfp")
    components = index.get("components")
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        raise CheckpointError(f"checkpoint {folder}: {CONFIG_NAME} must list its components")
    _check_only(folder, {CONFIG_NAME, *components}, "checkpoint")
    return index


def write_folder_atomically(target: PathLike, write: Any) -> Path:
    """Call ``write(tmp_folder)`` then move the folder to ``target`` (replacing it).

    A crash while writing never leaves a half-written checkpoint at ``target``.
    """
    target = Path(target)
    if not target.is_dir():  # a new folder: check where it goes (an existing one is replaced)
        check_output_path(target, "checkpoint folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_sibling_dir(target)
    try:
        write(tmp)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------------------
# Training state (resume), also without pickles
# --------------------------------------------------------------------------------------


def save_optimizer(folder: PathLike, optimizer: torch.optim.Optimizer, extra: Mapping[str, Any]) -> None:
    """Flatten an optimizer state dict into ``config.json`` + ``model.safetensors``."""
    sd = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, pstate in sd["state"].items():
        for key, value in pstate.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{key}"] = value
            else:
                scalars.setdefault(str(pid), {})[key] = value
    config = {"param_groups": sd["param_groups"], "scalars": scalars, **dict(extra)}
    save_component(folder, config, tensors)


def load_optimizer(folder: PathLike, optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Restore what :func:`save_optimizer` wrote; returns the extra fields."""
    config, tensors = load_component(folder, "training state")
    # keep the optimizer's own dtypes (load_component gives float32, which is what Adam keeps)
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for pid, values in config.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(values)
    try:
        optimizer.load_state_dict({"state": state, "param_groups": config["param_groups"]})
    except (KeyError, ValueError) as exc:
        raise CheckpointError(f"training state {folder} does not fit this model/optimizer ({exc})") from None
    return {k: v for k, v in config.items() if k not in ("param_groups", "scalars")}

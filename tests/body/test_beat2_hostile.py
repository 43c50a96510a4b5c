"""BEAT2 files from users get the same header checks as openinfp motion files."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.body.beat2 import load_beat2
from openinfp.core.errors import InputError


def test_a_pickled_beat2_file_is_refused_before_loading(tmp_path):
    path = tmp_path / "take.npz"
    np.savez(path, poses=np.array([{"evil": 1}], dtype=object), mocap_frame_rate=np.float32(30))
    with pytest.raises(InputError, match="BEAT2 motion file"):
        load_beat2(path)


def test_a_beat2_size_bomb_is_refused_from_its_header(tmp_path):
    """A few bytes that declare 66 GB of poses: refused before numpy allocates anything."""
    import io
    import zipfile

    header = io.BytesIO()
    np.lib.format.write_array_header_2_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (100_000_000, 165)})
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("poses.npy", header.getvalue() + b"\0" * 64)
        archive.writestr("mocap_frame_rate.npy", _npy(np.float32(30)))
    with pytest.raises(InputError, match="BEAT2 motion file"):
        load_beat2(path)


def _npy(value) -> bytes:
    import io

    out = io.BytesIO()
    np.save(out, value)
    return out.getvalue()

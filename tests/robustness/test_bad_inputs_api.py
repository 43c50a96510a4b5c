"""Bad input through the Python API: the video writer and the loaders other stages call.

Each case raises the project's own error type with a specific one-line message and
leaves nothing in the output folder.
"""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.errors import InputError, OpenInfpError

FRAME = np.zeros((32, 32, 3), np.uint8)


def _write(path, frames, **kwargs):
    from openinfp.core.video import VideoWriter

    with VideoWriter(path, **{"fps": 25, **kwargs}) as writer:
        for frame in frames:
            writer.write(frame)


WRITER_CASES = [
    ("float_frames", [FRAME.astype(np.float32)], {}, "must be [H, W, 3] uint8 RGB"),
    ("gray_frames", [FRAME[..., 0]], {}, "must be [H, W, 3] uint8 RGB"),
    ("four_channel_frames", [np.zeros((32, 32, 4), np.uint8)], {}, "must be [H, W, 3] uint8 RGB"),
    ("odd_frame_size", [np.zeros((33, 32, 3), np.uint8)], {}, "must be even"),
    ("size_changes_mid_stream", [FRAME, FRAME, np.zeros((64, 64, 3), np.uint8)], {}, "same size"),
    ("no_frames", [], {}, "no frames were rendered"),
    ("nan_audio", [FRAME], {"audio": np.full(1600, np.nan, np.float32)}, "NaN or infinite"),
    ("three_channel_audio", [FRAME], {"audio": np.zeros((1600, 3), np.float32)}, "[N, 1|2]"),
    ("zero_fps", [FRAME], {"fps": 0}, "frame rate must be a positive number"),
    ("nan_fps", [FRAME], {"fps": float("nan")}, "frame rate must be a positive number"),
    ("label_on_tiny_frames", [np.zeros((16, 16, 3), np.uint8)], {"label": True}, "too small for the"),
]


@pytest.mark.parametrize("frames, kwargs, message", [c[1:] for c in WRITER_CASES], ids=[c[0] for c in WRITER_CASES])
def test_video_writer_refuses_bad_input_and_writes_nothing(tmp_path, frames, kwargs, message):
    with pytest.raises(InputError) as exc:
        _write(tmp_path / "out.mp4", frames, **kwargs)
    assert message in str(exc.value) and "\n" not in str(exc.value)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["clip.avi", "clip"])
def test_video_writer_refuses_wrong_extension(tmp_path, name):
    with pytest.raises(InputError, match="must end in .mp4"):
        _write(tmp_path / name, [FRAME])
    assert list(tmp_path.iterdir()) == []


def test_interrupted_render_leaves_nothing(tmp_path):
    def frames():
        yield FRAME
        yield FRAME
        raise KeyboardInterrupt  # Ctrl-C while rendering

    with pytest.raises(KeyboardInterrupt):
        _write(tmp_path / "out.mp4", frames())
    assert list(tmp_path.iterdir()) == []


PORTRAIT_ARRAYS = [
    ("two_channels", np.zeros((64, 64, 2), np.uint8), "got shape (64, 64, 2)"),
    ("nan_pixels", np.full((64, 64, 3), np.nan, np.float32), "NaN or infinite"),
    ("too_small", np.zeros((8, 8, 3), np.uint8), "need at least 16 px"),
    ("four_dims", np.zeros((2, 64, 64, 3), np.uint8), "got shape (2, 64, 64, 3)"),
]


@pytest.mark.parametrize("array, message", [c[1:] for c in PORTRAIT_ARRAYS], ids=[c[0] for c in PORTRAIT_ARRAYS])
def test_portrait_arrays_are_checked(array, message):
    from openinfp.head.image_io import load_portrait

    with pytest.raises(InputError) as exc:
        load_portrait(array)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_portrait_bomb_is_refused_without_decoding(bad):
    import resource

    from openinfp.head.image_io import load_portrait

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(InputError, match="too large to decode safely"):
        load_portrait(bad / "bomb.png")
    # 1e10 RGB pixels would be 30 GB; peak memory must not have moved by even 100 MB
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000


@pytest.mark.parametrize("name, message", [
    ("nan.wav", "NaN or infinite samples"), ("nodata.wav", "holds no samples"), ("empty.wav", "is empty"),
    ("text.wav", "cannot decode audio file"), ("truncated.wav", "cannot decode audio file"),
])
def test_audio_reader_errors(bad, name, message):
    from openinfp.audio.io import read_audio

    with pytest.raises(OpenInfpError) as exc:
        read_audio(bad / name)
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_audio_length_limit_is_configurable(bad):
    from openinfp.audio.io import read_audio

    wave, rate = read_audio(bad / "stereo.wav", max_duration_s=5)
    assert wave.shape == (32000, 2) and rate == 16000
    with pytest.raises(InputError, match="over the limit of 1 s"):
        read_audio(bad / "stereo.wav", max_duration_s=1)

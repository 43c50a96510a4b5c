"""Statistics of real talking videos, on signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.eval.real_stats import ClipSignals, clip_statistics, motion_statistics, pooled_statistics
from openinfp.eval.real_tracking import resample_features

FPS = 25.0


def _signals(T: int = 1500, name: str = "x") -> ClipSignals:
    t = np.arange(T)
    speaking = (t // 250) % 2 == 0  # 10 s on, 10 s off
    jaw = np.where(speaking, 0.3 + 0.1 * ((t % 4) >= 2), 0.0)  # steps of 0.1 while speaking
    yaw = np.radians(10.0) * t / FPS  # 10 deg/s turn
    pitch = np.zeros(T)
    for s in (x for x in (100, 400, 700, 1000) if x + 12 <= T):  # four nods
        pitch[s:s + 12] += 0.12 * np.sin(np.linspace(0, np.pi, 12))
    blink = np.full(T, 0.05)
    for s in range(60, T - 4, 150):  # ten 4-frame blinks in 60 s: 10 per minute
        blink[s:s + 4] = 0.8
    smile = np.where(t < T // 4, 0.6, 0.0)
    return ClipSignals(name, FPS, yaw, pitch, np.zeros(T), jaw, blink, smile, speaking, np.ones(T, bool))


def test_clip_statistics_known_answers():
    s = clip_statistics(_signals())
    assert s["jaw_open_speaking"]["mean"] == pytest.approx(0.35, abs=0.01)
    assert s["jaw_rise"]["max"] == pytest.approx(0.3, abs=1e-9)  # silence -> 0.3 at turn starts
    assert s["head_speed_deg_s"]["p50"] == pytest.approx(10.0, abs=0.5)
    assert s["nods"] == 4 and s["nods_per_min"] == pytest.approx(4.0)
    assert s["blinks_per_min"] == pytest.approx(10.0)
    assert s["smile_share"] == pytest.approx(0.25)


def test_pooling_adds_no_steps_across_clip_borders():
    a, b = _signals(500, "a"), _signals(500, "b")
    b.yaw = b.yaw + 1.0  # a 57-degree jump between the clips must not count as a step
    pooled = pooled_statistics([a, b])
    assert pooled["head_step_deg"]["max"] < 3.0  # the steepest nod step is 2 degrees
    assert pooled["head_speed_deg_s"]["max"] < 60.0
    assert pooled["per_clip_min_median_max"]["nods_per_min"][0] >= 0


def test_motion_statistics_read_a_generated_sequence():
    from openinfp.head.motion_space import head_motion_space

    space = head_motion_space()
    motion = space.neutral(100).clone()
    motion[50:, space.component_index("arkit", "jawOpen")] = 0.4
    speaking = np.zeros(100, bool)
    speaking[50:] = True
    from openinfp.core.motion import MotionSequence

    s = motion_statistics(MotionSequence(motion, space, FPS), speaking)
    assert s["jaw_open_speaking"]["mean"] == pytest.approx(0.4) and s["jaw_rise"]["max"] == pytest.approx(0.4)
    assert s["head_speed_deg_s"]["max"] == pytest.approx(0.0, abs=1e-6)


def test_resample_features_is_linear_in_time_and_fills_gaps():
    src = np.column_stack([np.arange(30) / 30.0, np.full(30, 2.0)])  # 1 s at 30 fps: value = time
    src[10, 1] = np.nan
    out = resample_features(src, 30.0, 25.0)
    assert out.shape == (25, 2)
    assert np.allclose(out[:, 0], np.arange(25) / 25.0)
    assert np.allclose(out[:, 1], 2.0)

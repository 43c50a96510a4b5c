"""The real-data evaluation's measures on signals with known answers, and a smoke run
on the real two-track conversations with a stand-in generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.core.errors import InputError
from openinfp.core.metrics.behaviour import detect_blinks
from openinfp.eval import real_eval as re_

FPS = 25.0


def _nodding_pitch(T: int, starts: list[int], amplitude: float = 0.12, length: int = 12) -> np.ndarray:
    pitch = np.zeros(T)
    for s in starts:
        pitch[s:s + length] += amplitude * np.sin(np.linspace(0, np.pi, length))
    return pitch


def test_nods_are_counted_only_where_they_start_in_the_chosen_frames():
    T = 750  # 30 s
    pitch = _nodding_pitch(T, [50, 150, 250, 500, 600])
    listening = np.zeros(T, bool)
    listening[:375] = True  # first 15 s: three nods start there
    count, rate = re_.nods_per_minute(pitch, FPS, listening)
    assert count == 3 and rate == pytest.approx(3 / 0.25)
    flat_count, _ = re_.nods_per_minute(np.zeros(T), FPS, listening)
    assert flat_count == 0


def test_speed_ratio_and_conversation_metrics_on_known_motion():
    T = 500
    agent = np.zeros(T, bool)
    agent[:250] = True
    partner = ~agent
    yaw = np.zeros(T)
    # 20 deg/s while speaking, 5 deg/s while listening (constant-speed turns)
    yaw[:250] = np.radians(20.0) * np.arange(250) / FPS
    yaw[250:] = yaw[249] + np.radians(5.0) * np.arange(1, 251) / FPS
    angles = np.column_stack([yaw, np.zeros(T), np.zeros(T)])
    jaw = agent * 0.5 + 0.01
    m = re_.conversation_metrics(angles, jaw, FPS, agent, partner)
    assert m["listen_speak_speed_ratio"] == pytest.approx(0.25, rel=0.02)
    assert m["speak_head_speed_deg_s"] == pytest.approx(20.0, rel=0.02)
    assert m["jaw_auc"] == pytest.approx(1.0)
    assert m["listening_s"] == pytest.approx(10.0) and m["nods_listening"] == 0
    assert m["head_step_max_deg"] == pytest.approx(20.0 / FPS, rel=0.01)


def test_pooled_conversations_weigh_agents_by_listening_time():
    a = {"listen_head_speed_deg_s": 4.0, "listening_s": 30.0, "speak_head_speed_deg_s": 10.0, "speaking_s": 10.0,
         "nods_listening": 3, "jaw_auc": 0.9, "head_step_max_deg": 2.0}
    b = {"listen_head_speed_deg_s": 10.0, "listening_s": 0.0, "speak_head_speed_deg_s": 10.0, "speaking_s": 30.0,
         "nods_listening": 0, "jaw_auc": 1.0, "head_step_max_deg": 5.0}
    s = re_.summarize({"model": {"a": a, "b": b}}, {})["model"]
    assert s["conv_nods_per_listen_min"] == pytest.approx(6.0)  # 3 nods in 30 s
    assert s["conv_listen_speak_speed_ratio"] == pytest.approx(0.4)
    assert s["conv_head_step_max_deg"] == 5.0 and s["conv_jaw_auc"] == pytest.approx(0.95)


def test_lip_sync_finds_the_lag_within_two_frames_and_no_further():
    rng = np.random.default_rng(0)
    gap = np.convolve(rng.uniform(0, 1, 400), np.ones(3) / 3, mode="same")
    speaking = np.ones(400, bool)
    speaking[:20] = False
    follows = np.concatenate([np.zeros(2), gap[:-2]])  # the jaw trails the lips by 2 frames
    m = re_.video_metrics(follows, None, gap, speaking)
    assert m["lip_r"] == pytest.approx(1.0, abs=1e-6) and m["lip_lag"] == 2
    late = np.concatenate([np.zeros(5), gap[:-5]])  # 5 frames late: outside the search
    assert re_.video_metrics(late, None, gap, speaking)["lip_r"] < 0.5


def test_rise_and_step_measures():
    assert re_.max_rise(np.array([0.0, 0.1, 0.5, 0.2, 0.3])) == pytest.approx(0.4)
    assert re_.max_rise(np.array([0.5, 0.4, 0.3])) == 0.0
    angles = np.zeros((4, 3))
    angles[2, 1] = np.radians(9.0)
    assert re_.max_step_deg(angles) == pytest.approx(9.0)


def test_blinks_are_short_runs_above_the_open_eye_level():
    b = np.full(250, 0.05)
    for s in (20, 80, 150):
        b[s:s + 4] = 0.8  # three 160 ms blinks
    b[200:240] = 0.9  # 1.6 s closed: not a blink
    assert len(detect_blinks(b, FPS)) == 3


def test_rttm_activity(tmp_path):
    rttm = tmp_path / "x.rttm"
    rttm.write_text("SPEAKER x 1 0.20 0.40 <NA> <NA> spk1 <NA> <NA>\n"
                    "SPEAKER x 1 1.00 0.20 <NA> <NA> spk2 <NA> <NA>\n", encoding="utf-8")
    act = re_.rttm_activity(rttm, "spk1", FPS, 40)
    assert act.sum() == 10 and act[5] and not act[15]
    assert re_.rttm_activity(rttm, "spk2", FPS, 40).sum() == 5


def test_a_folder_without_real_recordings_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="holds no two-track conversations"):
        re_.run_real_eval(tmp_path, lambda audio: None)
    with pytest.raises(InputError, match="not a folder"):
        re_.run_real_eval(tmp_path / "missing", lambda audio: None)


def _activity_puppet(audio):
    """A stand-in generator: still head, mouth open exactly while the agent's track is active."""
    from openinfp.core.motion import MotionSequence
    from openinfp.head.motion_space import head_motion_space

    space = head_motion_space()
    n = audio.num_frames(FPS)
    motion = space.neutral(n).clone()
    act = torch.as_tensor(np.asarray(audio.agent_activity, np.float32)[:n])
    motion[:, space.component_index("arkit", "jawOpen")] = act
    return MotionSequence(motion, space, FPS)


def test_real_conversations_smoke(realdata):
    rows = re_.evaluate_conversations(realdata / "conversations", _activity_puppet)
    model, real = rows["model"], rows["real"]
    assert len(model) == 4  # two DualTalk conversations, each speaker once the agent
    assert all(m["listening_s"] > 1 and m["speaking_s"] > 1 for m in model.values())
    assert all(m["jaw_auc"] > 0.8 for m in model.values())  # the loader's activity agrees with the RTTM
    assert all(m["listen_head_speed_deg_s"] == 0 for m in model.values())  # a still head
    assert len(real) == 2  # FLAME motion of one speaker per conversation
    assert all(m["listen_head_speed_deg_s"] > 0 for m in real.values())
    table = re_.markdown(re_.summarize(rows, {}))
    assert "nods per listening minute" in table and "| real | model |" in table


@pytest.mark.slow
def test_real_talking_video_smoke(realdata, tmp_path):
    """Track a 2-second real clip and score the person against their own lips: the
    tracked ``jawOpen`` must follow the raw inner-lip gap, and the puppet generator
    (mouth = speech activity) must run through the whole video path."""
    folder = tmp_path / "videos"
    folder.mkdir()
    (folder / "clip.mp4").symlink_to(realdata / "talking_video" / "vexpress_RD_Radio10_0_clip_0.mp4")
    rows = re_.evaluate_videos(folder, _activity_puppet, cache=tmp_path / "cache")
    real, model = rows["real"]["clip"], rows["model"]["clip"]
    assert real["lip_r"] > 0.6 and abs(real["lip_lag"]) <= 2
    assert model["head_step_max_deg"] == pytest.approx(0.0, abs=1e-6)
    assert -1.0 <= rows["envelope"]["clip"]["lip_r"] <= 1.0
    assert list((tmp_path / "cache").glob("clip.*.npz"))  # the tracking was cached

"""Activity signals and the timeline plot, on real eSpeak NG speech and known motion."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from openinfp.audio.espeak import synthesize
from openinfp.core.audio import ConversationAudio
from openinfp.core.motion import MotionSequence
from openinfp.head.motion_space import head_motion_space, head_rotation_from_euler
from openinfp.pipeline.activity_signals import energy_activity, head_activity, mouth_activity, speech_activity
from openinfp.pipeline.timeline_plot import plot_timeline

FPS = 25.0


@pytest.fixture(scope="module")
def turns():
    """Agent speaks in [0.5 s, 0.5 s + a), partner after a 1 s gap; both real eSpeak speech."""
    sr = 16_000
    a = synthesize("Hello there, how are you today?", voice="en-us").wave
    b = synthesize("I am fine, thank you very much.", voice="en-us+f3").wave
    n = int(0.5 * sr) + a.size + sr + b.size + int(0.5 * sr)
    agent, partner = np.zeros(n, np.float32), np.zeros(n, np.float32)
    s_a = int(0.5 * sr)
    agent[s_a:s_a + a.size] = a
    s_b = s_a + a.size + sr
    partner[s_b:s_b + b.size] = b
    return ConversationAudio(agent, partner, source="espeak test"), (s_a / sr, (s_a + a.size) / sr), \
        (s_b / sr, (s_b + b.size) / sr)


def _frames(span):
    return int(math.ceil(span[0] * FPS)), int(span[1] * FPS)


def test_energy_activity_follows_real_speech(turns):
    audio, agent_span, partner_span = turns
    t = audio.num_frames(FPS)
    agent, partner = speech_activity(audio, FPS, t)
    assert agent.shape == partner.shape == (t,)
    a0, a1 = _frames(agent_span)
    p0, p1 = _frames(partner_span)
    # speech has short pauses between words: most, not all, frames of a turn are active
    assert agent[a0:a1].mean() > 0.7 and partner[p0:p1].mean() > 0.7
    assert agent[p0:p1].sum() == 0 and partner[a0:a1].sum() == 0
    assert agent[: int(0.4 * FPS)].sum() == 0
    assert energy_activity(np.zeros(16_000, np.float32), 16_000, FPS, 25).sum() == 0


def test_speech_activity_prefers_attached_vad(turns):
    audio, *_ = turns
    t = audio.num_frames(FPS)
    attached = np.zeros(t, np.float32)
    attached[5:9] = 0.8
    tagged = ConversationAudio(audio.agent, audio.partner, agent_activity=attached,
                               partner_activity=np.ones(t - 3, np.float32))
    agent, partner = speech_activity(tagged, FPS, t)
    np.testing.assert_array_equal(agent, attached)
    assert partner.shape == (t,) and partner[:t - 3].all() and not partner[t - 3:].any()


def _known_motion(t: int) -> MotionSequence:
    space = head_motion_space()
    motion = space.neutral(t)
    jaw = (0.5 + 0.5 * np.sin(np.arange(t) / 3.0)).astype(np.float32)
    motion[:, space.component_index("arkit", "jawOpen")] = torch.from_numpy(jaw)
    yaw = torch.deg2rad(torch.arange(t, dtype=torch.float32) * (30.0 / FPS))  # 30 deg/s yaw
    ypr = torch.stack([yaw, torch.zeros(t), torch.zeros(t)], dim=1)
    motion = space.set(motion, "head_rotation", head_rotation_from_euler(ypr))
    return MotionSequence(motion, space, FPS)


def test_mouth_and_head_activity_read_named_parts():
    m = _known_motion(40)
    jaw = m.space.get_component(m.motion, "arkit", "jawOpen").numpy()
    np.testing.assert_allclose(mouth_activity(m), jaw)
    speed = head_activity(m)
    assert speed[0] == 0.0
    np.testing.assert_allclose(speed[1:], 30.0, atol=0.05)


def test_activity_on_smplx_motion_uses_head_joint_and_expression():
    from openinfp.body.motion_space import smplx_motion_space
    from openinfp.core.rotations import axis_angle_to_rot6d

    space = smplx_motion_space()
    t = 10
    motion = space.neutral(t)
    idx = space.component_index("body", "head.r6d0")
    angles = torch.deg2rad(torch.arange(t, dtype=torch.float32) * 2.0)  # 2 deg/frame = 50 deg/s
    aa = torch.stack([angles, torch.zeros(t), torch.zeros(t)], dim=1)
    motion[:, idx:idx + 6] = axis_angle_to_rot6d(aa)
    motion[:, space.component_index("expression", "jawOpen")] = 0.25
    m = MotionSequence(motion, space, FPS)
    np.testing.assert_allclose(head_activity(m)[1:], 50.0, atol=0.05)
    np.testing.assert_allclose(mouth_activity(m), 0.25)


def test_timeline_png_is_written_atomically(tmp_path, turns):
    from PIL import Image

    audio, *_ = turns
    m = _known_motion(audio.num_frames(FPS))
    out = plot_timeline(tmp_path / "t.png", audio, m, title="test", partner_motion=m)
    img = np.asarray(Image.open(out).convert("RGB"))
    assert img.shape == (560, 1000, 3)
    # the agent (blue) and partner (orange) speech fills are drawn (alpha 0.6 on white)
    def fill(rgb):
        blended = 0.6 * np.asarray(rgb) + 0.4 * 255
        return np.all(np.abs(img.astype(float) - blended) < 12, axis=2).sum()

    blue, orange = fill([0x1F, 0x77, 0xB4]), fill([0xFF, 0x7F, 0x0E])
    assert blue > 500 and orange > 500
    assert [p.name for p in tmp_path.iterdir()] == ["t.png"]  # no temporary left behind


def test_face_export_of_body_motion_inverts_the_head_lift(tmp_path):
    """smplx -> head for the ARKit CSV undoes head -> smplx (the body stage's lift)."""
    from openinfp.body.convert import head_to_smplx
    from openinfp.head.motion_space import head_euler
    from openinfp.pipeline.exports import as_head_motion, export_face_csv

    head = _known_motion(30)
    back = as_head_motion(head_to_smplx(head))
    assert back.space.name == "head"
    np.testing.assert_allclose(head_euler(back.motion).numpy(), head_euler(head.motion).numpy(), atol=1e-4)
    np.testing.assert_allclose(back.get("arkit").numpy(), head.get("arkit").numpy(), atol=1e-6)
    export_face_csv(head_to_smplx(head), tmp_path / "f.csv")
    rows = (tmp_path / "f.csv").read_text().splitlines()
    assert len(rows) == 31 and rows[0].startswith("Timecode,BlendShapeCount,EyeBlinkLeft")

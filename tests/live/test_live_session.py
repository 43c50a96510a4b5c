"""Live mode: frames as audio arrives, bounded look-ahead and memory, close to offline motion."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from openinfp.core.audio import SAMPLE_RATE
from openinfp.core.errors import InputError
from openinfp.live.levels import RunningLoudLevel
from openinfp.live.server import AgentVoice, decode_audio_message, encode_frame
from openinfp.live.settings import CausalSettings

CHUNK = 320  # 20 ms


@pytest.fixture(scope="module")
def real_speech(realdata) -> np.ndarray:
    """About 9 s of a real LibriSpeech reader: ``[N]`` float32 at 16 kHz."""
    wave, rate = sf.read(realdata / "speech" / "librispeech" / "533-1066-0001.flac", dtype="float32")
    assert rate == SAMPLE_RATE
    return wave


@pytest.fixture(scope="module")
def motion_session():
    from openinfp.live.session import LiveSession

    return LiveSession.start(None, render=False)


def _push_all(session, agent, partner, chunk=CHUNK):
    frames, arrivals = [], []
    for start in range(0, agent.shape[0], chunk):
        out = session.push(agent[start:start + chunk], partner[start:start + chunk])
        frames += out
        arrivals += [(start + chunk) / SAMPLE_RATE] * len(out)
    return frames, arrivals


def test_frames_come_as_audio_arrives_with_bounded_lookahead(real_speech):
    from openinfp.live.session import LiveSession

    settings = CausalSettings(chunk_frames=3, lookahead_frames=2)
    session = LiveSession.start(None, render=False, settings=settings)
    agent = real_speech[: 3 * SAMPLE_RATE]
    frames, arrivals = _push_all(session, agent, np.zeros_like(agent))
    fps = session.fps
    assert [f.index for f in frames] == list(range(len(frames)))
    # every frame leaves as soon as audio `lookahead` frames past its chunk's end has arrived
    for frame, arrived in zip(frames, arrivals):
        # the first step emits frame 0 alone, then chunks of 3 follow
        chunk_end = 1 if frame.index == 0 else 1 + ((frame.index - 1) // 3 + 1) * 3
        assert arrived <= (chunk_end + 2) / fps + CHUNK / SAMPLE_RATE + 1e-9
        assert arrived >= (chunk_end + 2) / fps - 1e-9  # never before its audio exists
    assert len(frames) >= int(3 * fps) - 5
    assert session.algorithmic_latency_s == pytest.approx(0.2)


def test_memory_stays_bounded(motion_session, real_speech):
    stream = motion_session.stream
    agent = np.tile(real_speech, 2)[: 8 * SAMPLE_RATE]
    partner = np.roll(agent, 4 * SAMPLE_RATE) * 0.5
    sizes = []
    for start in range(0, agent.shape[0], 1600):
        motion_session.push(agent[start:start + 1600], partner[start:start + 1600])
        sizes.append((stream._agent.shape[0], stream._tokens[0][1].shape[0] if stream._tokens else 0,
                      stream._activity._probs.shape[1]))
    late = np.array(sizes[len(sizes) // 2:])
    assert late[:, 2].max() <= 2 * 16000 / 512  # Silero probabilities: about a second's worth
    assert late[:, 0].max() <= 2 * SAMPLE_RATE  # audio kept: about a second, never the whole stream
    assert late[:, 1].max() <= stream.context + stream._radius + stream._fresh + 5
    assert late[:, 0].max() <= np.array(sizes)[:, 0].max()


def test_chunk_seams_cross_fade_the_pose_but_not_the_face(motion_session):
    """At a chunk seam the head pose eases over from the previous window's guess, while
    the face (jaw, blinks) takes the newest window as sampled: averaging two guesses of
    when a blink or a syllable falls flattens both."""
    stream = motion_session.stream
    space = stream.generator.space
    pose = stream._blended
    face = space.mask(space.group("face"))
    assert bool(pose[space.index("head_rotation")].all()) and not bool(pose[face].any())
    d, n = space.dim, stream.window
    saved = stream._previous, stream._previous_step
    try:
        stream._previous, stream._previous_step = torch.zeros(1, n, d), 4
        new = torch.ones(1, 4, d)
        out = stream._blend(new)
    finally:
        stream._previous, stream._previous_step = saved
    assert torch.equal(out[0][:, face], new[0][:, face])
    weights = out[0][:, space.index("head_rotation")]
    assert torch.allclose(weights, torch.tensor([0.2, 0.4, 0.6, 0.8]).view(4, 1).expand_as(weights))


def test_context_hop_holds_the_window_start(real_speech):
    """With ``context_hop=8`` the windows' start (and their context) moves only once 8
    frames have been emitted since; frames still come every chunk, as audio arrives."""
    from openinfp.live.session import LiveSession

    session = LiveSession.start(None, render=False, settings=CausalSettings(context_hop=8))
    stream = session.stream
    agent = real_speech[: 3 * SAMPLE_RATE]
    anchors, emitted = [], []
    for start in range(0, agent.shape[0], CHUNK):
        chunk = agent[start:start + CHUNK]
        if session.push(chunk, np.zeros_like(chunk)):
            anchors.append(stream._anchor)
            emitted.append(stream.frames_emitted)
    moves = sorted(set(anchors))
    assert len(moves) >= 5 and all(b - a >= 8 for a, b in zip(moves, moves[1:]))
    assert all(done - anchor <= 8 + 4 for anchor, done in zip(anchors, emitted))
    assert emitted[-1] >= int(3 * session.fps) - 5
    assert stream._history.shape[1] == stream.context + 8  # the context of windows up to 8 frames back


def test_live_lips_follow_offline_on_real_speech(real_speech):
    """The live path's jawOpen tracks the offline model's on a real voice, and both open
    while the portrait speaks far more than while it listens."""
    from openinfp.core.audio import ConversationAudio
    from openinfp.live.session import LiveSession
    from openinfp.pipeline.pipeline import ConversationPipeline

    pipeline = ConversationPipeline.from_preset("default", show_progress=False)
    n = real_speech.shape[0]
    agent = np.concatenate([real_speech, np.zeros(n, np.float32)])
    partner = np.concatenate([np.zeros(n, np.float32), real_speech])
    offline = pipeline.generate(ConversationAudio(agent, partner, source="test"))
    session = LiveSession.start(None, render=False, pipeline=pipeline)
    frames, _ = _push_all(session, agent, partner)
    space = offline.space
    jaw = space.component_index("arkit", "jawOpen")
    live_jaw = torch.stack([f.motion for f in frames])[:, jaw].numpy()
    off_jaw = offline.motion[: live_jaw.shape[0], jaw].numpy()
    r = np.corrcoef(live_jaw, off_jaw)[0, 1]
    assert r > 0.5, f"live vs offline jawOpen r = {r:.2f}"
    half = int(n / SAMPLE_RATE * session.fps)
    assert live_jaw[:half].mean() > 2 * live_jaw[half:].mean()


def test_running_loud_level_matches_the_whole_track(real_speech):
    level = RunningLoudLevel(min_seconds=1.0)
    assert level.level_db() is None
    for start in range(0, real_speech.shape[0], 333):
        level.update(real_speech[start:start + 333])
    cells = real_speech.shape[0] // 160
    energy = np.mean(real_speech[: cells * 160].reshape(cells, 160).astype(np.float64) ** 2, axis=1)
    expected = 10 * np.log10(np.quantile(energy, 0.95) + 1e-12)
    assert level.level_db() == pytest.approx(expected, abs=0.6)


def test_settings_and_messages_are_checked():
    with pytest.raises(InputError, match="chunk_frames"):
        CausalSettings(chunk_frames=0)
    with pytest.raises(InputError, match="lookahead"):
        CausalSettings(lookahead_frames=-1)
    with pytest.raises(InputError, match="sampler_steps"):
        CausalSettings(sampler_steps=0)
    with pytest.raises(InputError, match="context_hop"):
        CausalSettings(context_hop=0)
    with pytest.raises(InputError, match="float32"):
        decode_audio_message(b"\x00\x01\x02")
    with pytest.raises(InputError, match="binary"):
        decode_audio_message("hello")
    wave = decode_audio_message(np.array([0.5, np.nan, 3.0], "<f4").tobytes())
    assert wave.tolist() == [0.5, 0.0, 1.0]
    voice = AgentVoice(np.ones(5, np.float32))
    assert voice.take(3).tolist() == [1, 1, 1] and voice.take(4).tolist() == [1, 1, 0, 0]
    message = encode_frame(7, 0.28, 0.5, np.zeros((16, 16, 3), np.uint8), 80)
    assert message[:4] == (7).to_bytes(4, "little") and message[12:14] == b"\xff\xd8"  # JPEG start


def test_a_prompt_steers_live_motion_as_it_does_offline(real_speech):
    """"barely moves" slows the listening head in live mode too (the prompt's behaviour
    control, :mod:`openinfp.core.behaviour`, runs causally on the streamed motion)."""
    from openinfp.head.motion_space import head_euler
    from openinfp.live.session import LiveSession

    partner = real_speech[: 6 * SAMPLE_RATE]
    speeds = {}
    for prompt in (None, "barely moves"):
        session = LiveSession.start(None, render=False, prompt=prompt)
        frames, _ = _push_all(session, np.zeros_like(partner), partner)
        ypr = head_euler(torch.stack([f.motion for f in frames])).numpy()
        speeds[prompt] = float(np.abs(np.diff(ypr, axis=0)).sum(axis=1).mean())
    assert speeds["barely moves"] < 0.7 * speeds[None], speeds

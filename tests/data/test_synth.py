"""The synthetic corpus: lengths, ground-truth rules against the known script, determinism, resume."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.core.errors import InputError
from openinfp.data.shards import ConversationShard, iter_shards, read_manifest
from openinfp.data.signals import smooth
from openinfp.data.style import StyleParams, describe_style
from openinfp.data.synth import PlannedConversation, plan_conversation, synth_conversation, synth_corpus
from openinfp.data.timeline import TRAIN_VARIANTS, VAL_VARIANTS
from openinfp.head.motion_space import head_euler, head_motion_space

FPS = 25


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A few minutes of corpus (about 3 min in 4-6 conversations), made once for the module."""
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("corpus")
    summary = synth_corpus(out, hours=3 / 60, seed=11, workers=1, progress=False, min_seconds=25, max_seconds=50)
    return out, summary


def _speech_subframes(segments, side, num_frames, outer=True):
    """Speech of ``side`` per 5 ms sub-frame, straight from the script's phoneme events.

    ``outer`` rounds phoneme edges outwards (every sub-frame touched by speech), else inwards
    (only sub-frames entirely inside speech), so the truth lies between the two.
    """
    grid = np.zeros(num_frames * 8, dtype=bool)
    lo, hi = (np.floor, np.ceil) if outer else (np.ceil, np.floor)
    for seg in segments:
        if seg["speaker"] != side:
            continue
        ph = seg["phonemes"]
        for i, (t0, p) in enumerate(ph):
            t1 = min(ph[i + 1][0] if i + 1 < len(ph) else seg["end"], seg["end"])
            if p.startswith("_") or t1 <= t0:
                continue
            grid[int(lo(t0 * 200)): int(hi(t1 * 200))] = True
    return grid.reshape(num_frames, 8)


def _turns(segments, side, kind="turn"):
    return [(s["start"], s["end"]) for s in segments if s["speaker"] == side and s["kind"] == kind]


def test_summary_and_manifest(corpus):
    out, summary = corpus
    rows = read_manifest(out)
    assert summary["generated"] == summary["conversations"] == len(rows) >= 3
    total = sum(r["duration_s"] for r in rows)
    assert 150 <= total <= 400  # "a few minutes"
    for row in rows:
        assert row["sides"] == ["a", "b"]
        assert row["spaces"] == {"a": ["head", "smplx"], "b": ["head", "smplx"]}
        assert row["checks"]["lengths_agree"]
        assert 0.1 < row["speech_ratio"]["a"] < 0.9 and 0.1 < row["speech_ratio"]["b"] < 0.9
        assert row["style_text"]["a"] and row["style_text"]["b"]


def test_audio_and_motion_lengths_agree(corpus):
    out, _ = corpus
    for path in iter_shards(out):
        shard = ConversationShard(path)
        T = shard.num_frames
        for side in ("a", "b"):
            assert shard.audio(side).shape == (T * 640,)
            assert shard.activity(side).shape == (T,)
            assert shard.motion(side, "head").shape == (T, 62)
            assert shard.motion(side, "smplx").shape == (T, 385)
        # the last speech ends before the end of the audio, and there is speech in both tracks
        assert max(s["end"] for s in shard.info["events"]["segments"]) <= T / FPS


def test_jaw_open_exactly_when_own_track_speaks(corpus):
    """jawOpen > 0 on every frame the script says the agent speaks (>= half the frame),
    and exactly 0 on every frame the script says it is silent (both sides = both roles);
    the mouth leads the sound by ``ANTICIPATION_S`` (compared after undoing that lead)."""
    from openinfp.data.head_rules import ANTICIPATION_S

    out, _ = corpus
    space = head_motion_space()
    lead = int(round(ANTICIPATION_S * FPS))
    for path in iter_shards(out):
        shard = ConversationShard(path)
        segments = shard.info["events"]["segments"]
        for side in ("a", "b"):
            jaw = space.get_component(torch.from_numpy(shard.motion(side, "head")), "arkit", "jawOpen").numpy()
            jaw = np.concatenate([np.zeros(lead, jaw.dtype), jaw[: jaw.size - lead]])  # undo the lead
            outer = _speech_subframes(segments, side, shard.num_frames, outer=True)
            inner = _speech_subframes(segments, side, shard.num_frames, outer=False)
            speaking = inner.mean(1) >= 0.5
            silent = ~outer.any(1)
            assert speaking.sum() > 100 and silent.sum() > 100
            assert jaw[speaking].min() > 0.03, f"{path.name} {side}: closed jaw while speaking"
            assert jaw[silent].max() == 0.0, f"{path.name} {side}: jaw moves while silent"
            # the stored activity is the same fact, frame by frame (boundary frames aside)
            act = shard.activity(side)
            assert (act[speaking] == 1).all() and (act[outer.mean(1) < 0.5] == 0).all()
            # and the audio really has the speech there (energy gap of at least 20 dB)
            audio = shard.audio(side).reshape(-1, 640)
            rms_db = 10 * np.log10((audio ** 2).mean(1) + 1e-12)
            assert np.median(rms_db[speaking]) > np.median(rms_db[silent]) + 20


def test_listener_nods_fall_in_partner_turns(corpus):
    """Nods, found in the listener's head pitch, happen during (or right after) the partner's turns."""
    out, _ = corpus
    found = 0
    for path in iter_shards(out):
        shard = ConversationShard(path)
        segments = shard.info["events"]["segments"]
        times = (np.arange(shard.num_frames) + 0.5) / FPS
        for side, other in (("a", "b"), ("b", "a")):
            pitch = head_euler(torch.from_numpy(shard.motion(side, "head")))[:, 1].numpy() * 180 / np.pi
            nod_signal = pitch - smooth(pitch, 1.5, FPS)  # nods are fast; sway is slow
            own_turn = np.zeros_like(times, dtype=bool)
            for s, e in _turns(segments, side):
                own_turn |= (times >= s - 0.3) & (times < e + 0.5)
            partner_turn = np.zeros_like(times, dtype=bool)
            for s, e in _turns(segments, other):
                partner_turn |= (times >= s - 0.2) & (times < e + 1.5)
            listening_nods = (nod_signal > 2.0) & ~own_turn
            assert not (listening_nods & ~partner_turn).any(), f"{path.name} {side}: nod outside the partner's turns"
            found += int(listening_nods.sum())
            # the recorded nod events agree
            for s, e in shard.info["events"][side]["nods"]:
                mid = 0.5 * (s + e)
                assert any(ps - 0.2 <= mid <= pe + 1.5 for ps, pe in _turns(segments, other))
    assert found > 50  # nods really happen


def test_backchannels_and_overlaps_happen():
    """Over a few conversations the script has backchannels, overlaps and both speakers talk."""
    torch.set_num_threads(1)
    kinds, overlaps = set(), 0
    for i in range(5):
        conv = synth_conversation(PlannedConversation(5, i, 45.0, "train"))
        segs = conv.events["segments"]
        kinds |= {s["kind"] for s in segs}
        turns = [s for s in segs if s["kind"] == "turn"]
        overlaps += sum(b["start"] < a["end"] for a, b in zip(turns, turns[1:]))
        backchannels = [s for s in segs if s["kind"] == "backchannel"]
        for bc in backchannels:  # a backchannel sits inside the partner's turn
            assert any(t["speaker"] != bc["speaker"] and t["start"] <= bc["start"] <= t["end"] for t in turns)
    assert kinds == {"turn", "backchannel"}
    assert overlaps >= 1


def test_deterministic_per_seed():
    torch.set_num_threads(1)
    plan = PlannedConversation(3, 2, 20.0, "train")
    c1, c2 = synth_conversation(plan), synth_conversation(plan)
    for side in ("a", "b"):
        np.testing.assert_array_equal(c1.sides[side].audio, c2.sides[side].audio)
        np.testing.assert_array_equal(c1.sides[side].motion["smplx"], c2.sides[side].motion["smplx"])
    c3 = synth_conversation(PlannedConversation(4, 2, 20.0, "train"))
    assert c3.sides["a"].style_text != c1.sides["a"].style_text or c3.num_frames != c1.num_frames


def test_resume_skips_and_regenerates_identically(corpus, tmp_path):
    out, _ = corpus
    again = synth_corpus(out, hours=3 / 60, seed=11, workers=1, progress=False, min_seconds=25, max_seconds=50)
    assert again["generated"] == 0 and again["skipped_existing"] == again["conversations"]
    first = next(iter_shards(out))
    original = ConversationShard(first).load()
    first.unlink()
    redo = synth_corpus(out, hours=3 / 60, seed=11, workers=1, progress=False, min_seconds=25, max_seconds=50)
    assert redo["generated"] == 1
    again = ConversationShard(first).load()  # written after other conversations: eSpeak state must not leak
    assert again.events == original.events
    for side in ("a", "b"):
        np.testing.assert_array_equal(again.sides[side].audio, original.sides[side].audio)
        np.testing.assert_array_equal(again.sides[side].motion["head"], original.sides[side].motion["head"])
        np.testing.assert_array_equal(again.sides[side].motion["smplx"], original.sides[side].motion["smplx"])


def test_validation_split_uses_held_out_voices():
    torch.set_num_threads(1)
    assert plan_conversation(0, 7).split == "val" and plan_conversation(0, 6).split == "train"
    val = synth_conversation(PlannedConversation(0, 7, 10.0, "val"))
    train = synth_conversation(PlannedConversation(0, 6, 10.0, "train"))
    for side in ("a", "b"):
        assert val.sides[side].info["voice"]["name"].split("+")[1] in VAL_VARIANTS
        assert train.sides[side].info["voice"]["name"].split("+")[1] in TRAIN_VARIANTS
    assert not set(VAL_VARIANTS) & set(TRAIN_VARIANTS)


def test_style_text_matches_parameters():
    calm = StyleParams(expressiveness=0.35, nod_rate=0.1, smile_rate=0.1, head_motion_scale=0.5, backchannel_rate=0.1)
    lively = StyleParams(expressiveness=0.95, nod_rate=0.85, smile_rate=0.75, head_motion_scale=1.5,
                         backchannel_rate=0.55)
    t_calm, t_lively = describe_style(calm), describe_style(lively)
    assert "reserved" in t_calm and "rarely nods" in t_calm and "still" in t_calm
    assert "animated" in t_lively and "nods often" in t_lively and "smiles a lot" in t_lively
    rng = np.random.default_rng(0)
    assert len({describe_style(lively, rng) for _ in range(10)}) > 1  # worded differently, same meaning


def test_style_changes_the_motion():
    """Higher nod rate -> more nods; higher head-motion scale -> larger head rotations."""
    torch.set_num_threads(1)
    nods, spread = {}, {}
    for label, style in (("low", StyleParams(0.5, 0.1, 0.3, 0.5, 0.2)), ("high", StyleParams(0.5, 0.9, 0.3, 1.5, 0.2))):
        conv = synth_conversation(PlannedConversation(9, 0, 60.0, "train"), styles={"a": style, "b": style})
        nods[label] = sum(len(conv.events[s]["nods"]) for s in ("a", "b"))
        ypr = np.concatenate([head_euler(torch.from_numpy(conv.sides[s].motion["head"])).numpy() for s in ("a", "b")])
        spread[label] = float(ypr[:, 0].std())
    assert nods["high"] > 1.5 * nods["low"]
    assert spread["high"] > 1.8 * spread["low"]


def test_smplx_follows_head_and_gestures_while_speaking(corpus):
    from openinfp.body.motion_space import smplx_motion_space
    from openinfp.core.rotations import rot6d_to_axis_angle

    out, _ = corpus
    shard = ConversationShard(next(iter_shards(out)))
    space, hspace = smplx_motion_space(), head_motion_space()
    segments = shard.info["events"]["segments"]
    times = (np.arange(shard.num_frames) + 0.5) / FPS
    for side in ("a", "b"):
        body = torch.from_numpy(shard.motion(side, "smplx"))
        head = torch.from_numpy(shard.motion(side, "head"))
        # face expression is the same ARKit vector; the jaw joint opens with jawOpen
        torch.testing.assert_close(space.get(body, "expression"), hspace.get(head, "arkit"))
        jaw_angle = rot6d_to_axis_angle(space.get(body, "jaw"))[:, 0]
        jaw_open = hspace.get_component(head, "arkit", "jawOpen")
        torch.testing.assert_close(jaw_angle, 0.3 * jaw_open, atol=1e-4, rtol=1e-3)
        # forearms are raised more while holding the turn than while listening
        joints = space.get(body, "body").reshape(-1, 21, 6)
        names = [c.rsplit(".", 1)[0] for c in space.part("body").component_names[::6]]
        elbows = torch.stack([rot6d_to_axis_angle(joints[:, names.index(j)]).norm(dim=-1)
                              for j in ("left_elbow", "right_elbow")], 1).max(1).values.numpy()
        in_turn = np.zeros_like(times, dtype=bool)
        for s, e in _turns(segments, side):
            in_turn |= (times >= s + 0.5) & (times < e)
        assert elbows[in_turn].mean() > elbows[~in_turn].mean() + 0.1
        # beat gestures fall inside own turns
        for s, e in shard.info["events"][side]["beats"]:
            assert any(ts - 0.3 <= s and e <= te + 0.6 for ts, te in _turns(segments, side))


def test_cli_synth_and_errors(tmp_path, capsys):
    from openinfp.cli import main

    assert main(["synth", "--hours", "0.004", "--out", str(tmp_path / "c"), "--seed", "2", "--workers", "1",
                 "--quiet", "--min-seconds", "10", "--max-seconds", "12"]) == 0
    assert len(read_manifest(tmp_path / "c")) >= 1
    assert main(["synth", "--hours", "-1", "--out", str(tmp_path / "d")]) == 2
    assert "--hours must be positive" in capsys.readouterr().err
    with pytest.raises(InputError, match="does not exist"):
        read_manifest(tmp_path / "nothing")

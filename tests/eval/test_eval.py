"""`openinfp eval` on data made here: synthetic shards, audio + portrait pairs, tiny checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest

from openinfp.cli import main
from openinfp.core.metrics.suite import SuiteOptions
from openinfp.eval.inputs import load_conversations, load_pairs, load_shards
from openinfp.eval.runner import EvalOptions, run_eval

FAST = SuiteOptions(sid_k=8)


def test_shards_ground_truth_static_and_baseline(heldout_dir):
    convs = load_shards(heldout_dir, "val")
    assert len(convs) == 2 and all("head" in c.agent_motion and "head" in c.partner_motion for c in convs)
    c = convs[0]
    assert c.audio.agent.shape[0] == c.num_frames * 640 and c.activity("agent").shape == (c.num_frames,)
    both = load_shards(heldout_dir, "val", agent_side="both", limit=1)
    assert [x.name.split(":")[1] for x in both] == ["a", "b"]
    assert np.array_equal(both[0].audio.agent, both[1].audio.partner)
    assert np.array_equal(both[0].agent_motion["head"].motion, both[1].partner_motion["head"].motion)
    report = run_eval(convs, EvalOptions(systems=("ground_truth", "static", "rule_based"), render_frames=0, suite=FAST))
    rows = {r.name: r for r in report.results}
    gt, static, rule = (rows[n].metrics.values for n in ("ground_truth", "static", "rule_based"))
    assert gt["fd_exp"] == pytest.approx(0, abs=1e-9) and gt["l2_exp"] == 0 and gt["rpcc_exp"] == pytest.approx(0)
    assert gt["role_auc"] > 0.9                      # the corpus's own rules separate roles
    assert static["role_auc"] == 0.5 and static["nod_rate"] == 0 and static["sid_exp"] == 0
    assert rule["role_auc"] > 0.9 and rule["fd_exp"] < static["fd_exp"]
    assert "generation_rtf" not in gt and rule["generation_rtf"] > 0
    text = report.markdown()
    assert "| static | " in text and "FD-exp ↓" in text and "k-means fitted on the ground-truth" in text
    data = json.loads(json.dumps(report.to_dict()))
    assert [s["name"] for s in data["systems"]] == ["ground_truth", "static", "rule_based"]


def test_model_rows_run_from_checkpoints_and_ablation_is_checked(heldout_dir, tiny_checkpoints):
    convs = [c.cropped(3.0) for c in load_shards(heldout_dir, "val")]
    report = run_eval(convs, EvalOptions(systems=("model", "model_no_banks"), checkpoint=str(tiny_checkpoints["banks"]),
                                         no_banks_checkpoint=str(tiny_checkpoints["no_banks"]), render_frames=0,
                                         suite=FAST))
    rows = {r.name: r for r in report.results}
    for name in ("model", "model_no_banks"):
        assert rows[name].status == "ok", rows[name].reason
        assert rows[name].frames == sum(c.num_frames for c in convs)
        assert {"fd_exp", "role_auc", "lipsync_r", "generation_rtf"} <= set(rows[name].metrics.values)
    # The ablation is sampled like the model row (its own checkpoint stores guidance 1).
    assert any("guidance scale 2" in n for n in rows["model"].notes)
    assert any("guidance scale 2" in n for n in rows["model_no_banks"].notes)
    assert "model_no_banks:" in report.markdown()
    # A checkpoint WITH banks is refused as the ablation; a missing one is reported.
    wrong = run_eval(convs[:1], EvalOptions(systems=("model_no_banks",),
                                            no_banks_checkpoint=str(tiny_checkpoints["banks"]),
                                            render_frames=0, suite=FAST))
    assert wrong.results[0].status == "unavailable" and "WITH memory banks" in wrong.results[0].reason
    gone = run_eval(convs[:1], EvalOptions(systems=("model",), checkpoint=str(heldout_dir / "nothing"), render_frames=0,
                                           suite=FAST))
    assert gone.results[0].status == "unavailable" and gone.results[0].reason


def _write_pair(folder, name, astronaut, script):
    import soundfile as sf
    from PIL import Image

    from openinfp.audio.script import script_to_conversation

    conv, _ = script_to_conversation(script, seed=1, backchannels=False)
    sf.write(folder / f"{name}.wav", conv.stereo(), conv.sample_rate)
    Image.fromarray(astronaut).save(folder / f"{name}.png")


def test_pairs_folder_without_ground_truth(tmp_path, astronaut):
    _write_pair(tmp_path, "talk", astronaut, "A: Good morning! Did you sleep well?\nB: Yes, thanks, like a stone.\n")
    convs = load_conversations(tmp_path)
    assert len(convs) == 1 and convs[0].portrait is not None and not convs[0].agent_motion
    report = run_eval(convs, EvalOptions(systems=("ground_truth", "static", "rule_based"), render_frames=4, suite=FAST))
    rows = {r.name: r for r in report.results}
    assert rows["ground_truth"].status == "unavailable" and "no ground-truth" in rows["ground_truth"].reason
    rule = rows["rule_based"]
    assert "fd_exp" in rule.metrics.missing and "sid_exp" in rule.metrics.values  # SID from pooled clusters
    assert rule.metrics.values["role_auc"] > 0.9
    assert rule.image["face_found"] == 1.0 and rule.image["id_nme"] < 0.1
    assert "ssim" in rule.image_missing
    assert "pooled output of all systems" in report.markdown()
    (tmp_path / "lonely.wav").write_bytes((tmp_path / "talk.wav").read_bytes())
    with pytest.raises(Exception, match="no portrait"):
        load_pairs(tmp_path)


def test_eval_cli_on_a_shard_folder(heldout_dir, tmp_path, capsys):
    out = tmp_path / "e.json"
    code = main(["eval", str(heldout_dir), "--systems", "static", "rule_based", "--render-frames", "0",
                 "--max-seconds", "5", "--sid-k", "6", "--json", str(out), "-q"])
    assert code == 0
    data = json.loads(out.read_text())
    assert data["options"]["suite"]["sid_k"] == 6 and all(c["seconds"] == 5.0 for c in data["conversations"])
    printed = capsys.readouterr().out
    assert "| rule_based |" in printed and "role AUC" in printed
    code = main(["eval", str(tmp_path / "missing"), "--json", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("openinfp: error:") and "missing" in err and "\n" not in err
    code = main(["eval", str(heldout_dir), "--split", "train", "--json", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "--split all" in err


def _talking_video(folder, astronaut, seconds=4.0):
    """A talking video made here: the rule-based baseline rendered onto the astronaut photo,
    with the agent's speech muxed in and the partner's track beside it."""
    import soundfile as sf

    from openinfp.audio.script import script_to_conversation
    from openinfp.core.interfaces import RenderSource
    from openinfp.core.registry import Registry
    from openinfp.core.video import VideoWriter
    from openinfp.eval.baseline import rule_based_motion

    conv, _ = script_to_conversation("B: Ready to go?\nA: Yes, I think we should leave early tomorrow morning.\n",
                                     seed=2, backchannels=False)
    n = int(seconds * 16000)
    from openinfp.core.audio import ConversationAudio

    conv = ConversationAudio(conv.agent[:n], conv.partner[:n], agent_activity=conv.agent_activity[: int(seconds * 25)],
                             partner_activity=conv.partner_activity[: int(seconds * 25)])
    motion = rule_based_motion(conv, seed=0)
    renderer = Registry.create(autoload=False).renderer("portrait", {"size": 192})
    renderer.setup(RenderSource(portrait=astronaut))
    path = folder / "person.mp4"
    with VideoWriter(path, fps=25.0, audio=conv.agent) as writer:
        writer.write_all(renderer.render(motion))
    sf.write(folder / "person.partner.wav", conv.partner, 16000)
    return path, motion


def _check_human_report(conv, driving):
    assert conv.portrait is not None and conv.portrait.shape == (192, 192, 3)
    assert abs(conv.num_frames - driving.num_frames) <= 1 and conv.activity("partner").any()
    report = run_eval([conv], EvalOptions(systems=("ground_truth", "static", "rule_based"), human=True,
                                          render_frames=0, suite=FAST))
    rows = {r.name: r for r in report.results}
    assert set(rows) == {"human", "static", "rule_based"}
    assert rows["human"].metrics.values["role_auc"] > 0.8
    assert rows["human"].metrics.values["fd_exp"] == pytest.approx(0, abs=1e-9)
    assert rows["rule_based"].metrics.values["fd_exp"] > 0 and "nod_rate" in rows["rule_based"].metrics.values
    assert "fitted on the human motion" in report.markdown()


def test_human_reference_mode_plumbing(tmp_path, astronaut, monkeypatch):
    """Audio from the video, partner track beside it, first frame as portrait, the human row.
    (Tracking is replaced by the driving motion here; the slow test below tracks for real.)"""
    from openinfp.eval.inputs import find_videos, load_human_video
    from openinfp.head.tracker import HeadTracker

    video, driving = _talking_video(tmp_path, astronaut)
    assert find_videos(tmp_path) == [video]
    monkeypatch.setattr(HeadTracker, "track_video", lambda self, path, progress=True: driving)
    _check_human_report(load_human_video(video), driving)


@pytest.mark.slow
def test_human_reference_mode_tracks_a_talking_video(tmp_path, astronaut):
    from openinfp.core.metrics.features import mouth_opening
    from openinfp.eval.inputs import load_human_video

    video, driving = _talking_video(tmp_path, astronaut)
    conv = load_human_video(video)
    tracked = conv.agent_motion["head"]
    n = min(tracked.num_frames, driving.num_frames)
    assert np.corrcoef(mouth_opening(tracked)[:n], mouth_opening(driving)[:n])[0, 1] > 0.8
    _check_human_report(conv, driving)


def test_resample_motion_picks_nearest_frames():
    import torch

    from openinfp.eval.inputs import resample_motion
    from openinfp.head.motion_space import head_motion_space

    space = head_motion_space()
    motion = space.neutral(30)
    motion[:, space.component_index("arkit", "jawOpen")] = torch.arange(30) / 30.0
    from openinfp.core.motion import MotionSequence

    seq = MotionSequence(motion, space, 30.0, {"face_found": np.ones(30, bool)})
    out = resample_motion(seq, 25.0)
    assert out.num_frames == 25 and out.fps == 25.0 and out.annotations["face_found"].shape == (25,)
    # Frame i at time i/25 s takes source frame round(i * 30 / 25).
    expected = np.round(np.arange(25) * 1.2) / 30.0
    np.testing.assert_allclose(out.motion[:, space.component_index("arkit", "jawOpen")].numpy(), expected, atol=1e-6)


def test_smplx_space_rows(heldout_dir):
    convs = [c.cropped(4.0) for c in load_shards(heldout_dir, "val")][:1]
    report = run_eval(convs, EvalOptions(space="smplx", systems=("ground_truth", "static", "rule_based"),
                                         render_frames=0, suite=FAST))
    rows = {r.name: r for r in report.results}
    assert all(r.status == "ok" for r in rows.values())
    assert rows["ground_truth"].metrics.values["fd_pose"] == pytest.approx(0, abs=1e-9)
    assert rows["static"].metrics.values["role_auc"] == 0.5 and rows["static"].metrics.values["var_pose"] == 0
    assert rows["rule_based"].metrics.values["role_auc"] > 0.9
    assert "beat_consistency" in rows["ground_truth"].metrics.values  # upper-body joints exist in smplx

"""`openinfp prepare` on DualTalk-style and BEAT2 fixtures written here, plus sharding and resume."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from openinfp.audio.espeak import synthesize
from openinfp.core.arkit import ARKIT_NAMES
from openinfp.core.errors import InputError
from openinfp.data.readers.common import resample_motion, smplx_to_head, split_for
from openinfp.data.shards import ConversationShard, read_manifest
from openinfp.head.motion_space import head_euler, head_motion_space

SR = 16_000
JAW = ARKIT_NAMES.index("jawOpen")


def _speech(text: str, voice: str) -> np.ndarray:
    return synthesize(text, voice=voice).wave


def _two_speakers(seconds: float = 6.0
                  ) -> tuple[np.ndarray, np.ndarray, list[tuple[float, float]], list[tuple[float, float]]]:
    """Speaker 1 talks in the first half, speaker 2 in the second (each on its own track)."""
    n = int(seconds * SR)
    s1, s2 = np.zeros(n, np.float32), np.zeros(n, np.float32)
    u1 = _speech("Hello, I went to the market yesterday.", "en-us")
    u2 = _speech("Really? What did you buy there?", "en-gb-x-rp+f3")
    o1, o2 = int(0.3 * SR), int(3.3 * SR)
    s1[o1:o1 + len(u1)] = u1[: n - o1]
    s2[o2:o2 + len(u2)] = u2[: n - o2]
    # a microphone noise floor (-70 dB), as in any recording (digital silence trips
    # openinfp.audio.activity.two_track_activity's bleed estimate into NaN; reported)
    rng = np.random.default_rng(0)
    s1 += rng.normal(0, 3e-4, n).astype(np.float32)
    s2 += rng.normal(0, 3e-4, n).astype(np.float32)
    return s1, s2, [(0.3, 0.3 + len(u1) / SR)], [(3.3, 3.3 + len(u2) / SR)]


def _arkit_for(turns, frames: int, fps: float) -> np.ndarray:
    arr = np.zeros((frames, 52), np.float32)
    t = np.arange(frames) / fps
    for s, e in turns:
        inside = (t >= s) & (t < e)
        arr[inside, JAW] = 0.3 + 0.2 * np.sin(2 * np.pi * 4 * t[inside]) ** 2
    arr[:, ARKIT_NAMES.index("eyeBlinkLeft")] = (np.arange(frames) % 90 < 4).astype(np.float32)
    return arr


@pytest.fixture(scope="module")
def dualtalk_root(tmp_path_factory):
    """Three clips: two in per-clip folders (npy and Live Link CSV), one flat (npz); 30 fps arrays."""
    root = tmp_path_factory.mktemp("dualtalk")
    fps = 30.0
    s1, s2, t1, t2 = _two_speakers()
    frames = int(len(s1) / SR * fps)
    for clip in ("clip_001", "clip_002"):
        d = root / "train" / clip
        d.mkdir(parents=True)
        sf.write(d / "speaker1.wav", s1, SR)
        sf.write(d / "speaker2.wav", s2, SR)
        if clip == "clip_001":
            np.save(d / "speaker1.npy", _arkit_for(t1, frames, fps))
            np.save(d / "speaker2.npy", _arkit_for(t2, frames, fps))
        else:
            for spk, turns in (("speaker1", t1), ("speaker2", t2)):
                arkit = _arkit_for(turns, frames, fps)
                yaw = 0.2 * np.sin(np.arange(frames) / fps)
                with open(d / f"{spk}.csv", "w", newline="") as fh:
                    w = csv.writer(fh)
                    w.writerow(["Timecode", "BlendShapeCount"] + [n[0].upper() + n[1:] for n in ARKIT_NAMES]
                               + ["HeadYaw", "HeadPitch", "HeadRoll"])
                    for i in range(frames):
                        w.writerow(["00:00:00:00.000", 55] + [f"{v:.5f}" for v in arkit[i]] + [f"{yaw[i]:.5f}", 0, 0])
    flat = root / "flat"
    flat.mkdir()
    sf.write(flat / "talk9_speaker1.wav", s2, SR)  # roles reversed here
    sf.write(flat / "talk9_speaker2.wav", s1, SR)
    np.savez(flat / "talk9_speaker1.npz", arkit=_arkit_for(t2, frames, fps))
    np.savez(flat / "talk9_speaker2.npz", arkit=_arkit_for(t1, frames, fps))
    return root, t1, t2


def test_dualtalk_end_to_end(dualtalk_root, tmp_path):
    from openinfp.cli import main

    root, t1, t2 = dualtalk_root
    out = tmp_path / "shards"
    assert main(["prepare", str(root), "--format", "dualtalk", "--out", str(out), "--blendshape-fps", "30",
                 "--quiet"]) == 0
    rows = {r["id"]: r for r in read_manifest(out)}
    assert set(rows) == {"dualtalk-train-clip_001", "dualtalk-train-clip_002", "dualtalk-flat-talk9"}
    for row in rows.values():
        assert row["spaces"] == {"a": ["head"], "b": ["head"]} and row["checks"]["lengths_agree"]
    shard = ConversationShard(out / rows["dualtalk-train-clip_001"]["file"])
    T = shard.num_frames
    assert abs(T - 6.0 * 25) <= 1 and shard.audio("a").shape == (T * 640,)
    times = (np.arange(T) + 0.5) / 25
    space = head_motion_space()
    for side, turns in (("a", t1), ("b", t2)):
        inside, outside = np.zeros(T, bool), np.ones(T, bool)
        for s, e in turns:
            inside |= (times > s + 0.2) & (times < e - 0.2)
            outside &= (times < s - 0.1) | (times > e + 0.1)
        act = shard.activity(side)
        assert act[inside].mean() > 0.7 and act[times > 3.3 + 0.2 if side == "a" else times < 3.0].mean() < 0.2
        jaw = space.get_component(torch.from_numpy(shard.motion(side, "head")), "arkit", "jawOpen").numpy()
        assert jaw[inside].min() >= 0.29 and jaw[outside].max() == 0  # the arrays, resampled 30 -> 25 fps
    # the Live Link CSV carried a head yaw, which arrives in the head rotation
    csv_shard = ConversationShard(out / rows["dualtalk-train-clip_002"]["file"])
    yaw = head_euler(torch.from_numpy(csv_shard.motion("a", "head")))[:, 0].numpy()
    expected = 0.2 * np.sin(np.arange(csv_shard.num_frames) / 25)
    np.testing.assert_allclose(yaw, expected, atol=2e-3)
    assert csv_shard.info["sides"]["a"]["info"]["head_pose_known"] is True
    assert shard.info["sides"]["a"]["info"]["head_pose_known"] is False


def test_shards_split_work_and_resume(dualtalk_root, tmp_path):
    from openinfp.cli import main

    root, _, _ = dualtalk_root
    out = tmp_path / "s"
    ids = []
    for i in range(2):
        assert main(["prepare", str(root), "--format", "dualtalk", "--out", str(out), "--shard", f"{i}/2",
                     "--blendshape-fps", "30", "--quiet"]) == 0
        ids.append({r["id"] for r in read_manifest(out)})
    assert len(ids[0]) == 2 and len(ids[1]) == 3  # 3 items: 0 and 2 in shard 0/2, 1 in 1/2; manifest grows
    from openinfp.data.config import DualTalkOptions
    from openinfp.data.prepare import prepare_corpus
    from openinfp.data.readers.dualtalk import DualTalkReader

    summary = prepare_corpus(DualTalkReader(DualTalkOptions(blendshape_fps=30)), [str(root)], out, progress=False)
    assert summary["skipped_existing"] == 3 and summary["written"] == 0


def test_bad_items_are_recorded_not_fatal(dualtalk_root, tmp_path, capsys):
    from openinfp.cli import main

    root, _, _ = dualtalk_root
    broken = tmp_path / "in"
    import shutil

    shutil.copytree(root / "train" / "clip_001", broken / "ok")
    shutil.copytree(root / "train" / "clip_001", broken / "bad")
    (broken / "bad" / "speaker2.npy").unlink()
    np.save(broken / "bad" / "speaker1.npy", np.zeros((10, 7), np.float32))
    out = tmp_path / "out"
    assert main(["prepare", str(broken), "--format", "dualtalk", "--out", str(out), "--quiet"]) == 1
    assert "1 item(s) failed" in capsys.readouterr().err
    failures = [json.loads(x) for x in (out / "prepare-failures-0-of-1.jsonl").read_text().splitlines()]
    assert failures[0]["id"].endswith("bad") and "missing" in failures[0]["error"]
    assert [r["id"] for r in read_manifest(out)] == ["dualtalk-ok"]
    # wrong options and shard specs are one-line errors
    assert main(["prepare", str(broken), "--format", "dualtalk", "--out", str(out), "--layout", "pair"]) == 2
    assert "--layout does not apply to --format dualtalk" in capsys.readouterr().err
    assert main(["prepare", str(broken), "--format", "dualtalk", "--out", str(out), "--shard", "2/2"]) == 2
    assert main(["prepare", str(broken), "--format", "nope", "--out", str(out)]) == 2
    from openinfp.data.readers.dualtalk import read_blendshapes

    with pytest.raises(InputError, match=r"expected \[T, 52\]"):
        read_blendshapes(broken / "bad" / "speaker1.npy")


def _beat2_fixture(root: Path, fps: float = 30.0, seconds: float = 4.0):
    """A BEAT2-layout clip: smplxflame_30/x.npz (head nods about x, jaw opening) + wave16k/x.wav."""
    T = int(seconds * fps)
    t = np.arange(T) / fps
    poses = np.zeros((T, 55, 3), np.float32)
    poses[:, 0] = [0.0, 0.6, 0.0]  # the whole body turned 0.6 rad: the head space must not see this
    head_joint, jaw_joint = 15, 22  # SMPL-X order: 15 = head, 22 = jaw
    poses[:, head_joint, 0] = 0.25 * np.sin(2 * np.pi * 0.5 * t)
    poses[:, jaw_joint, 0] = 0.15 * (np.sin(2 * np.pi * 3 * t) > 0)
    (root / "smplxflame_30").mkdir(parents=True)
    (root / "wave16k").mkdir()
    np.savez(root / "smplxflame_30" / "2_scott_0_1_1.npz", poses=poses.reshape(T, 165),
             trans=np.zeros((T, 3), np.float32), expressions=np.zeros((T, 100), np.float32),
             betas=np.zeros(300, np.float32), mocap_frame_rate=np.asarray(fps))
    wave = np.zeros(int(seconds * SR), np.float32)
    u = _speech("This is a gesture dataset recording.", "en-us")
    wave[8000:8000 + len(u)] = u[: len(wave) - 8000]
    sf.write(root / "wave16k" / "2_scott_0_1_1.wav", wave, SR)
    return T


def test_beat2_end_to_end(tmp_path):
    from openinfp.cli import main

    src = tmp_path / "beat2"
    _beat2_fixture(src)
    out = tmp_path / "out"
    assert main(["prepare", str(src), "--format", "beat2", "--out", str(out), "--quiet"]) == 0
    (row,) = read_manifest(out)
    assert row["sides"] == ["a"] and row["spaces"] == {"a": ["head", "smplx"]}
    shard = ConversationShard(out / row["file"])
    T = shard.num_frames
    assert T == 100 and shard.motion("a", "smplx").shape == (T, 385)
    # head space: the nod about x, relative to the body's facing (the 0.6 rad body turn removed)
    ypr = head_euler(torch.from_numpy(shard.motion("a", "head"))).numpy()
    times = np.arange(T) / 25
    np.testing.assert_allclose(ypr[:, 1], 0.25 * np.sin(2 * np.pi * 0.5 * times), atol=0.01)
    np.testing.assert_allclose(ypr[:, 0], 0.0, atol=0.01)
    # jawOpen comes from the jaw joint (0.15 rad = 0.5 jawOpen); the rest of the face is unknown
    jaw = head_motion_space().get_component(torch.from_numpy(shard.motion("a", "head")), "arkit", "jawOpen").numpy()
    src_t = np.arange(120) / 30
    expected = np.interp(times, src_t, 0.15 * (np.sin(2 * np.pi * 3 * src_t) > 0)) / 0.3
    np.testing.assert_allclose(jaw, expected, atol=0.02)
    assert shard.info["sides"]["a"]["info"]["arkit_face_known"] is False
    act = shard.activity("a")
    assert act[(times > 0.8) & (times < 2.0)].mean() > 0.7 and act[times < 0.3].max() < 0.5
    # a BEAT2 shard trains an smplx model with a silent partner
    from openinfp.data.dataset import ConversationDataset

    sample = ConversationDataset(out, space="smplx", window=40, context=10)[0]
    assert sample["motion"].shape == (40, 385) and torch.count_nonzero(sample["partner_audio"]) == 0


def test_beat2_missing_audio_is_reported(tmp_path):
    from openinfp.data.readers.beat2 import Beat2Reader

    src = tmp_path / "beat2"
    _beat2_fixture(src)
    (src / "wave16k" / "2_scott_0_1_1.wav").unlink()
    reader = Beat2Reader()
    (item,) = reader.discover([str(src)])
    with pytest.raises(InputError, match="no audio found"):
        reader.read(item)


def test_resample_and_split_helpers():
    space = head_motion_space()
    T = 31
    ypr = torch.zeros(T, 3)
    ypr[:, 0] = torch.linspace(0, 0.6, T)
    motion = space.neutral(T)
    from openinfp.head.motion_space import head_rotation_from_euler

    motion = space.set(motion, "head_rotation", head_rotation_from_euler(ypr)).numpy()
    out = resample_motion(motion, space, 30.0, 25.0)
    assert out.shape == (25, 62)
    got = head_euler(torch.from_numpy(out))[:, 0].numpy()
    np.testing.assert_allclose(got, np.arange(25) * 30 / 25 * 0.02, atol=1e-3)
    ids = [f"clip{i}" for i in range(2000)]
    share = np.mean([split_for(i, 0.05) == "val" for i in ids])
    assert 0.03 < share < 0.07 and split_for("clip7", 0.05) == split_for("clip7", 0.05)
    # the synthetic SMPL-X rules and smplx_to_head agree on the head rotation (40/60 neck/head split)
    from openinfp.data.synth import PlannedConversation, synth_conversation

    conv = synth_conversation(PlannedConversation(2, 0, 8.0, "train"))
    head = conv.sides["a"].motion["head"]
    derived = smplx_to_head(conv.sides["a"].motion["smplx"])
    np.testing.assert_allclose(head_euler(torch.from_numpy(derived)).numpy(),
                               head_euler(torch.from_numpy(head)).numpy(), atol=1e-4)

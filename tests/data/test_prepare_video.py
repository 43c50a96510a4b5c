"""`openinfp prepare --format video` end to end on talking videos made here.

No real recording can be downloaded, so the test makes its own: a synthetic
conversation's ground-truth head motion is rendered onto a real photo
(``skimage.data.astronaut``) by the portrait renderer, muxed with that person's eSpeak
track into an MP4, and then prepared back: the real MediaPipe tracker must recover the
mouth opening and the audio must give the speech activity. Layouts: one face per video,
a NAME_a/NAME_b pair, and two faces side by side with stereo audio.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from openinfp.data.shards import ConversationShard, read_manifest
from openinfp.data.synth import PlannedConversation, synth_conversation
from openinfp.head.motion_space import head_motion_space

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def videos(tmp_path_factory, astronaut):
    from openinfp.core.interfaces import RenderSource
    from openinfp.core.motion import MotionSequence
    from openinfp.core.video import VideoWriter
    from openinfp.head.renderer import PortraitRenderer
    from openinfp.head.renderer_config import PortraitRendererConfig

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("videos")
    conv = synth_conversation(PlannedConversation(36, 0, 5.0, "train"))  # 9 s, both people talk ~40 %
    assert min(conv.sides[s].activity.mean() for s in ("a", "b")) > 0.3
    space = head_motion_space()
    renderer = PortraitRenderer(PortraitRendererConfig(size=256))
    renderer.setup(RenderSource(portrait=astronaut))
    frames = {}
    for side in ("a", "b"):
        seq = MotionSequence(torch.from_numpy(conv.sides[side].motion["head"]), space, 25.0)
        frames[side] = list(renderer.render(seq))
        with VideoWriter(root / "pair" / f"talk_{side}.mp4", fps=25.0, audio=conv.sides[side].audio, crf=12) as w:
            w.write_all(frames[side])
    (root / "single").mkdir()
    (root / "single" / "monologue.mp4").write_bytes((root / "pair" / "talk_a.mp4").read_bytes())
    stereo = np.stack([conv.sides["a"].audio, conv.sides["b"].audio], axis=1)
    with VideoWriter(root / "sbs" / "both.mp4", fps=25.0, audio=stereo, crf=12) as w:
        w.write_all(np.concatenate([fa, fb], axis=1) for fa, fb in zip(frames["a"], frames["b"]))
    return root, conv


def _jaw(motion: np.ndarray) -> np.ndarray:
    return head_motion_space().get_component(torch.from_numpy(motion), "arkit", "jawOpen").numpy()


def _scores(shard: ConversationShard, conv, side: str) -> dict[str, float]:
    """Tracked vs rendered jawOpen correlation; speech-activity recall, precision and agreement vs the script."""
    T = min(shard.num_frames, conv.num_frames)
    truth_jaw = _jaw(conv.sides[side].motion["head"])[:T]
    got_jaw = _jaw(shard.motion(side, "head"))[:T]
    truth_act = conv.sides[side].activity[:T] > 0.5
    got_act = shard.activity(side)[:T] > 0.5
    return {
        "jaw_r": float(np.corrcoef(truth_jaw, got_jaw)[0, 1]),
        "recall": float(got_act[truth_act].mean()),
        "precision": float(truth_act[got_act].mean()) if got_act.any() else 0.0,
        "agreement": float((truth_act == got_act).mean()),
    }


def test_prepare_single_pair_and_side_by_side_videos(videos, tmp_path):
    from openinfp.cli import main

    root, conv = videos
    out = tmp_path / "out"
    assert main(["prepare", str(root / "single"), str(root / "pair"), "--format", "video", "--out", str(out),
                 "--quiet"]) == 0
    assert main(["prepare", str(root / "sbs"), "--format", "video", "--layout", "side-by-side", "--out",
                 str(out), "--quiet"]) == 0
    rows = {r["id"]: r for r in read_manifest(out)}
    assert set(rows) == {"video-monologue", "video-talk", "video-both"}
    single = ConversationShard(out / rows["video-monologue"]["file"])
    pair = ConversationShard(out / rows["video-talk"]["file"])
    both = ConversationShard(out / rows["video-both"]["file"])
    assert single.sides == ["a"] and abs(single.num_frames - conv.num_frames) <= 2
    assert pair.sides == ["a", "b"] and both.sides == ["a", "b"]
    scores = {"single/a": _scores(single, conv, "a")}
    for side in ("a", "b"):
        scores[f"pair/{side}"] = _scores(pair, conv, side)
        scores[f"side-by-side/{side}"] = _scores(both, conv, side)
    print(json.dumps(scores), file=sys.stderr)
    for name, sc in scores.items():
        assert sc["jaw_r"] > 0.6, f"{name}: tracked jawOpen does not follow the rendered mouth {sc}"
        assert sc["recall"] > 0.8, f"{name}: speech in the script is missed by the activity {sc}"
        if not name.startswith("single"):  # one microphone alone also hears the partner's bleed
            assert sc["agreement"] > 0.8, f"{name}: activity disagrees with the script {sc}"

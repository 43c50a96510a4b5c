"""ConversationDataset: windows, both roles, splits, shard format checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from openinfp.core.errors import InputError
from openinfp.data.dataset import ConversationDataset, motion_stats
from openinfp.data.shards import (
    MANIFEST,
    Conversation,
    ConversationShard,
    Side,
    read_manifest,
    write_conversation,
    write_manifest,
)
from openinfp.data.synth import PlannedConversation, synth_conversation


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("shards")
    for plan in (PlannedConversation(1, 0, 18.0, "train"), PlannedConversation(1, 1, 14.0, "train"),
                 PlannedConversation(1, 7, 12.0, "val")):
        write_conversation(synth_conversation(plan), root / f"{plan.id}.safetensors")
    write_manifest(root)
    return root


def test_windows_shapes_and_keys(shards):
    ds = ConversationDataset(shards, space="head", window=50, context=10, split="train")
    assert ds.num_conversations == 2
    sample = ds[0]
    assert sample["agent_audio"].shape == (50 * 640,) and sample["agent_audio"].dtype == torch.float32
    assert sample["partner_audio"].shape == (50 * 640,)
    assert sample["motion"].shape == (50, 62) and sample["prev_motion"].shape == (10, 62)
    assert sample["agent_activity"].shape == (50,) and sample["partner_activity"].shape == (50,)
    assert isinstance(sample["style_text"], str) and sample["style_text"]
    loader = torch.utils.data.DataLoader(ds, batch_size=4, shuffle=True)
    batch = next(iter(loader))
    assert batch["motion"].shape == (4, 50, 62) and len(batch["style_text"]) == 4
    body = ConversationDataset(shards, space="smplx", window=30, context=5, split="train")
    assert body[1]["motion"].shape == (30, 385)


def test_windows_match_the_shard_and_context_precedes(shards):
    ds = ConversationDataset(shards, space="head", window=40, context=8, split="train")
    for i in (0, 3, len(ds) - 1):
        entry, start = ds.locate(i)
        sample = ds[i]
        shard = ConversationShard(entry.file)
        full = shard.motion(entry.agent, "head")
        np.testing.assert_array_equal(sample["motion"].numpy(), full[start:start + 40])
        np.testing.assert_array_equal(sample["prev_motion"].numpy(), full[start - 8:start])
        np.testing.assert_array_equal(sample["agent_audio"].numpy(),
                                      shard.audio(entry.agent)[start * 640:(start + 40) * 640])
        assert start >= 8 and start + 40 <= shard.num_frames


def test_both_roles_are_sampled_with_swapped_tracks(shards):
    ds = ConversationDataset(shards, space="head", window=40, context=8, split="val", hop=40)
    by_side = {}
    for i in range(len(ds)):
        entry, start = ds.locate(i)
        by_side.setdefault((entry.agent, start), ds[i])
    common = [start for side, start in by_side if side == "a" and ("b", start) in by_side]
    assert common, "both sides of the conversation are used as agent"
    a, b = by_side[("a", common[0])], by_side[("b", common[0])]
    torch.testing.assert_close(a["agent_audio"], b["partner_audio"])
    torch.testing.assert_close(a["partner_activity"], b["agent_activity"])
    assert a["style_text"] != b["style_text"] or not torch.equal(a["motion"], b["motion"])


def test_splits_are_disjoint_and_val_is_deterministic(shards):
    train = ConversationDataset(shards, split="train", window=30, context=5)
    val = ConversationDataset(shards, split="val", window=30, context=5)
    assert not {e.id for e in train.entries} & {e.id for e in val.entries}
    assert [val.locate(i)[1] for i in range(len(val))] == [val.locate(i)[1] for i in range(len(val))]
    # training offsets change with the epoch
    starts0 = [train.locate(i)[1] for i in range(len(train))]
    train.set_epoch(1)
    assert starts0 != [train.locate(i)[1] for i in range(len(train))]


def test_motion_stats(shards):
    mean, std = motion_stats(shards, "head")
    assert mean.shape == (62,) and std.shape == (62,)
    assert torch.all(std >= 0) and std.max() > 0.01


def test_bad_inputs(shards, tmp_path):
    with pytest.raises(InputError, match="no train conversations"):
        ConversationDataset(shards, window=100000)
    with pytest.raises(InputError, match="manifest.jsonl does not exist"):
        ConversationDataset(tmp_path)
    (tmp_path / MANIFEST).write_text("{not json\n")
    with pytest.raises(InputError, match="line 1 is not valid JSON"):
        read_manifest(tmp_path)
    with pytest.raises(InputError, match="split must be"):
        ConversationDataset(shards, split="test")


def test_writer_refuses_inconsistent_conversations(tmp_path):
    from openinfp.head.motion_space import head_motion_space

    T = 20
    neutral = head_motion_space().neutral(T).numpy()
    ok = Side(np.zeros(T * 640, np.float32), np.zeros(T, np.float32), {"head": neutral})
    short = Side(np.zeros(T * 640 - 5, np.float32), np.zeros(T, np.float32))
    out = tmp_path / "x.safetensors"
    with pytest.raises(InputError, match="side b: audio has"):
        write_conversation(Conversation("x", "test", "train", {"a": ok, "b": short}), out)
    bad_range = Side(np.zeros(T * 640, np.float32), np.zeros(T, np.float32), {"head": neutral + 2.0})
    with pytest.raises(InputError, match="'arkit' leaves its range"):
        write_conversation(Conversation("x", "test", "train", {"a": bad_range}), out)
    assert not list(tmp_path.iterdir())  # nothing half-written
    # a one-sided conversation (silent partner) is valid and loads with zero partner audio
    row = write_conversation(Conversation("solo", "test", "train", {"a": ok}), tmp_path / "solo.safetensors")
    assert row["sides"] == ["a"]
    write_manifest(tmp_path)
    ds = ConversationDataset(tmp_path, window=5, context=2)
    assert torch.count_nonzero(ds[0]["partner_audio"]) == 0
    # a foreign safetensors file is reported clearly
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(3, np.float32)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(InputError, match="not an openinfp conversation shard"):
        ConversationShard(tmp_path / "foreign.safetensors")
    assert json.loads((tmp_path / MANIFEST).read_text().splitlines()[0])["id"] == "solo"

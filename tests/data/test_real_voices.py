"""Real-voice mode of ``openinfp synth``: turns cut from real speech, rules driven by phone timing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from openinfp.data.head_rules import ANTICIPATION_S
from openinfp.data.real_speech import RealSpeechSpec, build_pool
from openinfp.data.synth import plan_conversation, synth_conversation
from openinfp.head.motion_space import head_euler, head_motion_space

pytestmark = pytest.mark.slow  # PocketSphinx timing of six utterances plus four conversations: ~40 s

VCTK = ("p225_003", "p225_008", "p225_011", "p226_003", "p226_008", "p226_011")


@pytest.fixture(scope="module")
def pool_spec(realdata, tmp_path_factory):
    """Two real speakers (VCTK p225, p226; three utterances each) linked into a pool folder."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("pool")
    for name in VCTK:
        spk = root / name.split("_")[0]
        spk.mkdir(exist_ok=True)
        (spk / f"{name}.flac").symlink_to(realdata / "speech" / "vctk" / f"{name}.flac")
    cache = root / "phones.json"
    pool = build_pool([root], cache)
    assert len(pool) == 6 and cache.is_file()
    return RealSpeechSpec((str(root),), str(cache), 1.0)


def _conversation(spec, index=1):
    plan = plan_conversation(5, index, 30, 40)
    # the pool's speakers may be held out by their hash; use the split that has them
    from openinfp.data.real_speech import is_val_speaker

    split = "val" if all(is_val_speaker(f"{spec.folders[0].rsplit('/', 1)[1]}/{s}") for s in ("p225", "p226")) \
        else "train"
    plan = type(plan)(plan.seed, plan.index, plan.target_seconds, split)
    return synth_conversation(plan, real=spec)


def test_pool_cache_is_reused(pool_spec):
    from pathlib import Path

    before = Path(pool_spec.cache_file).read_text()
    pool = build_pool(list(pool_spec.folders), pool_spec.cache_file)
    assert Path(pool_spec.cache_file).read_text() == before
    assert {u.speaker.rsplit("/", 1)[1] for u in pool} == {"p225", "p226"}


def test_real_voice_conversation_speaks_real_audio_with_exact_rules(pool_spec):
    conv = _conversation(pool_spec)
    segments = conv.events["segments"]
    space = head_motion_space()
    for side in ("a", "b"):
        assert conv.sides[side].info["voice"]["name"].startswith("real:")
        own = [s for s in segments if s["speaker"] == side]
        assert any(s["kind"] == "turn" for s in own)
        jaw = space.get_component(torch.from_numpy(conv.sides[side].motion["head"]), "arkit", "jawOpen").numpy()
        lead = int(round(ANTICIPATION_S * 25))  # the mouth leads the sound; undo that lead here
        jaw = np.concatenate([np.zeros(lead, jaw.dtype), jaw[: jaw.size - lead]])
        # jawOpen is 0 on frames the phone timing calls silent and open on speech frames
        grid = np.zeros(jaw.shape[0] * 8, dtype=bool)
        for seg in own:
            ph = seg["phonemes"]
            for i, (t0, p) in enumerate(ph):
                t1 = min(ph[i + 1][0] if i + 1 < len(ph) else seg["end"], seg["end"])
                if not p.startswith("_") and t1 > t0:
                    grid[int(np.floor(t0 * 200)): int(np.ceil(t1 * 200))] = True
        grid = grid.reshape(-1, 8)
        silent = ~grid.any(1)
        assert jaw[silent].max() == 0.0 and jaw[grid.mean(1) == 1].min() > 0.03
        # the audio is real speech where the phones say so (20 dB above the silences)
        audio = conv.sides[side].audio.reshape(-1, 640)
        rms = 10 * np.log10((audio ** 2).mean(1) + 1e-12)
        assert np.median(rms[grid.mean(1) == 1]) > np.median(rms[silent]) + 20
        # calibrated jaw: no frame-to-frame rise above the real-speaker limit
        assert np.diff(jaw).max() <= 0.12 + 1e-6


def test_listener_nods_at_real_phrase_ends(pool_spec):
    """Nods start near the partner's phrase ends (pauses in the real speech) while the listener is silent."""
    conv = _conversation(pool_spec, index=2)
    segments = conv.events["segments"]
    n_nods = 0
    for side, other in (("a", "b"), ("b", "a")):
        ends = []
        for seg in segments:
            if seg["speaker"] == other and seg["kind"] == "turn":
                ends += [t for t, p in seg["phonemes"] if p == "_:" and seg["start"] + 0.2 < t < seg["end"] - 0.05]
                ends.append(seg["end"])
        own_bc = [s["start"] for s in segments if s["speaker"] == side and s["kind"] == "backchannel"]
        for start, _ in conv.events[side]["nods"]:
            n_nods += 1
            near = min([abs(start - e - 0.1) for e in ends] + [abs(start - b) for b in own_bc])
            assert near <= 0.2, (side, start)
        ypr = head_euler(torch.from_numpy(conv.sides[side].motion["head"]))
        assert torch.isfinite(ypr).all()
    assert n_nods >= 2


def test_ratio_zero_is_the_espeak_corpus(pool_spec):
    plan = plan_conversation(5, 3, 25, 30)
    a = synth_conversation(plan)
    b = synth_conversation(plan, real=RealSpeechSpec(pool_spec.folders, pool_spec.cache_file, 0.0))
    np.testing.assert_array_equal(a.sides["a"].audio, b.sides["a"].audio)
    np.testing.assert_array_equal(a.sides["b"].motion["head"], b.sides["b"].motion["head"])

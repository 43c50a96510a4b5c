"""`score_clips`: every metric for a set of clips, with honest gaps."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.metrics.suite import EvalClip, SuiteOptions, fit_codebooks, score_clips

FPS, SR = 25.0, 16_000


def _clip(make_head, rng, n=250, name="c"):
    agent = np.zeros(n, bool)
    agent[: n // 2] = True
    partner = ~agent
    t = np.arange(n) / FPS
    wave = np.zeros(int(n / FPS * SR), np.float32)
    talk = np.repeat(agent, SR // int(FPS))[: wave.size]
    syll = 0.5 * (1 + np.sin(2 * np.pi * 4 * np.arange(wave.size) / SR))
    wave = (talk * syll * np.sin(2 * np.pi * 180 * np.arange(wave.size) / SR) * 0.3).astype(np.float32)
    jaw = np.where(agent, 0.3 + 0.3 * np.sin(2 * np.pi * 4 * t + rng.uniform(0, 1)), 0.02)
    pitch = 0.05 * np.sin(2 * np.pi * 0.5 * t + rng.uniform(0, 6))
    target = make_head(n, jaw=jaw, pitch=pitch, blendshapes={"mouthSmileLeft": np.where(partner, 0.4, 0.1)})
    partner_motion = make_head(n, jaw=np.where(partner, 0.4, 0.0), pitch=-pitch)
    return dict(name=name, agent_wave=wave, agent_active=agent, partner_active=partner, target=target,
                partner_motion=partner_motion), target


def test_ground_truth_scores_perfectly_and_static_face_scores_as_chance(make_head):
    rng = np.random.default_rng(0)
    made = [_clip(make_head, rng, name=f"c{i}") for i in range(3)]
    gt = [EvalClip(motion=target, **info) for info, target in made]
    options = SuiteOptions(sid_k=8)
    books = fit_codebooks([target for _, target in made], options)
    res = score_clips(gt, options=options, codebooks=books)
    v = res.values
    for key in ("fd_exp", "fd_pose", "pfd_exp", "pfd_pose", "l1_exp", "l2_exp", "rpcc_exp", "rpcc_pose"):
        assert v[key] == pytest.approx(0.0, abs=1e-9), key
    assert v["role_auc"] > 0.95
    assert v["lipsync_r"] > 0.3 and v["sid_exp"] > 0 and v["var_exp"] > 0
    assert "beat_consistency" in v and 0 <= v["beat_consistency"] <= 1

    static = [EvalClip(motion=make_head(target.num_frames), **info) for info, target in made]
    rs = score_clips(static, options=options, codebooks=books).values
    assert rs["role_auc"] == 0.5 and rs["nod_rate"] == 0.0 and rs["listen_head_energy"] == 0.0
    assert rs["var_exp"] == 0.0 and rs["sid_exp"] == 0.0 and rs["lipsync_r"] == 0.0
    assert rs["fd_exp"] > v["fd_exp"] and rs["l1_exp"] > 0


def test_missing_inputs_are_reported_with_reasons(make_head):
    rng = np.random.default_rng(1)
    info, target = _clip(make_head, rng)
    bare = score_clips([EvalClip(name="x", motion=target)])
    assert set(bare.values) == {"var_exp", "var_pose", "l1div_exp", "l1div_pose"}
    for key in ("fd_exp", "pfd_exp", "l1_exp", "sid_exp", "role_auc", "nod_rate", "lipsync_r", "beat_consistency"):
        assert bare.missing[key]
    assert "ground truth" in bare.missing["l1_exp"]
    d = bare.to_dict()
    assert set(d) == {"values", "missing"}

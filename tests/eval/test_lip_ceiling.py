"""The leave-one-clip-out linear read-out that measures how much lip motion features explain."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.errors import InputError
from openinfp.eval.lip_ceiling import leave_one_clip_out, mlp_fitter, single_signal_r, stack_context


def _clips(rng, n=5, t=300):
    gaps = []
    for _ in range(n):
        g = np.convolve(rng.normal(size=t + 8), np.ones(8) / 8, mode="valid")[:t]
        gaps.append(g)
    return gaps


def test_informative_features_score_high_and_noise_scores_near_zero():
    rng = np.random.default_rng(0)
    gaps = _clips(rng)
    informative = [np.column_stack([g + 0.05 * rng.normal(size=g.size), rng.normal(size=(g.size, 3))]) for g in gaps]
    noise = [rng.normal(size=(g.size, 4)) for g in gaps]
    assert np.mean(leave_one_clip_out(informative, gaps)) > 0.9
    assert np.mean(leave_one_clip_out(noise, gaps)) < 0.25


def test_read_out_is_fitted_on_other_clips_only():
    # Each clip's gap relates to the features with a flipped sign relative to all others in turn:
    # a fit that saw the held-out clip would score it positively; a fit on the others scores it negatively.
    rng = np.random.default_rng(1)
    gaps = _clips(rng, n=2)
    feats = [gaps[0][:, None].copy(), -gaps[1][:, None].copy()]
    rs = leave_one_clip_out(feats, gaps, alpha=0.0)
    assert all(r < -0.3 for r in rs), rs


def test_untracked_frames_are_skipped_and_context_stacks():
    rng = np.random.default_rng(2)
    gaps = _clips(rng, n=3)
    gaps[0][10:20] = np.nan
    feats = [g[:, None] + 0.1 * rng.normal(size=(g.size, 1)) for g in gaps]
    feats[0][10:20] = 0.0
    rs = leave_one_clip_out(feats, gaps, context=2)
    assert np.isfinite(rs).all() and min(rs) > 0.8
    assert stack_context(np.arange(6.0).reshape(3, 2), 1).shape == (3, 6)
    assert single_signal_r([g.copy() for g in gaps[1:]], gaps[1:])[0] == pytest.approx(1.0)


def test_too_few_clips_is_an_input_error():
    with pytest.raises(InputError):
        leave_one_clip_out([np.zeros((10, 1))], [np.zeros(10)])


def test_the_nonlinear_read_out_finds_what_a_linear_one_cannot():
    # The gap is the square of a feature column: no linear map of the column predicts it,
    # the MLP read-out (fitted on the other clips only) does.
    rng = np.random.default_rng(3)
    feats = [rng.normal(size=(400, 2)) for _ in range(4)]
    gaps = [f[:, 0] ** 2 for f in feats]
    linear = np.mean(leave_one_clip_out(feats, gaps))
    mlp = np.mean(leave_one_clip_out(feats, gaps, fitter=mlp_fitter(epochs=40)))
    assert linear < 0.3 and mlp > 0.8, (linear, mlp)

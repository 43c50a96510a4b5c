"""Diarization, two-track activity and mono-mix tracks on real recordings (``realdata``)."""

from __future__ import annotations

import numpy as np
import pytest

FPS = 25.0


def _load(path):
    import soundfile as sf

    return sf.read(str(path), dtype="float32")[0]


def _ref_masks(ref, names, num_frames, fps=FPS):
    t = (np.arange(num_frames) + 0.5) / fps
    masks = {n: np.zeros(num_frames, bool) for n in names}
    for a, b, s in ref:
        masks[s] |= (t >= a) & (t < b)
    return masks


@pytest.mark.parametrize("name,bar", [("ami_trn03_EN2001e", 0.02), ("ajinkya_sample_audio_1", 0.18),
                                      ("dualtalk_xkHwlcDSOjc_109_000", 0.22), ("dualtalk_UbjUDM1MiGE_72", 0.26),
                                      ("ami_dev01_ES2003b", 0.40)])
def test_real_two_speaker_der(realdata, name, bar):
    """Two-speaker real recordings, speaker count estimated. The bar of issue #16 is 0.15
    (no collar); these bars are what the diarizer reaches (docs/AUDIO.md: 0.007, 0.166,
    0.205, 0.245, 0.370; UbjUDM1MiGE was 0.289 before missing second voices were filled
    from the nearest turn; xkHwlcDSOjc 0.225 and ami_dev01 0.499 before re-segmentation took
    its centroids from the cannot-link clustering), so they catch regressions; only ami_trn03
    meets the issue's bar."""
    from openinfp.audio.der import read_rttm, score_report
    from openinfp.audio.diarize import diarization_error_rate, diarize_frames

    root = realdata / "conversations"
    result = diarize_frames(_load(root / f"{name}.flac"))
    ref = read_rttm(root / f"{name}.rttm")
    der, _ = diarization_error_rate(ref, result.segments)
    print(f"\n{name}: {score_report(ref, result.segments)}; {result.num_speakers} speakers found")
    assert result.num_speakers == 2 and der <= bar


def test_three_speakers_one_after_another_are_counted(realdata):
    from openinfp.audio.der import read_rttm
    from openinfp.audio.diarize import diarization_error_rate, diarize_frames

    root = realdata / "conversations"
    result = diarize_frames(_load(root / "picovoice_falcon_test.flac"))
    der, _ = diarization_error_rate(read_rttm(root / "picovoice_falcon_test.rttm"), result.segments)
    assert result.num_speakers == 3 and der <= 0.05


@pytest.mark.parametrize("name", ["dualtalk_UbjUDM1MiGE_72", "dualtalk_xkHwlcDSOjc_109_000"])
def test_two_track_activity_with_real_bleed(realdata, name):
    """One track per person, each hearing the other: the listener must not be marked as
    speaking while only the other person talks (plain VAD is, on up to 26 % of those frames)."""
    from openinfp.audio.activity import speech_activity, two_track_activity
    from openinfp.audio.der import read_rttm

    root = realdata / "conversations"
    a, b = _load(root / f"{name}.spk1.flac"), _load(root / f"{name}.spk2.flac")
    n = min(a.shape[0], b.shape[0])
    a, b = a[:n], b[:n]
    T = int(round(n / 16000 * FPS))
    act = dict(zip(("spk1", "spk2"), two_track_activity(a, b, FPS, T)[:2]))
    vad = {"spk1": speech_activity(a, FPS, T), "spk2": speech_activity(b, FPS, T)}
    ref = _ref_masks(read_rttm(root / f"{name}.rttm"), ("spk1", "spk2"), T)
    for me, other in (("spk1", "spk2"), ("spk2", "spk1")):
        listening = ref[other] & ~ref[me]
        false_active = np.mean(act[me][listening] > 0.5)
        recall = np.mean(act[me][ref[me]] > 0.5)
        print(f"\n{name} {me}: active while only the other talks {false_active:.1%} "
              f"(plain VAD {np.mean(vad[me][listening] > 0.5):.1%}), own speech found {recall:.1%}")
        assert false_active <= 0.10 and recall >= 0.70


@pytest.mark.parametrize("name,bar", [("ajinkya_sample_audio_1", 0.85), ("dualtalk_UbjUDM1MiGE_72", 0.70),
                                      ("dualtalk_xkHwlcDSOjc_109_000", 0.70)])
def test_mono_mix_tracks_carry_each_speakers_speech(realdata, name, bar):
    """``--mono-mix`` on a real two-person mix: the agent track sounds where the agent talks
    and is silent where only the partner talks (the tracks, not just the labels).

    Bars are what is reached (docs/AUDIO.md): on the DualTalk mixes the listener's track
    is silent in 72-97 % of the other's solo frames; the rest is overlap the diarizer
    marks where the (VAD-derived) reference has one voice (both tracks then carry the
    mix, 7-14 %) and turns given to the wrong voice (7-13 %)."""
    from openinfp.audio.config import AudioConfig
    from openinfp.audio.conversation import load_conversation
    from openinfp.audio.der import read_rttm

    root = realdata / "conversations"
    conv = load_conversation(root / f"{name}.flac", config=AudioConfig(mono_mix=True), fps=FPS)
    T = conv.agent_activity.shape[0]
    ref = _ref_masks(read_rttm(root / f"{name}.rttm"), ("spk1", "spk2"), T)
    # Which reference speaker the agent is: the one it overlaps most.
    agent_is = max(ref, key=lambda s: float(conv.agent_activity[ref[s]].sum()))
    partner_is = "spk2" if agent_is == "spk1" else "spk1"
    hop = int(16000 / FPS)
    energy = {k: np.array([np.sqrt(np.mean(w[t * hop:(t + 1) * hop] ** 2) + 1e-12) for t in range(T)])
              for k, w in (("agent", conv.agent), ("partner", conv.partner))}
    only_partner, only_agent = ref[partner_is] & ~ref[agent_is], ref[agent_is] & ~ref[partner_is]
    silent = lambda e, sel: np.mean(e[sel] < 1e-4)  # noqa: E731
    print(f"\n{name}: agent track silent during partner-only frames {silent(energy['agent'], only_partner):.1%}, "
          f"partner track silent during agent-only frames {silent(energy['partner'], only_agent):.1%}")
    print(f"agent active in agent-only frames {np.mean(conv.agent_activity[only_agent] > 0.5):.1%}, partner active "
          f"in partner-only frames {np.mean(conv.partner_activity[only_partner] > 0.5):.1%}")
    assert silent(energy["agent"], only_partner) >= bar and silent(energy["partner"], only_agent) >= bar
    assert np.mean(conv.agent_activity[only_agent] > 0.5) >= bar - 0.05
    assert np.mean(conv.partner_activity[only_partner] > 0.5) >= bar - 0.05


def test_cli_scores_against_a_reference(realdata, capsys):
    from openinfp.cli import main

    root = realdata / "conversations"
    assert main(["diarize", str(root / "picovoice_falcon_test.flac"), "--reference",
                 str(root / "picovoice_falcon_test.rttm")]) == 0
    out = capsys.readouterr().out
    assert "DER" in out and "0.25 s collar" in out
    assert main(["diarize", str(root / "picovoice_falcon_test.flac"), "-o", "x.rttm", "--speakers", "two"]) == 2
    assert "--speakers" in capsys.readouterr().err

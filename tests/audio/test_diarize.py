"""Diarization of a two-voice mono mix against the known turns; RTTM; the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from openinfp.audio.diarize import diarization_error_rate, diarize_frames, read_rttm, write_rttm


def test_der_metric_on_hand_made_cases():
    ref = [(0.0, 2.0, "A"), (2.0, 4.0, "B")]
    assert diarization_error_rate(ref, [(0.0, 2.0, 7), (2.0, 4.0, 3)])[0] == pytest.approx(0.0)  # labels mapped
    der, parts = diarization_error_rate(ref, [(0.0, 3.0, 0), (3.0, 4.0, 1)])
    assert der == pytest.approx(0.25, abs=0.01) and parts["confusion"] == pytest.approx(1.0, abs=0.02)
    der, parts = diarization_error_rate(ref, [(0.0, 2.0, 0)])
    assert der == pytest.approx(0.5, abs=0.01) and parts["missed"] == pytest.approx(2.0, abs=0.02)
    der, parts = diarization_error_rate(ref, [(0.0, 2.0, 0), (2.0, 5.0, 1)])
    assert parts["false_alarm"] == pytest.approx(1.0, abs=0.02)
    # A collar forgives boundary errors.
    assert diarization_error_rate(ref, [(0.0, 2.1, 0), (2.1, 4.0, 1)], collar=0.25)[0] == pytest.approx(0.0)


def test_two_voice_mix_der_at_most_10_percent(scripted):
    conv, turns = scripted
    mix = conv.agent + conv.partner
    result = diarize_frames(mix)
    ref = [(t.start, t.end, t.speaker) for t in turns]
    der, parts = diarization_error_rate(ref, result.segments)
    der_collar, _ = diarization_error_rate(ref, result.segments, collar=0.25)
    print(f"\nDER on a {conv.duration:.1f} s two-voice eSpeak mix ({len(turns)} turns): {der:.2%} "
          f"(missed {parts['missed']:.2f} s, false alarm {parts['false_alarm']:.2f} s, "
          f"confusion {parts['confusion']:.2f} s of {parts['total']:.2f} s); with 0.25 s collar {der_collar:.2%}")
    assert result.num_speakers == 2
    assert der <= 0.10
    # Speaker 0 is whoever speaks first (A here).
    assert result.segments[0].speaker == 0 and turns[0].speaker == "A"
    assert {s.speaker for s in result.segments} == {0, 1}


def test_mix_with_backchannels_reports_its_der(frames_where):
    """Overlapping backchannels: the segmentation model marks two speakers there, so the
    overlap is neither missed nor confused."""
    from openinfp.audio.script import script_to_conversation

    text = ("A: So tell me everything about the new job, from the very first day until now.\n"
            "B: Well, the first week was a blur of meetings, names and passwords, honestly too many to remember.\n"
            "A: And the people there, are they nice to work with?\n"
            "B: Mostly yes. My manager is calm and patient, and the team eats lunch together every day.\n")
    conv, turns = script_to_conversation(text, seed=3, backchannels=True)
    assert any(t.text in ("mm-hmm", "yeah", "right", "uh-huh", "okay", "I see", "mm") for t in turns)
    ref = [(t.start, t.end, t.speaker) for t in turns]
    result = diarize_frames(conv.agent + conv.partner)
    der, parts = diarization_error_rate(ref, result.segments)
    # Where both people talk (the backchannels), both speakers are active.
    grid_t = (np.arange(result.activity_matrix.shape[0]) + 0.5) / 100
    talk = {s: np.zeros(grid_t.shape[0], bool) for s in "AB"}
    for t in turns:
        talk[t.speaker] |= (grid_t >= t.start) & (grid_t < t.end)
    both = talk["A"] & talk["B"]
    assert both.sum() > 50 and np.mean(result.activity_matrix[both].sum(axis=1) >= 2) > 0.8
    print(f"\nDER with overlapping backchannels: {der:.2%} (missed {parts['missed']:.2f} s of "
          f"{parts['total']:.2f} s, confusion {parts['confusion']:.2f} s)")
    assert der <= 0.12 and parts["confusion"] <= 0.05 * parts["total"]


def test_one_voice_and_silence():
    from openinfp.audio.espeak import synthesize

    texts = ["I am the only one talking here, and I keep going for a while, sentence after sentence, "
             "without anyone else.", "The weather was fine yesterday, so we walked to the park and sat by the "
             "lake for most of the afternoon. Then it rained."]
    voice = np.concatenate([synthesize(t, voice="en-us", pitch=38).wave for t in texts])
    result = diarize_frames(voice)
    assert result.num_speakers == 1 and any("one voice" in n for n in result.notes)
    assert {s.speaker for s in result.segments} == {0}
    quiet = diarize_frames(np.zeros(32000, np.float32))
    assert quiet.num_speakers == 0 and quiet.segments == [] and "no speech found" in quiet.notes


def test_rttm_round_trip(tmp_path):
    segs = [(0.5, 1.25, 0), (1.5, 3.0, 1), (3.2, 4.0, 0)]
    path = write_rttm(segs, tmp_path / "out.rttm", file_id="my talk")
    lines = path.read_text().splitlines()
    assert lines[0] == "SPEAKER my_talk 1 0.500 0.750 <NA> <NA> spk0 <NA> <NA>"
    assert [(a, b, s) for a, b, s in read_rttm(path)] == [(0.5, 1.25, "spk0"), (1.5, 3.0, "spk1"), (3.2, 4.0, "spk0")]


def test_cli_diarize_writes_rttm(tmp_path, short_scripted, capsys):
    from openinfp.cli import main

    conv, turns = short_scripted
    audio = tmp_path / "mix.flac"
    sf.write(str(audio), conv.agent + conv.partner, 16000)
    out = tmp_path / "mix.rttm"
    assert main(["diarize", str(audio), "-o", str(out)]) == 0
    got = read_rttm(out)
    assert {s for _, _, s in got} == {"spk0", "spk1"}
    ref = [(t.start, t.end, t.speaker) for t in turns]
    assert diarization_error_rate(ref, got)[0] <= 0.10
    assert "2 speaker(s)" in capsys.readouterr().out
    assert main(["diarize", str(tmp_path / "missing.wav"), "-o", str(out)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_turn_units_split_at_pauses_only_between_long_enough_turns():
    from openinfp.audio.diarize import _turn_units

    a = np.zeros(100, bool)
    a[0:30] = True
    a[35:40] = True  # 5 frames after a pause: starts the second turn, which the next run completes
    a[50:90] = True
    assert _turn_units(a, min_turn=20, gap=3) == [(0, 30), (35, 90)]
    assert _turn_units(a, min_turn=41, gap=3) == [(0, 90)]  # the rest (45 frames) is long enough, the first turn not
    assert _turn_units(a, min_turn=10 ** 9, gap=3) == [(0, 90)]  # no splitting: one unit
    assert _turn_units(a, min_turn=20, gap=20) == [(0, 90)]  # pauses shorter than the gap
    assert _turn_units(np.zeros(10, bool), 5, 2) == []

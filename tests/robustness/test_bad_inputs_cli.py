"""Bad input through the command line: a specific one-line error, a non-zero exit code,
and nothing written (no output file, no temporary file left beside it).

``{d}`` is the folder of bad inputs (conftest), ``{o}`` an empty output folder.
"""

from __future__ import annotations

import pytest

CASES = [
    # --- images ---------------------------------------------------------------------
    ("image_missing", ["track", "{d}/missing.png", "-o", "{o}/m.npz"], "does not exist"),
    ("image_empty", ["track", "{d}/empty.png", "-o", "{o}/m.npz"], "is empty (0 bytes)"),
    ("image_text_behind_png", ["track", "{d}/text.png", "-o", "{o}/m.npz"], "is not an image file"),
    ("image_truncated", ["track", "{d}/truncated.png", "-o", "{o}/m.npz"], "is corrupt or truncated"),
    ("image_no_face", ["track", "{d}/coffee.png", "-o", "{o}/m.npz"], "no face found in"),
    ("image_too_small", ["track", "{d}/tiny.png", "-o", "{o}/m.npz"], "need at least 16 px"),
    ("image_decompression_bomb", ["track", "{d}/bomb.png", "-o", "{o}/m.npz"], "too large to decode safely"),
    # --- audio ----------------------------------------------------------------------
    ("audio_missing", ["tracks", "{d}/missing.wav", "-o", "{o}/t.wav"], "does not exist"),
    ("audio_empty", ["tracks", "{d}/empty.wav", "-o", "{o}/t.wav"], "is empty (0 bytes)"),
    ("audio_text_behind_wav", ["tracks", "{d}/text.wav", "-o", "{o}/t.wav"], "cannot decode audio file"),
    ("audio_image_behind_wav", ["tracks", "{d}/image.wav", "-o", "{o}/t.wav"], "has no audio stream"),
    ("audio_truncated_header", ["tracks", "{d}/truncated.wav", "-o", "{o}/t.wav"], "cannot decode audio file"),
    ("audio_zero_samples", ["tracks", "{d}/nodata.wav", "-o", "{o}/t.wav"], "holds no samples"),
    ("audio_nan_samples", ["tracks", "{d}/nan.wav", "-o", "{o}/t.wav"], "NaN or infinite samples"),
    ("audio_over_length_limit", ["tracks", "{d}/stereo.wav", "--max-duration", "1", "-o", "{o}/t.wav"],
     "over the limit of 1 s"),
    ("animate_audio_nan", ["animate", "{d}/astronaut.png", "{d}/nan.wav", "-o", "{o}/v.mp4", "-q"],
     "NaN or infinite samples"),
    ("animate_audio_over_length_limit", ["animate", "{d}/astronaut.png", "{d}/stereo.wav", "--max-duration", "1",
                                         "-o", "{o}/v.mp4", "-q"], "over the limit of 1 s"),
    # --- videos ---------------------------------------------------------------------
    ("video_is_audio_track", ["track", "{d}/stereo.wav", "-o", "{o}/m.npz"], "has no video stream"),
    ("video_is_audio_reenact", ["reenact", "{d}/astronaut.png", "{d}/stereo.wav", "-o", "{o}/v.mp4", "--quiet"],
     "has no video stream"),
    ("video_is_audio_check", ["check-video", "{d}/stereo.wav", "--side-by-side", "{o}/v.mp4", "--quiet"],
     "has no video stream"),
    # --- scripts --------------------------------------------------------------------
    ("script_empty", ["speak", "{d}/empty.txt", "-o", "{o}/s.wav"], "is empty (0 bytes)"),
    ("script_no_speaker_label", ["speak", "{d}/nolabel.txt", "-o", "{o}/s.wav"], "has no speaker label"),
    ("script_binary", ["speak", "{d}/binary.txt", "-o", "{o}/s.wav"], "is not UTF-8 text"),
    ("script_speaker_says_nothing", ["speak", "{d}/silent.txt", "-o", "{o}/s.wav"], "says nothing"),
    # --- configs --------------------------------------------------------------------
    ("config_unknown_key", ["config", "show", "default", "model.sampler.stepz=3"], "unknown config key"),
    ("config_wrong_type", ["config", "show", "default", "model.sampler.steps=abc"], "has the wrong type"),
    ("config_invalid_choice", ["config", "show", "default", "device=tpu"], "valid choices: cpu, cuda"),
    ("config_unknown_renderer", ["config", "show", "default", "renderer.name=nope"], "unknown renderer 'nope'"),
    ("config_unknown_preset", ["config", "show", "no-such-preset"], "unknown preset 'no-such-preset'"),
    ("config_yaml_syntax", ["config", "show", "{d}/bad.yaml"], "is not valid YAML"),
    ("config_yaml_not_mapping", ["config", "show", "{d}/list.yaml"], "must hold a mapping"),
    ("config_yaml_missing", ["config", "show", "{d}/missing.yaml"], "does not exist"),
    ("config_override_not_key_value", ["config", "show", "default", "steps"], "is not of the form key=value"),
    ("animate_unknown_conditioner", ["animate", "{d}/astronaut.png", "{d}/stereo.wav", "-o", "{o}/v.mp4", "-q",
                                     "--set", "conditioners=[{{name: nope}}]"], "unknown conditioner 'nope'"),
    ("animate_renderer_option_typo", ["animate", "{d}/astronaut.png", "{d}/stereo.wav", "-o", "{o}/v.mp4", "-q",
                                      "--set", "renderer.options.bogus=1"],
     "unknown config key 'renderer.options.bogus'"),
    # --- checkpoints ----------------------------------------------------------------
    ("checkpoint_missing", ["animate", "{d}/astronaut.png", "{d}/stereo.wav", "-o", "{o}/v.mp4", "-q",
                            "--checkpoint", "{d}/no-checkpoint"], "is not a folder"),
    ("checkpoint_pickled_weights", ["animate", "{d}/astronaut.png", "{d}/stereo.wav", "-o", "{o}/v.mp4", "-q",
                                    "--checkpoint", "{d}/pickle_ckpt"], "pickled weights are refused"),
    # --- motion files ---------------------------------------------------------------
    ("motion_pickled_objects", ["export", "{d}/object.npz", "-o", "{o}/m.csv"], "pickled objects, which are refused"),
    ("motion_not_an_archive", ["export", "{d}/text.npz", "-o", "{o}/m.csv"], "motion file"),
    ("motion_truncated", ["export", "{d}/truncated.npz", "-o", "{o}/m.csv"], "is not a readable .npz archive"),
    ("motion_missing_key", ["export", "{d}/nonames.npz", "-o", "{o}/m.csv"], "lacks names"),
    ("motion_unknown_space", ["export", "{d}/unknown_space.npz", "-o", "{o}/m.csv"],
     "unknown motion space 'tentacles'"),
    ("motion_mismatched_layout", ["export", "{d}/fewdims.npz", "-o", "{o}/m.csv"],
     "10 dimension names do not match motion space 'head'"),
    ("motion_wrong_space", ["export", "{d}/smplx.npz", "-o", "{o}/m.csv"], "needs motion in the 'head' space"),
    ("motion_nan", ["export", "{d}/nan.npz", "-o", "{o}/m.csv"], "NaN or infinite values"),
    ("motion_negative_fps", ["export", "{d}/negfps.npz", "-o", "{o}/m.csv"], "fps is -1; it must be between 1 and 240"),
    ("motion_integer_values", ["export", "{d}/int.npz", "-o", "{o}/m.csv"], "must be floating point"),
    ("render_motion_nan", ["render", "{d}/nan.npz", "--portrait", "{d}/astronaut.png", "-o", "{o}/v.mp4", "-q"],
     "NaN or infinite values"),
    # --- CLI arguments --------------------------------------------------------------
    ("cli_unknown_command", ["frobnicate"], "invalid choice: 'frobnicate'"),
    ("cli_missing_output", ["animate", "{d}/astronaut.png", "{d}/stereo.wav"], "required: -o/--output"),
    ("cli_negative_steps", ["animate", "{d}/astronaut.png", "{d}/stereo.wav", "-o", "{o}/v.mp4", "--steps", "-3"],
     "--steps must be at least 1"),
    ("cli_absurd_size", ["animate", "{d}/astronaut.png", "{d}/stereo.wav", "-o", "{o}/v.mp4", "--size", "7"],
     "--size must be between 64 and 4096"),
    ("cli_unknown_renderer", ["render", "{d}/good.npz", "--renderer", "nope", "-o", "{o}/v.mp4", "-q"],
     "unknown renderer 'nope'"),
    ("cli_video_wrong_extension", ["render", "{d}/good.npz", "--portrait", "{d}/astronaut.png", "-o", "{o}/v.avi",
                                   "-q"], "must end in .mp4"),
    ("cli_audio_wrong_extension", ["tracks", "{d}/stereo.wav", "-o", "{o}/t.mp3"], "must end in .wav or .flac"),
    ("cli_output_is_a_directory", ["tracks", "{d}/stereo.wav", "-o", "{d}/dir.wav"], "is a directory"),
    ("cli_verify_zero_frames", ["verify", "--max-frames", "0", "{d}/stereo.wav"], "--max-frames must be at least 1"),
]


@pytest.mark.parametrize("argv, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line_error_and_no_output(bad, tmp_path, run_cli, argv, message):
    out = tmp_path / "out"
    out.mkdir()
    argv = [a.format(d=bad, o=out) for a in argv]
    before = sorted(p.name for p in bad.iterdir())
    code, err = run_cli(argv)
    lines = err.strip().splitlines()
    assert code != 0, err
    # Our errors are exactly one line; argparse usage errors print the usage, then one error line.
    error = lines[-1]
    assert error.startswith("openinfp") and ": error: " in error and message in error, err
    if not err.startswith("usage:"):
        assert len(lines) == 1, err
    assert list(out.iterdir()) == [], "an output (or a temporary file) was left behind"
    assert sorted(p.name for p in bad.iterdir()) == before, "a file was written next to the inputs"
    assert not (bad / "PWNED_motion").exists()
    assert list((bad / "dir.wav").iterdir()) == []


"""Every `animate` flag reaches the config or the run (no silent no-ops)."""

from __future__ import annotations

import argparse

import numpy as np

from openinfp.cli import main
from openinfp.core.config import load_config
from openinfp.core.video import probe_video
from openinfp.pipeline.cli import _overrides, add_animate_arguments


def _parse(argv):
    parser = argparse.ArgumentParser()
    add_animate_arguments(parser)
    return parser.parse_args(argv)


def test_flags_become_config(full_registry, tmp_path):
    args = _parse(["p.png", "a.wav", "-o", "o.mp4", "--agent-channel", "right", "--agent-speaker", "most",
                   "--seed", "7", "--steps", "3", "--checkpoint", str(tmp_path), "--device", "cpu", "--size", "256",
                   "--smplx-model-dir", "/models", "--body", "skeleton", "--set", "output.crf=30"])
    cfg = load_config(args.config, _overrides(args), registry=full_registry)
    assert (cfg.audio.agent_channel, cfg.audio.agent_speaker, cfg.audio.mono_mix) == ("right", "most", True)
    assert (cfg.seed, cfg.model.sampler.steps, cfg.model.checkpoint) == (7, 3, str(tmp_path))
    assert (cfg.output.size, cfg.output.crf, cfg.body.model, cfg.body.smplx_model_dir) == (256, 30, "skeleton",
                                                                                            "/models")
    assert cfg.motion_space == "head"  # a custom checkpoint keeps its own (head) space
    cfg = load_config("default", _overrides(_parse(["p.png", "a.wav", "-o", "o.mp4", "--partner-only"])),
                      registry=full_registry)
    assert cfg.audio.partner_only and not cfg.audio.mono_mix


def test_prompt_and_style_image_add_their_conditioners(full_registry, smoke_checkpoint, conversation, astronaut_png):
    from openinfp.head.image_io import load_portrait
    from openinfp.pipeline.pipeline import ConversationPipeline

    _, conv, _ = conversation
    pipe = ConversationPipeline.from_preset("default", [f"model.checkpoint={smoke_checkpoint}"],
                                            registry=full_registry, show_progress=False)
    t = conv.num_frames(25.0)
    plain = pipe.encode_conditions(conv, t)
    assert sorted((c.name, c.role) for c in plain) == [("audio", "agent"), ("audio", "partner")]
    styled = pipe.encode_conditions(conv, t, prompt="calm, nods a lot while listening",
                                    style_image=load_portrait(astronaut_png))
    by_name = {c.name: c for c in styled}
    assert by_name["text"].kind == "global" and by_name["text"].dim == 384
    assert by_name["image"].kind == "global"


def test_script_prompt_and_style_image_run_end_to_end(tmp_path, astronaut_png, model_flags, capsys):
    script = tmp_path / "chat.txt"
    script.write_text("A: Hi there, nice to see you.\nB: Nice to see you too!\n", encoding="utf-8")
    out = tmp_path / "s.mp4"
    code = main(["animate", str(astronaut_png), "--script", str(script), "-o", str(out), "--prompt",
                 "calm speaker, nods a lot", "--style-image", str(astronaut_png), "--size", "128", "--steps", "2",
                 *model_flags, "--motion-out", str(tmp_path / "s.npz"), "-q"])
    assert code == 0, capsys.readouterr().err
    info = probe_video(out)
    assert info["has_audio"] and info["frames"] > 25
    from openinfp.core.motion import MotionSequence

    motion = MotionSequence.load(tmp_path / "s.npz")
    # the script's A lines are the agent: voice activity in the first turn, none before it
    voice = motion.annotations["agent_voice"]
    assert voice[:5].max() == 0 and voice.max() > 0.5 and np.isfinite(motion.motion.numpy()).all()

"""`ConversationPipeline` as a library: stage hooks, layouts, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from openinfp.core.audio import ConversationAudio
from openinfp.core.errors import InputError
from openinfp.core.hookspecs import hookimpl
from openinfp.core.motion import MotionSequence
from openinfp.pipeline.pipeline import AnimateInputs, AnimateOutputs, ConversationPipeline


class Recorder:
    """A plugin that watches a run and silences the mouth in ``post_process_motion``."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.frames: list[int] = []
        self.end_path = None

    @hookimpl
    def on_pipeline_start(self, config):
        self.events.append("start")

    @hookimpl
    def post_process_motion(self, motion, config):
        self.events.append("post_process")
        space = motion.space
        closed = motion.motion.clone()
        closed[:, space.component_index("arkit", "jawOpen")] = 0.0
        return MotionSequence(closed, space, motion.fps, dict(motion.annotations))

    @hookimpl
    def on_frame_rendered(self, index, frame):
        if not self.frames:
            self.events.append("frames")
        assert frame.dtype == np.uint8 and frame.ndim == 3
        self.frames.append(index)

    @hookimpl
    def on_pipeline_end(self, output_path, config):
        self.events.append("end")
        self.end_path = output_path


def _pipeline(registry, checkpoint, **overrides) -> ConversationPipeline:
    sets = [f"model.checkpoint={checkpoint}", "output.size=128", "model.sampler.steps=2"]
    sets += [f"{k}={v}" for k, v in overrides.items()]
    return ConversationPipeline.from_preset("default", sets, registry=registry, show_progress=False)


def test_stage_hooks_are_called_in_order_and_post_processing_is_used(tmp_path, astronaut_png, conversation,
                                                                     smoke_checkpoint):
    from openinfp.core.registry import Registry

    recorder = Recorder()
    registry = Registry.create(autoload=False, extra_plugins=[recorder])
    import torch

    wav, conv, _ = conversation
    pipe = _pipeline(registry, smoke_checkpoint)
    threads = torch.get_num_threads()
    result = pipe.run(AnimateInputs(portrait=astronaut_png, audio=wav),
                      AnimateOutputs(video=tmp_path / "v.mp4", motion=tmp_path / "m.npz"))
    assert torch.get_num_threads() == threads  # generation runs single-threaded, then restores
    assert recorder.events == ["start", "post_process", "frames", "end"]
    assert recorder.frames == list(range(result.motion.num_frames))
    assert recorder.end_path == str(tmp_path / "v.mp4")
    saved = MotionSequence.load(tmp_path / "m.npz")
    assert float(saved.space.get_component(saved.motion, "arkit", "jawOpen").abs().max()) == 0.0
    assert result.layout == "single" and result.real_time_factor > 0
    assert {"inputs", "motion", "render+encode", "total"} <= set(result.timings)


def test_layout_resolution(full_registry, smoke_checkpoint):
    n = 16_000
    speech = (0.1 * np.sin(np.arange(n) / 5.0)).astype(np.float32)
    talk = ConversationAudio(speech, np.zeros(n, np.float32))
    dialog = ConversationAudio(speech, speech[::-1].copy())
    head = _pipeline(full_registry, smoke_checkpoint)
    assert head.resolve_layout(AnimateInputs(), dialog) == "single"
    assert head.resolve_layout(AnimateInputs(partner_portrait="p.png"), dialog) == "pair"
    with pytest.raises(InputError, match="partner's portrait"):
        head.resolve_layout(AnimateInputs(layout="pair"), dialog)
    with pytest.raises(InputError, match="single layout"):
        head.resolve_layout(AnimateInputs(layout="single", partner_portrait="p.png"), dialog)
    body = _pipeline(full_registry, smoke_checkpoint, **{"body.model": "skeleton"})
    assert body.resolve_layout(AnimateInputs(), dialog) == "pair"
    assert body.resolve_layout(AnimateInputs(), talk) == "single"  # nobody to face: one body
    assert body.resolve_layout(AnimateInputs(layout="single"), dialog) == "single"
    assert body.renderer_choice()[0] == "skeleton"
    with pytest.raises(InputError, match="bodies are drawn as meshes"):
        body.resolve_layout(AnimateInputs(partner_portrait="p.png"), dialog)


def test_input_errors_name_the_problem(tmp_path, astronaut_png, conversation, full_registry, smoke_checkpoint):
    wav, _, _ = conversation
    pipe = _pipeline(full_registry, smoke_checkpoint)
    cases = [
        (AnimateInputs(portrait=astronaut_png), "no audio"),
        (AnimateInputs(portrait=astronaut_png, audio=wav, script="A: hi"), "not both"),
        (AnimateInputs(portrait=astronaut_png, partner_audio=wav), "without the agent's audio"),
        (AnimateInputs(portrait=tmp_path / "missing.png", audio=wav), "missing.png"),
        (AnimateInputs(portrait=astronaut_png, audio=wav, layout="diagonal"), "layout"),
    ]
    for inputs, message in cases:
        with pytest.raises(InputError, match=message):
            pipe.run(inputs, AnimateOutputs(video=tmp_path / "v.mp4"))
    with pytest.raises(InputError, match="must end in .csv"):
        pipe.run(AnimateInputs(portrait=astronaut_png, audio=wav),
                 AnimateOutputs(video=tmp_path / "v.mp4", arkit_csv=tmp_path / "face.txt"))
    assert list(tmp_path.iterdir()) == []


def test_pipelines_share_loaded_models_through_a_cache(full_registry, smoke_checkpoint):
    from openinfp.pipeline.pipeline import ModelCache

    cache = ModelCache()
    first = ConversationPipeline.from_preset("default", [f"model.checkpoint={smoke_checkpoint}", "seed=1"],
                                             registry=full_registry, show_progress=False, cache=cache)
    second = ConversationPipeline.from_preset("default", [f"model.checkpoint={smoke_checkpoint}", "seed=2"],
                                              registry=full_registry, show_progress=False, cache=cache)
    assert first.generator("head") is second.generator("head")
    assert first._conditioner("audio") is second._conditioner("audio")
    other = ConversationPipeline.from_preset("default", [f"model.checkpoint={smoke_checkpoint}"],
                                             registry=full_registry, show_progress=False)
    assert other.generator("head") is not first.generator("head")
    assert len(cache) == 2


def test_sampler_is_the_checkpoints_unless_the_config_says_otherwise(full_registry, smoke_checkpoint):
    base = ConversationPipeline.from_preset("default", [f"model.checkpoint={smoke_checkpoint}"],
                                            registry=full_registry, show_progress=False)
    gen = base.generator("head")
    own = base.sampler_for(gen)
    assert own == gen.sampler  # the smoke checkpoint's own sampler (2 steps)
    assert own.steps == 2
    tuned = ConversationPipeline.from_preset(
        "default", [f"model.checkpoint={smoke_checkpoint}", "model.sampler.steps=4",
                    "model.sampler.scheduler=dpmsolver++"], registry=full_registry, show_progress=False,
        cache=base.cache)
    chosen = tuned.sampler_for(tuned.generator("head"))
    assert (chosen.steps, chosen.scheduler, chosen.guidance_scale) == (4, "dpmsolver++", own.guidance_scale)
    assert base.sampler_for(gen) == own  # a later run with default settings gets the checkpoint's again

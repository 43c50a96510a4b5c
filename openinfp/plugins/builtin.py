"""The built-in plugin: registers every component that ships with openinfp.

Specs point at their implementations by import path, so nothing heavy is imported
until a component is actually built. Third-party plugins look exactly like this module.
"""

from __future__ import annotations

from openinfp.core.config import builtin_preset_dir
from openinfp.core.hookspecs import hookimpl
from openinfp.core.specs import (
    CliCommandSpec,
    ConditionerSpec,
    DatasetFormatSpec,
    GuiderSpec,
    MotionSpaceSpec,
    PresetSpec,
    RendererSpec,
)


@hookimpl
def register_motion_spaces() -> list[MotionSpaceSpec]:
    return [
        MotionSpaceSpec("head", "openinfp.head.motion_space:head_motion_space",
                        "head pose (6D rotation, translation, scale) + ARKit-52 blendshapes"),
        MotionSpaceSpec("smplx", "openinfp.body.motion_space:smplx_motion_space",
                        "55 SMPL-X joints (6D) + root translation + ARKit-52 face"),
    ]


@hookimpl
def register_conditioners() -> list[ConditionerSpec]:
    from openinfp.conditioners import options as copt  # light: dataclasses only

    return [
        ConditionerSpec("audio", "openinfp.conditioners.audio:AudioConditioner",
                        "both tracks at the motion rate: log-mel, energy, voicing, pitch, onset, speech activity",
                        config_cls=copt.AudioConditionerOptions, token_kind="frame", input="audio"),
        ConditionerSpec("phonetic", "openinfp.conditioners.phonetic:PhoneticConditioner",
                        "both tracks: PocketSphinx viseme posteriors (voice-independent) + the audio features",
                        config_cls=copt.PhoneticConditionerOptions, token_kind="frame", input="audio"),
        ConditionerSpec("text", "openinfp.conditioners.text:TextConditioner",
                        "behaviour/style prompt -> MiniLM sentence embedding (global [1, 384])",
                        config_cls=copt.TextConditionerOptions, token_kind="global", input="text"),
        ConditionerSpec("image", "openinfp.conditioners.image:ImageConditioner",
                        "reference photo's head pose + ARKit expression via the head tracker (global [1, 62])",
                        config_cls=copt.ImageConditionerOptions, token_kind="global", input="image"),
        ConditionerSpec("wav2vec2", "openinfp.conditioners.wav2vec2:Wav2Vec2Conditioner",
                        "both tracks through a local pretrained wav2vec2-style model (model_path option)",
                        config_cls=copt.Wav2Vec2ConditionerOptions, token_kind="frame", input="audio"),
    ]


@hookimpl
def register_renderers() -> list[RendererSpec]:
    from openinfp.body import config as bopt  # light: dataclasses only
    from openinfp.head.renderer_config import PortraitRendererConfig  # light: a dataclass only

    return [
        RendererSpec("portrait", "openinfp.head.renderer:PortraitRenderer",
                     "landmark-driven warp of a portrait photo (head pose + ARKit-52, mouth interior)",
                     config_cls=PortraitRendererConfig, motion_spaces=("head",)),
        RendererSpec("anny", "openinfp.body.anny_renderer:AnnyRenderer",
                     "open Anny body mesh retargeted from SMPL-X, ARKit face, CPU rasterizer (no model files)",
                     config_cls=bopt.AnnyRenderOptions, motion_spaces=("smplx",)),
        RendererSpec("skeleton", "openinfp.body.skeleton_renderer:SkeletonRenderer",
                     "3D stick figure over a generic SMPL-X skeleton (no model files)",
                     config_cls=bopt.SkeletonRenderOptions, motion_spaces=("smplx",)),
        RendererSpec("smplx", "openinfp.body.smplx_renderer:SmplxRenderer",
                     "your own SMPL-X model (model_dir / --smplx-model-dir) posed by the smplx package",
                     config_cls=bopt.SmplxRenderOptions, motion_spaces=("smplx",)),
    ]


@hookimpl
def register_guiders() -> list[GuiderSpec]:
    from openinfp.core.model_config import GuiderConfig  # light: dataclasses only

    return [
        GuiderSpec("interactive", "openinfp.core.guider:InteractiveMotionGuider",
                   "INFP interactive motion guider: agent audio -> verbal bank, partner audio -> non-verbal "
                   "bank, style-modulated", config_cls=GuiderConfig),
    ]


@hookimpl
def register_dataset_formats() -> list[DatasetFormatSpec]:
    from openinfp.data.config import Beat2Options, DualTalkOptions, VideoOptions  # light: dataclasses only

    return [
        DatasetFormatSpec("shards", "openinfp.data.prepare:ShardsReader",
                          "openinfp conversation shards (.safetensors + manifest.jsonl): validate and copy",
                          patterns=("manifest.jsonl", "*.safetensors")),
        DatasetFormatSpec("dualtalk", "openinfp.data.readers.dualtalk:DualTalkReader",
                          "DualTalk-style clips: speaker1/speaker2 .wav + ARKit blendshape arrays (.npy/.npz/.csv)",
                          config_cls=DualTalkOptions, patterns=("*/speaker1.wav", "*_speaker1.wav")),
        DatasetFormatSpec("beat2", "openinfp.data.readers.beat2:Beat2Reader",
                          "BEAT2 SMPL-X .npz (poses/trans/expressions) with the speaker's .wav",
                          config_cls=Beat2Options, patterns=("*.npz", "wave16k/*.wav")),
        DatasetFormatSpec("video", "openinfp.data.readers.video:VideoReader",
                          "talking videos: one face each, NAME_a/NAME_b pairs, or two faces side by side",
                          config_cls=VideoOptions, patterns=("*.mp4", "*_a.mp4", "*_b.mp4")),
    ]


@hookimpl
def register_cli_commands() -> list[CliCommandSpec]:
    return [
        CliCommandSpec("track", "track a face in an image or video -> head motion (.npz)",
                       "openinfp.head.cli:add_track_arguments", "openinfp.head.cli:run_track",
                       "Run MediaPipe's face mesh on INPUT (image, or video in tracking mode with smoothing that "
                       "does not lag the lips) and fit head pose + the 52 ARKit blendshapes. See docs/HEAD.md."),
        CliCommandSpec("export", "export a head motion file as a Live Link Face-style ARKit CSV",
                       "openinfp.head.cli:add_export_arguments", "openinfp.head.cli:run_export",
                       "Write MOTION.npz as CSV: timecode, the 52 ARKit weights, head yaw/pitch/roll (radians)."),
        CliCommandSpec("reenact", "animate a portrait with the head motion of a driving video",
                       "openinfp.head.cli:add_reenact_arguments", "openinfp.head.cli:run_reenact",
                       "Track DRIVING_VIDEO, transfer its motion relative to the driver's own neutral (estimated "
                       "over the clip) onto PORTRAIT (which keeps its own pose and face shape) and write an MP4 "
                       "with the driving video's audio. See docs/HEAD.md."),
        CliCommandSpec("check-video", "check the tracker and renderer on a real talking video",
                       "openinfp.head.cli:add_check_video_arguments", "openinfp.head.cli:run_check_video",
                       "Track VIDEO, compare the tracked jaw and blinks with the raw lip and lid gaps (and the "
                       "smoothing's lag), then self-reenact the video from its first frame and report the "
                       "landmark error in inter-ocular distances. No ground truth needed. See docs/HEAD.md."),
        CliCommandSpec("check-photos", "check the portrait renderer on real photos (framing, stripes, mouth, ...)",
                       "openinfp.head.cli:add_check_photos_arguments", "openinfp.head.cli:run_check_photos",
                       "Render each photo (files or folders) at listening, turned and extreme poses and check: the "
                       "head crop stays inside the photo, no edge stripes where the frame samples past it, grayscale "
                       "stays grayscale, a photo's own open mouth closes while listening, the background stays "
                       "still, no holes in the face, no smear. Prints a table; exit status 1 if a photo with a face "
                       "fails. See docs/HEAD.md."),
        CliCommandSpec("diarize", "who speaks when in a mono recording -> RTTM (and DER against a reference)",
                       "openinfp.audio.commands:add_diarize_arguments", "openinfp.audio.commands:run_diarize",
                       "Find the speakers of a mono recording (pyannote segmentation-3.0 + CAM++ speaker "
                       "embeddings + clustering; --speakers auto|N; overlapped speech gives two speakers) and "
                       "write standard RTTM (spk0 speaks first); --reference / --reference-dir score DER. "
                       "See docs/AUDIO.md."),
        CliCommandSpec("tracks", "split conversation audio into agent/partner tracks and speech activity",
                       "openinfp.audio.commands:add_tracks_arguments", "openinfp.audio.commands:run_tracks",
                       "Read AUDIO (stereo, two files, mono agent/partner, or a diarized mono mix) exactly as "
                       "`animate` does and write the agent (left) and partner (right) tracks, optionally the "
                       "per-frame speech activity as CSV: check which channel is whom before animating."),
        CliCommandSpec("speak", "speak a two-person script ('A: ...' / 'B: ...') with two eSpeak NG voices",
                       "openinfp.audio.commands:add_speak_arguments", "openinfp.audio.commands:run_speak",
                       "Synthesize SCRIPT as a two-track conversation (A = agent, left; B = partner, right) "
                       "with natural pauses and optional backchannels; optionally write the turns as RTTM."),
        CliCommandSpec("train", "train the motion generator (guider + diffusion transformer) on a corpus",
                       "openinfp.train_cli:add_train_arguments", "openinfp.train_cli:run_train",
                       "Cache conditioner features of the corpus in data.root, train the interactive motion guider "
                       "and motion DiT (one CPU process, or multi-GPU via `accelerate launch -m openinfp.cli train`), "
                       "save an EMA checkpoint, and evaluate it on held-out conversations. See docs/MODELS.md."),
        CliCommandSpec("animate", "animate a portrait from conversation audio (or a script) into an MP4",
                       "openinfp.pipeline.cli:add_animate_arguments", "openinfp.pipeline.cli:run_animate",
                       "Turn PORTRAIT into a participant of the conversation in AUDIO: it talks while its own "
                       "track speaks and listens while the partner speaks. Writes an H.264 MP4 with the audio."),
        CliCommandSpec("render", "render a saved motion file with any renderer into an MP4",
                       "openinfp.pipeline.cli:add_render_arguments", "openinfp.pipeline.cli:run_render",
                       "Draw MOTION.npz (from `animate --motion-out` or `track`) with a renderer chosen by name; "
                       "a second motion gives side-by-side portraits or a two-person body scene."),
        CliCommandSpec("demo", "serve the Gradio demo in a local browser tab",
                       "openinfp.pipeline.cli:add_demo_arguments", "openinfp.pipeline.cli:run_demo",
                       "Serve the Gradio demo (bound to 127.0.0.1 by default, analytics off, queued)."),
        CliCommandSpec("synth", "generate the synthetic two-person conversation corpus (shards + manifest)",
                       "openinfp.data.commands:add_synth_arguments", "openinfp.data.commands:run_synth",
                       "Script, speak (eSpeak NG) and animate two-person conversations with rule-based ground-truth "
                       "head and SMPL-X motion for both people; deterministic per --seed, resumable. "
                       "See docs/DATA.md."),
        CliCommandSpec("prepare", "turn recordings (DualTalk, BEAT2, videos, ...) into conversation shards",
                       "openinfp.data.commands:add_prepare_arguments", "openinfp.data.commands:run_prepare",
                       "Read recordings in a dataset layout (--format), track faces / load motion, split audio into "
                       "both people's tracks with speech activity, and write shards + manifest.jsonl; --shard i/n "
                       "splits the work across machines; resumable. See docs/DATA.md."),
        CliCommandSpec("beat2", "convert motion between openinfp .npz and the BEAT2/EMAGE SMPL-X layout",
                       "openinfp.body.cli:add_beat2_arguments", "openinfp.body.cli:run_beat2",
                       "Read a BEAT2/EMAGE .npz (poses T x 165 axis-angle, trans, expressions, mocap_frame_rate) and "
                       "write an openinfp smplx motion file, or the reverse (head motion is lifted onto a body). "
                       "See docs/BODY.md."),
        CliCommandSpec("live", "talk to the portrait through the microphone; it answers in real time",
                       "openinfp.live.cli:add_live_arguments", "openinfp.live.cli:run_live",
                       "Serve a page on this machine (default http://127.0.0.1:7861/) that sends the browser's "
                       "microphone (you, the partner) to a live session and shows the portrait's frames as they "
                       "are generated on the CPU; --agent-audio gives the portrait its own voice. See "
                       "docs/PIPELINE.md (Live mode)."),
        CliCommandSpec("bench", "time every stage on this machine (median, spread, real-time factor)",
                       "openinfp.eval.cli:add_bench_arguments", "openinfp.eval.cli:run_bench_cli",
                       "Time audio features, diarization, guider + DiT, tracking, every renderer, video encoding "
                       "and the end-to-end pipeline on a synthesized conversation; print a markdown table (and "
                       "write JSON with -o). Stages not installed are listed as unavailable. See docs/BENCHMARKS.md."),
        CliCommandSpec("eval", "score ground truth, baselines and the model with the field's metrics",
                       "openinfp.eval.cli:add_eval_arguments", "openinfp.eval.cli:run_eval_cli",
                       "Generate motion for each conversation of DATA (shards or audio + portrait pairs; default: "
                       "held-out synthetic conversations) with every system (ground truth, static face, rule-based "
                       "baseline, model, model without memory banks), score FD, P-FD, SID, Var, rPCC, L1/L2, beat "
                       "consistency, role AUC, nods, lip sync and image metrics, print markdown tables (and "
                       "JSON with -o). --human scores tracked real videos the same way. See docs/METRICS.md."),
        CliCommandSpec("verify", "check a video for openinfp's provenance tags and invisible watermark",
                       "openinfp.provenance.cli:add_arguments", "openinfp.provenance.cli:run",
                       "Report the container tags (generator, version, synthetic) and whether the invisible "
                       "watermark is present, with its score (standard normal for unmarked videos). Exit 0 if "
                       "every VIDEO is identified as openinfp output, 1 if not. See docs/PROVENANCE.md."),
    ]


@hookimpl
def register_presets() -> list[PresetSpec]:
    presets = []
    for path in sorted(builtin_preset_dir().glob("*.yaml")):
        first = path.read_text(encoding="utf-8").splitlines()[:1]
        description = first[0].lstrip("# ").strip() if first and first[0].startswith("#") else ""
        presets.append(PresetSpec(path.stem, str(path), description))
    return presets

"""The demo's Gradio page over a :class:`~openinfp.pipeline.demo.DemoBackend`.

Layout: inputs on the left; on the right, at the top, the Animate button with the run's
progress and status right under it, then the result. Only the inputs the chosen mode
uses are shown. See :mod:`openinfp.pipeline.demo` for the backend and the safety defaults.
"""

from __future__ import annotations

import sys
from typing import Any

from openinfp.core.errors import OpenInfpError
from openinfp.pipeline.demo import BODIES, EXAMPLE_SCRIPT, MAX_SEED, MODES, MONO_MEANINGS, DemoBackend
from openinfp.pipeline.demo_inputs import user_message


def _visible_inputs(mode: str) -> dict[str, bool]:
    """Which optional inputs a mode uses (the others are hidden)."""
    kind, layout = MODES.get(mode, ("none", "single"))
    return {"partner_portrait": kind == "none" and layout == "pair", "body": kind == "body"}


def _portrait_label(mode: str) -> str:
    kind, _ = MODES.get(mode, ("none", "single"))
    return "Portrait" if kind == "none" else "Portrait (optional: shown as the label of the body)"


def build_demo(backend: DemoBackend) -> Any:
    """The Gradio ``Blocks`` UI over ``backend`` (not launched).

    Layout: inputs on the left; on the right, at the top, the Animate button with the
    run's progress and status right under it, then the result. The Animate event runs
    with ``preprocess=False``: Gradio hands over the upload payloads untouched and
    :meth:`DemoBackend.run` checks them (see :mod:`openinfp.pipeline.demo_inputs`).
    """
    import gradio as gr

    ex = backend.examples()
    s = backend.settings

    def on_run(portrait, audio, partner_audio, mono, script, prompt, style, mode, partner_portrait, body, seed,
               steps, progress=gr.Progress(track_tqdm=True)):
        progress(0.0, desc="checking the inputs")
        try:
            out = backend.run(portrait, audio, partner_audio, mono, script, prompt, style, mode, partner_portrait,
                              body, seed, steps)
        except OpenInfpError as exc:
            message = user_message(str(exc))
            server_log(f"refused a request: {message}")
            return _refusal(message)
        except Exception as exc:  # a bug or an environment problem: one log line, a plain answer
            server_log(f"a run failed: {type(exc).__name__}: {user_message(str(exc))}")
            return _refusal("the run failed on the server. Try again, or with other inputs.")
        return out["video"], out["timeline"], out["files"], "**Done.** " + out["summary"]

    def _refusal(message: str):
        # shown under the button, where the user is looking (and as a notice at the corner)
        gr.Warning(message)
        return None, None, None, f"**Could not animate:** {message}"

    def on_mode(mode):
        shown = _visible_inputs(mode)
        return (gr.update(visible=shown["partner_portrait"]), gr.update(visible=shown["body"]),
                gr.update(label=_portrait_label(mode)))

    def on_partner_audio(partner_audio):
        return gr.update(visible=not partner_audio)

    with gr.Blocks(title="openinfp: conversational portraits", analytics_enabled=False,
                   delete_cache=(600, 3600)) as demo:
        gr.Markdown(
            "# openinfp\nA still portrait becomes a participant in a two-person conversation: it talks when "
            "its own voice speaks and listens (nods, smiles, blinks) while the partner speaks. "
            "Everything runs locally. **Every output is synthetic and carries provenance marks.**")
        with gr.Row():
            with gr.Column(scale=3):
                mode = gr.Radio(list(MODES), value="Head", label="Mode", elem_id="mode")
                with gr.Row():
                    portrait = gr.Image(type="filepath", sources=["upload"], label=_portrait_label("Head"),
                                        elem_id="portrait", height=220)
                    partner_portrait = gr.Image(type="filepath", sources=["upload"], elem_id="partner-portrait",
                                                label="Partner portrait", height=220, visible=False)
                body = gr.Dropdown(list(BODIES), value="anny", elem_id="body-model", visible=False,
                                   label="Body model (smplx needs your own model files)")
                with gr.Tab("Conversation audio"):
                    audio = gr.Audio(type="filepath", sources=["upload"], elem_id="audio",
                                     label="Conversation: stereo (left = portrait), or mono")
                    mono = gr.Radio(list(MONO_MEANINGS), value=list(MONO_MEANINGS)[0], elem_id="mono-meaning",
                                    label="If it is mono, it holds")
                    partner_audio = gr.Audio(type="filepath", sources=["upload"], elem_id="partner-audio",
                                             label="Partner's track as a second file (optional)")
                with gr.Tab("Script"):
                    script = gr.Textbox(lines=6, label="Two-person script (A = the portrait, B = the partner)",
                                        placeholder=EXAMPLE_SCRIPT, elem_id="script", max_length=5000)
                with gr.Accordion("Style and generation (optional)", open=False):
                    prompt = gr.Textbox(label="Behaviour prompt", elem_id="prompt", max_length=300,
                                        placeholder="calm speaker, nods a lot while listening")
                    style = gr.Image(type="filepath", sources=["upload"], label="Style image",
                                     elem_id="style-image", height=160)
                    with gr.Row():
                        seed = gr.Number(value=0, precision=0, label="Seed", elem_id="seed", minimum=0,
                                         maximum=MAX_SEED)
                        steps = gr.Slider(1, 50, value=10, step=1, label="Sampling steps", elem_id="steps")
            with gr.Column(scale=2):
                run = gr.Button("Animate", variant="primary", elem_id="run")
                status = gr.Markdown("Choose a portrait and a conversation, then press **Animate**. Progress "
                                     "shows here.", elem_id="status", min_height=60)
                video = gr.Video(label="Result", elem_id="result-video", format=None, autoplay=False)
                timeline = gr.Image(label="Timeline: speech, mouth and head activity", elem_id="timeline",
                                    type="filepath", interactive=False)
                files = gr.File(label="Downloads (motion .npz, ARKit CSV, timeline, video)", file_count="multiple",
                                elem_id="downloads", interactive=False)
        gr.Examples(
            examples=[[str(ex["portrait"]), str(ex["conversation"]), "", "Head"],
                      [str(ex["portrait"]), None, ex["script"].read_text(encoding="utf-8"), "Head"]],
            inputs=[portrait, audio, script, mode], label="Examples (astronaut photo, eSpeak NG conversation)")
        gr.Markdown(f"Limits: uploads up to {s.max_upload_mb:g} MB, conversations up to {s.max_audio_s:g} s; "
                    f"{s.concurrency} run(s) at a time, {s.queue_size} waiting at most.")
        mode.change(on_mode, mode, [partner_portrait, body, portrait], queue=False, api_visibility="private")
        partner_audio.change(on_partner_audio, partner_audio, mono, queue=False, api_visibility="private")
        run.click(on_run, [portrait, audio, partner_audio, mono, script, prompt, style, mode, partner_portrait,
                           body, seed, steps], [video, timeline, files, status],
                  concurrency_limit=s.concurrency, preprocess=False, show_progress="full",
                  show_progress_on=[status], api_name="on_run")
    demo.queue(max_size=s.queue_size, default_concurrency_limit=s.concurrency)
    return demo


def server_log(line: str) -> None:
    """The demo server's one line per refused or failed request, on its stderr (like a web
    server's request log; the browser gets the short message instead)."""
    print(f"openinfp demo: {line}", file=sys.stderr, flush=True)

"""Every hook a plugin can implement, grouped by stage.

A plugin is any module or object with functions decorated by :data:`hookimpl`
(``from openinfp.core.hookspecs import hookimpl``), published through the
``openinfp`` entry-point group::

    [project.entry-points.openinfp]
    my_plugin = "my_package.plugin"

The built-in features are registered through these same hooks by
:mod:`openinfp.plugins.builtin`.

Each hook's docstring states **when it is called** and **how results combine**; a
test enforces this.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np

    from openinfp.core.motion import MotionSequence
    from openinfp.core.specs import (
        CliCommandSpec,
        ConditionerSpec,
        DatasetFormatSpec,
        GuiderSpec,
        MotionSpaceSpec,
        PresetSpec,
        RendererSpec,
    )

PROJECT_NAME = "openinfp"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


# --------------------------------------------------------------------------------------
# Registration: what a plugin provides
# --------------------------------------------------------------------------------------


@hookspec
def register_conditioners() -> "list[ConditionerSpec]":
    """Return the conditioners this plugin provides.

    When called: once, when a :class:`~openinfp.core.registry.Registry` is built (CLI
    start, pipeline construction, ``openinfp plugins``).

    How results combine: all results are collected; the lists from every plugin are
    concatenated. Two specs with the same name are an error naming both plugins.
    """


@hookspec
def register_motion_spaces() -> "list[MotionSpaceSpec]":
    """Return the motion spaces this plugin provides (e.g. ``head``, ``smplx``).

    When called: once, when a registry is built.

    How results combine: all results are collected and concatenated; duplicate names
    are an error.
    """


@hookspec
def register_renderers() -> "list[RendererSpec]":
    """Return the renderers this plugin provides (portrait warp, body mesh, skeleton, ...).

    When called: once, when a registry is built.

    How results combine: all results are collected and concatenated; duplicate names
    are an error.
    """


@hookspec
def register_guiders() -> "list[GuiderSpec]":
    """Return the motion guiders this plugin provides (condition tokens -> motion features).

    When called: once, when a registry is built.

    How results combine: all results are collected and concatenated; duplicate names
    are an error.
    """


@hookspec
def register_dataset_formats() -> "list[DatasetFormatSpec]":
    """Return the dataset formats / corpus readers this plugin provides.

    When called: once, when a registry is built.

    How results combine: all results are collected and concatenated; duplicate names
    are an error.
    """


@hookspec
def register_cli_commands() -> "list[CliCommandSpec]":
    """Return subcommands to add to the ``openinfp`` CLI.

    When called: once per CLI invocation, while the argument parser is built.

    How results combine: all results are collected and concatenated; a name that is
    already taken (by the CLI itself or another plugin) is an error.
    """


@hookspec
def register_presets() -> "list[PresetSpec]":
    """Return YAML config presets this plugin ships.

    When called: when presets are listed or a preset is looked up by name.

    How results combine: all results are collected and concatenated; duplicate names
    are an error.
    """


# --------------------------------------------------------------------------------------
# Pipeline stage hooks: observe or adjust a run
# --------------------------------------------------------------------------------------


@hookspec
def on_pipeline_start(config: Any) -> None:
    """Observe the resolved config at the start of a pipeline run.

    When called: once per run, after the config is resolved and before any input is read.

    How results combine: all implementations are called; return values are ignored.
    """


@hookspec
def post_process_motion(motion: "MotionSequence", config: Any) -> "Optional[MotionSequence]":
    """Adjust generated motion before it is rendered or saved.

    When called: once per run (per participant), after motion generation and before
    rendering.

    How results combine: implementations are chained: each receives the motion as left
    by the previous one (pluggy order: last registered first) and returns a new
    :class:`MotionSequence` to replace it, or ``None`` to keep it unchanged
    (see :func:`openinfp.core.plugins.call_chain`).
    """


@hookspec
def on_frame_rendered(index: int, frame: "np.ndarray") -> None:
    """Observe each rendered frame (``[H, W, 3]`` uint8 RGB) before it is encoded.

    When called: once per output frame, in order, during rendering.

    How results combine: all implementations are called; return values are ignored.
    Implementations must not modify ``frame`` in place.
    """


@hookspec
def on_pipeline_end(output_path: str, config: Any) -> None:
    """Observe a finished run.

    When called: once per successful run, after the output file is moved into place.

    How results combine: all implementations are called; return values are ignored.
    """

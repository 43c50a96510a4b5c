"""The timeline plot: both people's speech activity and the agent's mouth and head over time.

One PNG with three stacked panels sharing the time axis:

1. speech activity of the agent (the portrait's own voice) and of the partner;
2. the agent's mouth openness (ARKit ``jawOpen``), with agent speech shaded behind it;
3. the agent's head angular speed (deg/s), with partner speech shaded behind it,
   since listening shows as nods and head motion.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np

from openinfp.core.audio import ConversationAudio
from openinfp.core.io import PathLike, atomic_output
from openinfp.core.motion import MotionSequence
from openinfp.pipeline.activity_signals import head_activity, mouth_activity, speech_activity

AGENT_COLOUR = "#1f77b4"
PARTNER_COLOUR = "#ff7f0e"


def _shade(ax, times: np.ndarray, active: np.ndarray, colour: str) -> None:
    """Shade spans where ``active > 0.5``."""
    on = np.asarray(active) > 0.5
    if not on.any():
        return
    edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
    dt = times[1] - times[0] if times.shape[0] > 1 else 0.04
    for start, stop in zip(edges[0::2], edges[1::2]):
        ax.axvspan(times[start], times[stop - 1] + dt, color=colour, alpha=0.15, lw=0)


def plot_timeline(
    path: PathLike,
    audio: ConversationAudio,
    motion: MotionSequence,
    title: str = "",
    partner_motion: Optional[MotionSequence] = None,
) -> Path:
    """Write the timeline PNG (atomically) and return its path.

    Args:
        path: output ``.png``.
        audio: the conversation as seen by the agent (agent = the portrait's voice).
        motion: the agent's motion ``[T, D]`` (any space with a ``jawOpen`` component
            and a head rotation; missing parts plot as zero).
        title: figure title.
        partner_motion: when the partner is animated too, its mouth is drawn as well.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)  # headless; never opens a window
    from matplotlib.figure import Figure  # object API: no global pyplot state

    fps = motion.fps
    t_frames = motion.num_frames
    times = np.arange(t_frames) / fps
    agent_act, partner_act = speech_activity(audio, fps, t_frames)
    mouth = mouth_activity(motion)
    head = head_activity(motion)

    fig = Figure(figsize=(10, 5.6), dpi=100)
    axes = fig.subplots(3, 1, sharex=True)
    ax = axes[0]
    ax.fill_between(times, 0, agent_act, step="post", color=AGENT_COLOUR, alpha=0.6, label="agent speaks")
    ax.fill_between(times, 0, -partner_act, step="post", color=PARTNER_COLOUR, alpha=0.6, label="partner speaks")
    ax.set_ylim(-1.15, 1.15)
    ax.set_yticks([-1, 0, 1], ["partner", "", "agent"])
    ax.set_ylabel("speech")
    ax.legend(loc="upper right", fontsize=8, ncol=2)

    ax = axes[1]
    _shade(ax, times, agent_act, AGENT_COLOUR)
    ax.plot(times, mouth, color=AGENT_COLOUR, lw=1.2, label="agent jawOpen")
    if partner_motion is not None:
        ax.plot(times[:partner_motion.num_frames], mouth_activity(partner_motion)[:t_frames],
                color=PARTNER_COLOUR, lw=1.0, alpha=0.8, label="partner jawOpen")
    ax.set_ylim(0, max(0.05, float(mouth.max()) * 1.1 if mouth.size else 1.0))
    ax.set_ylabel("mouth open")
    ax.legend(loc="upper right", fontsize=8)

    ax = axes[2]
    _shade(ax, times, partner_act, PARTNER_COLOUR)
    ax.plot(times, head, color="#2ca02c", lw=1.0, label="agent head speed")
    ax.set_ylim(0, max(5.0, float(head.max()) * 1.1 if head.size else 5.0))
    ax.set_ylabel("head (deg/s)")
    ax.set_xlabel("time (s)")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(0, max(times[-1] if t_frames else 0.0, 1.0 / fps))

    fig.suptitle(title or "conversation timeline (shaded: speech)")
    fig.tight_layout()
    target = Path(path)
    with atomic_output(target, suffix=".png") as tmp:
        fig.savefig(tmp, format="png")
    return target

"""How a single mono upload is read, as config overrides (shared by the CLI and the demo)."""

from __future__ import annotations

from openinfp.core.errors import InputError

MONO_MODES = ("agent", "partner", "mix")
"""``agent``: the portrait's own voice only (plain talking head); ``partner``: the
partner only (pure listening); ``mix``: both people in one track (diarized)."""


def mono_overrides(mode: str) -> list[str]:
    """``audio.*`` overrides for a mono file read as ``mode`` (see :data:`MONO_MODES`)."""
    if mode not in MONO_MODES:
        raise InputError(f"mono audio mode {mode!r} is not one of {', '.join(MONO_MODES)}")
    return [f"audio.partner_only={'true' if mode == 'partner' else 'false'}",
            f"audio.mono_mix={'true' if mode == 'mix' else 'false'}"]

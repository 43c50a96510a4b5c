"""The flags every ``openinfp`` subcommand spells the same way.

One vocabulary on every command: ``-o/--output`` where a command writes one file (or one
folder), ``-q/--quiet`` everywhere (nothing but errors on stderr), ``-c/--config PRESET``
and ``--set KEY=VALUE`` where a command has a config. Older spellings (``--out``,
``--json PATH``, ``--no-progress``, ``--preset``, positional ``key=value``) keep working as
hidden aliases so scripts written against earlier versions do not break.

Imports nothing heavy: the CLI builds every parser at start-up.
"""

from __future__ import annotations

import argparse
from typing import Any, Optional, Sequence

LEGACY_OVERRIDES_DEST = "_legacy_overrides"
"""Destination of the hidden positional ``key=value`` overrides (merged into ``overrides``)."""


def add_quiet(parser: argparse.ArgumentParser, old: Sequence[str] = ()) -> None:
    """``-q/--quiet``: no progress, notes or third-party messages; only errors reach stderr.

    Args:
        old: hidden alias flags that mean the same (e.g. ``--no-progress``).
    """
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="nothing on stderr but errors (no progress bars, stage messages or notes)")
    for flag in old:
        parser.add_argument(flag, dest="quiet", action="store_true", help=argparse.SUPPRESS)


def add_output(parser: argparse.ArgumentParser, metavar: str, help: str, required: bool = True,
               old: Sequence[str] = (), default: Optional[str] = None) -> None:
    """``-o/--output`` (dest ``output``), with hidden alias flags such as ``--out``."""
    target = parser.add_mutually_exclusive_group(required=required) if old else parser
    kwargs = {} if old else {"required": required}
    target.add_argument("-o", "--output", metavar=metavar, default=default, help=help, **kwargs)
    for flag in old:
        target.add_argument(flag, dest="output", metavar=metavar, default=default, help=argparse.SUPPRESS)


def add_config(parser: argparse.ArgumentParser, default: str = "default", old: Sequence[str] = (),
               legacy_positional: bool = False) -> None:
    """``-c/--config PRESET`` (dest ``config``) and repeatable ``--set KEY=VALUE`` (dest ``overrides``).

    Args:
        default: preset used when ``-c`` is not given.
        old: hidden alias flags for ``--config`` (``--preset``).
        legacy_positional: also accept trailing positional ``key=value`` overrides
            (hidden; :func:`merge_legacy_overrides` puts them before the ``--set`` ones).
    """
    parser.add_argument("-c", "--config", default=default, metavar="PRESET",
                        help=f"config preset name or .yaml path (see `openinfp config list`; default: {default})")
    for flag in old:
        parser.add_argument(flag, dest="config", metavar="PRESET", help=argparse.SUPPRESS)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="config override, repeatable (e.g. --set model.sampler.steps=20)")
    if legacy_positional:
        parser.add_argument(LEGACY_OVERRIDES_DEST, nargs="*", default=[], help=argparse.SUPPRESS)


def add_field_option(parser: Any, flag: str, cls: type, name: str, *, context: str = "", note: str = "",
                     default: Any = None, **kwargs: Any) -> argparse.Action:
    """A flag for config field ``name`` of dataclass ``cls``: its choices and help come from the field.

    The field's metadata is the one source of an option's valid values and meaning; the
    flag only adds CLI wording around it. ``tests/core/test_option_choices.py`` checks that every
    flag with choices either is made here or is a listed CLI-only option.

    Args:
        parser: a parser or an argument group.
        context: words put before the field's help (e.g. ``"stereo input: "``).
        note: words put after the default inside the parentheses (e.g. ``"; implies --mono-mix"``).
        default: the flag's value when absent (``None``: the config decides).
        kwargs: passed on to ``add_argument`` (``metavar``, ``dest``, ...).
    Returns:
        the argparse action, with ``config_field = (cls, name)``.
    """
    from openinfp.core.config import field_choices, field_default, field_help

    shown = field_default(cls, name) if default is None else default
    text = f"{context}{field_help(cls, name)} (default: {shown}{note})".replace("%", "%%")
    action = parser.add_argument(flag, choices=field_choices(cls, name), default=default, help=text, **kwargs)
    action.config_field = (cls, name)
    return action


def merge_legacy_overrides(args: argparse.Namespace) -> None:
    """Fold hidden positional ``key=value`` overrides into ``args.overrides`` (in place)."""
    legacy = getattr(args, LEGACY_OVERRIDES_DEST, None)
    if legacy:
        args.overrides = list(legacy) + list(getattr(args, "overrides", None) or [])
    if hasattr(args, LEGACY_OVERRIDES_DEST):
        delattr(args, LEGACY_OVERRIDES_DEST)

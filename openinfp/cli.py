"""The ``openinfp`` command line.

The CLI owns three commands (``plugins``, ``config``, and ``--version``); every other
subcommand comes from a plugin's ``register_cli_commands`` hook (the built-in plugin
contributes ``animate``, ``track``, ... as their features exist). User errors
(:class:`~openinfp.core.errors.OpenInfpError`) print one line and exit non-zero.
SIGTERM (``kill``, a timeout, a service stop) is handled like Ctrl-C: the run unwinds,
temporary outputs are removed, and the exit code is 143.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import signal
import sys
import threading
from typing import Iterator, Optional, Sequence

from openinfp import __version__
from openinfp.core.errors import OpenInfpError
from openinfp.core.logs import configure_cli_logging

_OWN_COMMANDS = ("plugins", "config")
_FILE_SYSTEM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM,
                                 errno.ENAMETOOLONG, errno.ENOTDIR, errno.EISDIR, errno.EEXIST, errno.ENOENT})


def _add_plugins_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list every registered component and the package it came from",
                       description="List conditioners, motion spaces, renderers, guiders, dataset formats, "
                                   "CLI commands and presets, each with the plugin package that registered it.")
    p.add_argument("-v", "--verbose", action="store_true", help="also show motion-space layouts")
    p.set_defaults(_run=_run_plugins)


def _run_plugins(args: argparse.Namespace) -> int:
    from openinfp.core.registry import describe_component

    registry = args._registry
    titles = {
        "conditioners": "Conditioners", "motion_spaces": "Motion spaces", "renderers": "Renderers",
        "guiders": "Guiders", "dataset_formats": "Dataset formats",
    }
    for kind, title in titles.items():
        print(f"{title}:")
        entries = registry.entries(kind)
        if not entries:
            print("  (none)")
        for name in sorted(entries):
            reg = entries[name]
            print(f"  {name:<16} {describe_component(reg.spec)}  <- {reg.source}")
            if args.verbose and kind == "motion_spaces":
                print("    " + registry.motion_space(name).describe().replace("\n", "\n    "))
    print("CLI commands:")
    for reg in registry.cli_commands():
        print(f"  {reg.spec.name:<16} {reg.spec.help}  <- {reg.source}")
    print("Config presets:")
    for name, reg in sorted(registry.entries("presets").items()):
        print(f"  {name:<16} {reg.spec.description}  <- {reg.source}")
    return 0


def _add_config_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show or list configuration presets",
                       description="Inspect configuration presets and overrides.")
    csub = p.add_subparsers(dest="config_cmd", metavar="{show,list,keys}")
    csub.required = True
    show = csub.add_parser("show", help="print the merged config of a preset (with key=value overrides)",
                           description="Print PRESET merged over the defaults, with overrides applied and "
                                       "plugin options filled in, as YAML.")
    show.add_argument("preset", nargs="?", default="default", help="preset name or .yaml path (default: default)")
    show.add_argument("overrides", nargs="*", metavar="key=value", help="config overrides")
    show.set_defaults(_run=_run_config_show)
    lst = csub.add_parser("list", help="list the available presets")
    lst.set_defaults(_run=_run_config_list)
    keys = csub.add_parser("keys", help="list every config key with its type, default, bounds and help",
                           description="Every config key (what --set KEY=VALUE accepts): type, default, "
                                       "the valid range or choices, and what it does.")
    keys.set_defaults(_run=_run_config_keys)


def _run_config_show(args: argparse.Namespace) -> int:
    from openinfp.core.config import load_config, to_yaml

    cfg = load_config(args.preset, args.overrides, registry=args._registry)
    print(to_yaml(cfg), end="")
    return 0


def _run_config_keys(args: argparse.Namespace) -> int:
    from openinfp.core.config import describe_fields

    for line in describe_fields():
        print(line)
    return 0


def _run_config_list(args: argparse.Namespace) -> int:
    for name, spec in sorted(args._registry.presets().items()):
        print(f"{name:<16} {spec.description}")
    return 0


def build_parser(registry) -> argparse.ArgumentParser:
    """The full argument parser: own commands plus every plugin command."""
    parser = argparse.ArgumentParser(
        prog="openinfp",
        description="Animate a still portrait as a participant in a two-person conversation.",
    )
    parser.add_argument("--version", action="version", version=f"openinfp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_plugins_command(sub)
    _add_config_command(sub)
    taken = set(_OWN_COMMANDS)
    for reg in registry.cli_commands():
        spec = reg.spec
        if spec.name in taken:
            raise OpenInfpError(f"CLI command {spec.name!r} from {reg.source} clashes with an existing command")
        taken.add(spec.name)
        p = sub.add_parser(spec.name, help=spec.help, description=spec.description or spec.help)
        spec.load_add_arguments()(p)
        p.set_defaults(_run=spec.load_run())
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every cleanup path (temporary outputs) runs."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (main thread only; restored after)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the ``openinfp`` console script; returns the exit code."""
    with sigterm_as_interrupt():
        return _main(argv)


def _main(argv: Optional[Sequence[str]]) -> int:
    configure_cli_logging()
    try:
        from openinfp.core.registry import Registry

        registry = Registry.create()
        parser = build_parser(registry)
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 0 if args.command is None else 2
        args._registry = registry
        return int(args._run(args) or 0)
    except OpenInfpError as exc:
        print(f"openinfp: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        # A safety net for file-system failures no stage turned into an OpenInfpError
        # (disk full, read-only, permissions, over-long names): one line, no traceback.
        if exc.errno not in _FILE_SYSTEM_ERRNOS:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"openinfp: error: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except Terminated:
        print("openinfp: terminated", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("openinfp: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

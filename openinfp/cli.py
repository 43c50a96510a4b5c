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
import logging
import signal
import sys
import threading
import warnings
from typing import Iterator, Optional, Sequence

from openinfp import __version__
from openinfp.cli_options import add_config, add_quiet, merge_legacy_overrides
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
    add_quiet(p)
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
    add_quiet(p)
    show = csub.add_parser("show", help="print the merged config of a preset (with --set overrides)",
                           description="Print the preset merged over the defaults, with overrides applied and "
                                       "plugin options filled in, as YAML.")
    # `config show PRESET key=value ...` (the old spelling) still works: a hidden positional
    # preset, then hidden positional overrides
    show.add_argument("_legacy_preset", nargs="?", default=None, help=argparse.SUPPRESS)
    add_config(show, legacy_positional=True)
    add_quiet(show)
    show.set_defaults(_run=_run_config_show)
    lst = csub.add_parser("list", help="list the available presets")
    add_quiet(lst)
    lst.set_defaults(_run=_run_config_list)
    keys = csub.add_parser("keys", help="list every config key with its type, default, bounds and help",
                           description="Every config key (what --set KEY=VALUE accepts): type, default, "
                                       "the valid range or choices, and what it does.")
    add_quiet(keys)
    keys.set_defaults(_run=_run_config_keys)


def _run_config_show(args: argparse.Namespace) -> int:
    from openinfp.core.config import load_config, to_yaml

    preset = args._legacy_preset if args._legacy_preset is not None else args.config
    if args._legacy_preset is not None and "=" in args._legacy_preset:  # `config show key=value`
        preset, args.overrides = args.config, [args._legacy_preset, *args.overrides]
    cfg = load_config(preset, args.overrides, registry=args._registry)
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
    """Entry point of the ``openinfp`` console script; returns the exit code.

    Third-party logging is silenced before any library loads; on a non-terminal stderr,
    progress bars become a few plain lines (:mod:`openinfp.pipeline.progress`).
    """
    from openinfp.pipeline.progress import plain_progress_on_non_tty
    from openinfp.quiet import quiet_third_party

    argv = list(sys.argv[1:] if argv is None else argv)
    # logging and warning settings are put back afterwards (main() also runs inside tests)
    loggers = [logging.getLogger(), logging.getLogger("openinfp")]
    saved = [(lg, lg.level, lg.propagate, list(lg.handlers)) for lg in loggers]
    with warnings.catch_warnings(), plain_progress_on_non_tty(), sigterm_as_interrupt():
        try:
            quiet_third_party()  # before any library loads: their C++ logs read the environment once
            return _main(argv)
        finally:
            for lg, level, propagate, handlers in saved:
                lg.setLevel(level)
                lg.propagate = propagate
                lg.handlers[:] = handlers


def _main(argv: list[str]) -> int:
    from openinfp.quiet import quiet_third_party

    configure_cli_logging()
    try:
        from openinfp.core.registry import Registry

        registry = Registry.create()
        parser = build_parser(registry)
        if not argv:  # a bare `openinfp` is a usage error, not a request for help
            parser.print_usage(sys.stderr)
            print("openinfp: error: give a command (openinfp --help lists them)", file=sys.stderr)
            return 2
        args = parser.parse_args(argv)
        if not getattr(args, "_run", None):
            parser.print_help()
            return 0 if args.command is None else 2
        merge_legacy_overrides(args)
        if getattr(args, "quiet", False):
            quiet_third_party(quiet=True)
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

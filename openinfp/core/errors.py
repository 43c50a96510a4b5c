"""The project's error types.

Every error a user can cause by bad input derives from :class:`OpenInfpError`; the CLI
prints its message as one line (no traceback) and exits non-zero. Messages say which
file or key is wrong, what is wrong, and what to do.
"""

from __future__ import annotations


class OpenInfpError(Exception):
    """Base class of every error the project raises on purpose."""

    exit_code: int = 2


class InputError(OpenInfpError, ValueError):
    """A user-supplied file or value is unusable (corrupt, wrong shape, no face, ...)."""


class ConfigError(OpenInfpError, ValueError):
    """A configuration is invalid: unknown key, wrong type, unknown plugin name."""


class OutputError(OpenInfpError):
    """An output cannot be written: its folder is read-only or is a file, the name is too
    long, or the disk is full. Checked before the work starts where possible."""


class PluginError(OpenInfpError, LookupError):
    """A plugin could not be found, loaded or instantiated."""


class CheckpointError(OpenInfpError):
    """A checkpoint folder is missing files, has the wrong format, or does not match."""


class DependencyError(OpenInfpError, ImportError):
    """An optional dependency needed for the requested feature is not installed."""

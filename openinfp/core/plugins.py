"""The plugin manager: built-ins plus third-party plugins from entry points.

The manager is created by :func:`create_plugin_manager` (never at import time) and is
owned by whoever creates it: usually a :class:`~openinfp.core.registry.Registry`.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Optional

import pluggy

from openinfp.core import hookspecs
from openinfp.core.errors import PluginError

ENTRY_POINT_GROUP = "openinfp"
"""Entry-point group scanned for third-party plugins."""

DISABLE_AUTOLOAD_ENV = "OPENINFP_DISABLE_PLUGIN_AUTOLOAD"
"""Set to ``1`` to skip entry-point discovery (built-ins are still registered)."""

BUILTIN_PLUGIN_NAME = "builtin"
"""Name of the built-in plugin; also its entry-point name in ``pyproject.toml``."""


def autoload_enabled() -> bool:
    """False when :data:`DISABLE_AUTOLOAD_ENV` is set to a true-ish value."""
    return os.environ.get(DISABLE_AUTOLOAD_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def load_builtin_plugin() -> Any:
    """The built-in plugin, loaded by its entry-point name (:data:`BUILTIN_PLUGIN_NAME`).

    Core names the built-in plugin only through the entry point declared in
    ``pyproject.toml``, so it imports no stage package itself.

    Raises:
        PluginError: openinfp's own entry point is missing (the package is not installed).
    """
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP, name=BUILTIN_PLUGIN_NAME):
        if ep.value.startswith("openinfp."):
            return ep.load()
    raise PluginError(f"openinfp's built-in plugin (entry point {BUILTIN_PLUGIN_NAME!r} in group "
                      f"{ENTRY_POINT_GROUP!r}) is not installed; install the package: pip install -e .")


def create_plugin_manager(
    autoload: Optional[bool] = None, extra_plugins: Iterable[Any] = (), builtin: Any = None
) -> pluggy.PluginManager:
    """Build a plugin manager with the built-ins, discovered plugins and ``extra_plugins``.

    Args:
        autoload: scan the ``openinfp`` entry-point group; default: on unless
            ``OPENINFP_DISABLE_PLUGIN_AUTOLOAD=1``.
        extra_plugins: plugin objects/modules to register as well (tests, scripts).
        builtin: the built-in plugin; default: :func:`load_builtin_plugin`.

    Raises:
        PluginError: a discovered plugin fails to import.
    """
    if builtin is None:
        builtin = load_builtin_plugin()
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    # The built-in plugin is registered under its entry-point name, so entry-point
    # loading below recognises it as already present instead of loading it twice.
    pm.register(builtin, name=BUILTIN_PLUGIN_NAME)
    if autoload_enabled() if autoload is None else autoload:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:  # a broken third-party plugin must not look like our bug
            raise PluginError(f"a plugin in entry-point group {ENTRY_POINT_GROUP!r} failed to load: {exc}") from exc
    for plugin in extra_plugins:
        pm.register(plugin)
    check_hook_names(pm)
    return pm


def check_hook_names(pm: pluggy.PluginManager) -> None:
    """Refuse a plugin that implements a hook openinfp does not declare.

    pluggy accepts such an implementation silently (``register_renderer`` for
    ``register_renderers`` would simply never be called); this turns it into an error
    that names the hook and the plugin, like :meth:`pluggy.PluginManager.check_pending`.

    Raises:
        PluginError: an implementation matches no hook in :mod:`openinfp.core.hookspecs`.
    """
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        plugin_name = pm.get_name(exc.plugin) if exc.plugin is not None else "?"
        known = ", ".join(sorted(n for n in dir(pm.hook) if not n.startswith("_")))
        raise PluginError(
            f"plugin {plugin_name!r} implements an unknown hook: {exc}. Known hooks: {known}"
        ) from exc


def plugin_source(pm: pluggy.PluginManager, plugin: Any) -> str:
    """Human-readable origin of a registered plugin: ``"package version"``."""
    from openinfp import __version__

    if pm.get_name(plugin) == BUILTIN_PLUGIN_NAME:
        return f"openinfp {__version__} (built-in)"
    for plug, dist in pm.list_plugin_distinfo():
        if plug is plugin:
            meta = getattr(dist, "metadata", None)
            name = meta["Name"] if meta is not None else getattr(dist, "project_name", "?")
            return f"{name} {dist.version}"
    return f"{pm.get_name(plugin)} (registered directly)"


def call_chain(pm: pluggy.PluginManager, hook_name: str, value: Any, key: str, **kwargs: Any) -> Any:
    """Thread ``value`` through every implementation of a chaining hook.

    Each implementation is called with ``key=value`` plus ``kwargs``; a non-``None``
    result replaces ``value`` for the next. Used for ``post_process_motion``.
    """
    hook = getattr(pm.hook, hook_name)
    impls = list(reversed(hook.get_hookimpls()))  # pluggy's own call order: last registered first
    plugins = [impl.plugin for impl in impls]
    for impl in impls:
        # Each step goes through pluggy's own hook caller (restricted to one plugin), so
        # hook-call monitoring and tracing see every call.
        others = [p for p in plugins if p is not impl.plugin]
        caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
        results = caller(**{key: value, **kwargs})
        result = results[0] if results else None
        if result is not None:
            value = result
    return value

"""Plugins shipped with openinfp. :mod:`openinfp.plugins.builtin` registers every built-in
component through the same hooks a third-party plugin uses."""

"""Mistakes in a plugin's hook functions that pluggy alone would not explain.

A ``feedbackql_*`` function that lacks ``@hookimpl`` is silently ignored by pluggy: warn about
it, suggesting the hook name it was probably meant to be. A marked function whose name is no
hook fails start-up (as pytest does), with the same suggestion.
"""

from __future__ import annotations

import difflib
import inspect
import warnings
from collections.abc import Iterable

from feedbackql_server.kinds import hookspecs

HOOK_PREFIX = f"{hookspecs.PROJECT}_"
MARKER = f"{hookspecs.PROJECT}_impl"


class PluginWarning(UserWarning):
    """Something in a plugin is probably not what its author meant."""


def hook_names() -> list[str]:
    return sorted(name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
                  if name.startswith(HOOK_PREFIX))


def did_you_mean(name: str) -> str:
    """`` (did you mean 'feedbackql_field_types'?)`` or nothing when no hook is close."""
    close = difflib.get_close_matches(name, hook_names(), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unmarked_hooks(plugin: object) -> Iterable[str]:
    """Names of the plugin's ``feedbackql_*`` functions that carry no ``@hookimpl``."""
    for name in dir(plugin):
        value = getattr(plugin, name, None)
        if name.startswith(HOOK_PREFIX) and inspect.isfunction(value) and not hasattr(value, MARKER):
            yield name


def warn_unmarked(plugin: object, who: str) -> None:
    for name in unmarked_hooks(plugin):
        hint = "" if name in hook_names() else did_you_mean(name)
        warnings.warn(f"{who}: function {name}() has no @hookimpl and is ignored{hint}; "
                      "decorate it with feedbackql_server.kinds.hookimpl", PluginWarning, stacklevel=2)

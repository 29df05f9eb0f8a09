"""Asserting that a deliberately broken plugin fails start-up, as pytest's ``pytester`` lets a
pytest plugin's author assert what a broken conftest does.

``startup_error(plugin)`` runs the check ``feedbackql serve`` runs (the built-ins plus the
given plugin modules, registered in-process; the schema built from them) and returns the
``PluginError`` message, or fails the test when start-up would succeed.
"""

from __future__ import annotations

import re
from types import ModuleType


def startup_error(*plugins: ModuleType | object, match: str | None = None) -> str:
    """The message start-up fails with when ``plugins`` are installed; an ``AssertionError``
    when it does not fail, or when ``match`` (a regular expression) is not found in it."""
    from feedbackql_server.api.schema import checked_registry
    from feedbackql_server.kinds.registry import PluginError

    try:
        checked_registry(builtin_only=True, extra_plugins=plugins)
    except PluginError as exc:
        message = str(exc)
    else:
        raise AssertionError("expected start-up to fail with a PluginError, but it succeeded")
    if match is not None:
        assert re.search(match, message), f"the start-up error does not match {match!r}: {message}"
    return message

"""A plugin's own code raised something other than a validation error.

Every such failure takes one path: it is logged with its traceback and a request id, and the
client gets ``PLUGIN_ERROR`` naming the kind, the plugin and its version, with that request
id to quote to the plugin's authors. The exception's text is never sent: it may hold
internals (paths, queries, secrets).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from feedbackql_server.errors import PluginFailed

log = logging.getLogger("feedbackql_server.plugins")


def plugin_failed(action: str, exc: BaseException, *, kind: str, plugin: str, version: str | None,
                  path: Sequence[str | int] = (), **details: Any) -> PluginFailed:
    """The error for a kind's code that raised ``exc`` while ``action`` (e.g. "unifying
    'rating'"), after logging it with its traceback."""
    request_id = uuid.uuid4().hex
    who = f"plugin {plugin} {version}" if version else f"plugin {plugin}"
    log.error("%s (kind %s) failed %s request_id=%s", who, kind, action, request_id, exc_info=exc)
    return PluginFailed(f"the {kind} kind of {who} failed {action} ({type(exc).__name__}); "
                        f"quote request id {request_id} to its authors",
                        path=list(path), kind=kind, plugin=plugin, version=version, requestId=request_id,
                        **details)


_logged_reads: dict[tuple[str, ...], None] = {}
MAX_REMEMBERED = 1000


def log_read_failure(exc: BaseException, *, kind: str, plugin: str, version: str | None, item: str) -> None:
    """Log, with its traceback, that a kind could not read what is stored (``item``: "the
    settings of 'stars'", "a stored value").

    What cannot be read is shown as unavailable rather than failing the request, and it is read on
    every request that touches its dataset: each distinct failure is logged once per process
    (the first ``MAX_REMEMBERED`` of them), not once per read.
    """
    key = (plugin, str(version), kind, item, type(exc).__name__, str(exc)[:200])
    if key in _logged_reads or len(_logged_reads) >= MAX_REMEMBERED:
        return
    _logged_reads[key] = None
    request_id = uuid.uuid4().hex
    log.error("plugin %s %s (kind %s) cannot read %s request_id=%s",
              plugin, version, kind, item, request_id, exc_info=exc)

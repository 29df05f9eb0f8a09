"""Loaded by the server process of ``bench/worst_query.py`` only (this folder is put on its
``PYTHONPATH``): counts what the server asks of the database, without a change to the service.

Every 0.1 s it writes to ``FEEDBACKQL_BENCH_PROBE`` (JSON): bucket reads of records sent and
answered (``find`` commands whose filter names a ``bucket``), and driver connections opened and
closed (a read cancelled mid-flight makes the driver drop its connection; FerretDB then closes a
PostgreSQL backend that must be started again)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from pathlib import Path

from pymongo import monitoring

TARGET = os.environ.get("FEEDBACKQL_BENCH_PROBE")
counts: Counter[str] = Counter()


class _Commands(monitoring.CommandListener):
    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command.get("find") == "records" \
                and "bucket" in event.command.get("filter", {}):
            counts["bucket reads sent"] += 1
            _pending.add(event.request_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id in _pending:
            _pending.discard(event.request_id)
            counts["bucket reads answered"] += 1

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.request_id in _pending:
            _pending.discard(event.request_id)
            counts["bucket reads failed"] += 1


class _Connections(monitoring.ConnectionPoolListener):
    def connection_created(self, event: monitoring.ConnectionCreatedEvent) -> None:
        counts["connections opened"] += 1

    def connection_closed(self, event: monitoring.ConnectionClosedEvent) -> None:
        counts["connections closed"] += 1

    def _ignored(self, event: object) -> None:
        pass

    pool_created = pool_ready = pool_cleared = pool_closed = connection_ready = _ignored
    connection_check_out_started = connection_check_out_failed = _ignored
    connection_checked_out = connection_checked_in = _ignored


_pending: set[int] = set()


def _write() -> None:
    assert TARGET is not None
    while True:
        Path(TARGET + ".tmp").write_text(json.dumps(dict(counts)))
        os.replace(TARGET + ".tmp", TARGET)
        time.sleep(0.1)


if TARGET:
    monitoring.register(_Commands())
    monitoring.register(_Connections())
    threading.Thread(target=_write, daemon=True).start()

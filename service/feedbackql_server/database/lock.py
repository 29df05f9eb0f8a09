"""One service per data folder: an exclusive lock on ``DATA_DIR/feedbackql.lock``.

Two services on one folder both answered and both handed out leases, and a second start whose
port was taken ran migrations and crash repair against the live database first. The lock is
taken before anything else touches the folder; the kernel drops it when its holder dies, even
by ``kill -9``, so a stale lock file never blocks a restart. The file holds the holder's PID,
for the message of the one refused.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from feedbackql_server.database.errors import DatabaseUnavailable

LOCK_FILE = "feedbackql.lock"


class DataDirInUse(DatabaseUnavailable):
    """Another service holds the data folder."""


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Hold the folder's lock for the duration of the context, or raise ``DataDirInUse``."""
    path = data_dir / LOCK_FILE
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
            raise DataDirInUse(
                f"another feedbackql serve (PID {holder}) is using the data folder {data_dir}: "
                "stop it first, or give this one another --data-dir") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(descriptor)

"""Log files of the service and its database processes: mode 0600, bounded in size.

The earlier ``server.log`` was 0644 and grew 19 MB in 35 minutes. Each log is now a
``RotatingFileHandler`` (10 MiB, three old files kept) whose files are created 0600; a child's
output is read from a pipe line by line and written through such a handler, so a database
process never holds a log file of its own.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A ``RotatingFileHandler`` whose files only their owner can read (whatever the umask)."""

    def __init__(self, path: Path, max_bytes: int = MAX_BYTES) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=BACKUPS, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:  # called for the first file and after every rollover
        descriptor = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(descriptor, 0o600)
        return open(descriptor, "a", encoding="utf-8")


def service_log(path: Path) -> logging.Handler:
    """The handler for the service's own log file."""
    handler = PrivateRotatingFileHandler(path)
    handler.setFormatter(logging.Formatter(FORMAT))
    return handler


def copy_output(stream: IO[bytes], path: Path, name: str, scrub: Callable[[str], str],
                max_bytes: int = MAX_BYTES) -> threading.Thread:
    """Copy a child's output, each line through ``scrub``, into ``path`` (rotated) until the
    child closes it."""
    handler = PrivateRotatingFileHandler(path, max_bytes)
    handler.setFormatter(logging.Formatter("%(message)s"))

    def copy() -> None:
        with stream:
            for line in stream:
                text = scrub(line.decode("utf-8", "replace").rstrip("\n"))
                handler.emit(logging.makeLogRecord({"msg": text, "name": name}))
        handler.close()

    thread = threading.Thread(target=copy, name=f"{name}-log", daemon=True)
    thread.start()
    return thread

"""A training export made whole before its first byte is sent.

HTTP headers go out before the body, yet the export's header must state what happened (ties,
records left out) and an export that gives no row must be an error, not an empty file. So
the rows are made in one pass over the database into a temporary file (in memory up to
``IN_MEMORY`` bytes, then on disk), and the response is streamed from it: one consistent read
of the data, exact counts in the header, memory bounded whatever the dataset's size.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from typing import IO, Any

IN_MEMORY = 8 * 1024 * 1024
BATCH = 500


class Spool:
    """Rows written once, read back once, in order."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 (closed in rows)
        self.count = 0

    async def fill(self, rows: AsyncIterator[dict[str, Any]]) -> int:
        lines: list[bytes] = []
        async for row in rows:
            lines.append(json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            if len(lines) == BATCH:
                self.file.writelines(lines)
                lines = []
            self.count += 1
        self.file.writelines(lines)
        return self.count

    async def rows(self) -> AsyncIterator[dict[str, Any]]:
        """The rows as written (JSON keeps ints, floats, strings, lists and objects apart)."""
        try:
            self.file.seek(0)
            for line in self.file:
                yield json.loads(line)
        finally:
            self.file.close()

    def close(self) -> None:
        self.file.close()

"""Record batches the server accepts whole: at most a count of records and of bytes each.

The server refuses a request body over its limit (32 MiB unless configured otherwise) as
``PAYLOAD_TOO_LARGE``, and one record may carry up to 1,500,000 bytes (the server's
docs/limits.md): 500 records of images in one call would be refused whole. A batch is closed
before a record would take it over ``MAX_BATCH_BYTES`` of JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

MAX_BATCH_BYTES = 16 * 1024 * 1024
"""Half the server's default body limit: room for the rest of the request and a margin."""
Item = TypeVar("Item")


def json_size(value: Any) -> int:
    """The bytes ``value`` takes in a request body (compact JSON, as the transport sends it)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def batches(items: Iterable[Item], count: int, size: Callable[[Item], int],
            max_bytes: int = MAX_BATCH_BYTES) -> Iterator[list[Item]]:
    """``items`` in order, in lists of at most ``count`` items and ``max_bytes`` (a single item
    larger than that goes alone: the server then names what is too large in it)."""
    batch: list[Item] = []
    used = 0
    for item in items:
        cost = size(item)
        if batch and (len(batch) == count or used + cost > max_bytes):
            yield batch
            batch, used = [], 0
        batch.append(item)
        used += cost
    if batch:
        yield batch

"""How a records page is ordered and where the previous one ended.

Named by every layer — the API builds an order, the domain encodes a position in a cursor,
storage reads from it — so it lives outside ``storage/`` (``tests/test_structure.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bson import ObjectId


@dataclass(frozen=True)
class RecordOrder:
    """Insertion order (``_id``) or last update, ascending or descending."""

    by_updated: bool = False
    descending: bool = False


@dataclass(frozen=True)
class Keyset:
    """Where the previous page ended: the record's ``seq`` (insertion order; None in cursors
    made before records had one), or the sort value and ``_id`` (update order)."""

    record_id: ObjectId | None
    """None in a cursor that marks where a page cut short stopped reading (``seq`` then says)."""
    sort_value: Any = None
    seq: int | None = None

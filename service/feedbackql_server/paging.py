"""How a records page is ordered and where the previous one ended.

Named by every layer — the API builds an order, the domain encodes a position in a cursor,
storage reads from it — so it lives outside ``storage/`` (``tests/test_structure.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bson import ObjectId

SCORES = "suggestion_scores"
"""The stored ``{question: score}`` of a record's suggestions (``storage/content.py``)."""


@dataclass(frozen=True)
class RecordOrder:
    """Insertion order (``_id``), last update, a metadata property's value or a question's
    suggestion score; ascending or descending. Records without the value come first ascending
    (last descending), in insertion order among themselves."""

    by_updated: bool = False
    descending: bool = False
    metadata: str | None = None
    """The metadata property whose value orders the records."""
    score_of: str | None = None
    """The question whose suggestion's score orders the records."""

    @property
    def by_value(self) -> bool:
        """Ordered by a value records may lack (metadata, a score)."""
        return self.metadata is not None or self.score_of is not None

    @property
    def sort_path(self) -> str | None:
        """The stored key a sorted query orders by (None: insertion order, read by buckets)."""
        if self.metadata is not None:
            return f"metadata.{self.metadata}"
        if self.score_of is not None:
            return f"{SCORES}.{self.score_of}"
        return "updated_at" if self.by_updated else None

    def value_of(self, doc: Mapping[str, Any]) -> Any:
        """The value ``doc`` is ordered by (metadata or score; None when it has none)."""
        if self.metadata is not None:
            value = (doc.get("metadata") or {}).get(self.metadata)
            if isinstance(value, list):  # a list of terms sorts by its first (last) term, as the database does
                return (max if self.descending else min)(value, default=None)
            return value
        for suggestion in doc.get("suggestions") or []:
            if suggestion.get("question") == self.score_of:
                return suggestion.get("score")
        return None


@dataclass(frozen=True)
class Keyset:
    """Where the previous page ended: the record's ``seq`` (insertion order; None in cursors
    made before records had one), or the sort value and ``_id`` (any other order)."""

    record_id: ObjectId | None
    """None in a cursor that marks where a page cut short stopped reading (``seq`` then says)."""
    sort_value: Any = None
    seq: int | None = None

"""Opaque, stable page cursors: the sort key and ``_id`` of the last record of a page, and the
scope they were made for.

The scope is a digest of what the page was a page of (the list, the dataset, the filter); a
cursor used on another dataset or with another filter or order is refused, instead of silently
paging that one from a position that means nothing there. A cursor is also refused unless it
is exactly as this API wrote it (a damaged one used to decode anyway). Cursors written by
0.1 carry no scope and are still honoured."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from feedbackql_server.documents import RecordDoc
from feedbackql_server.errors import Invalid
from feedbackql_server.paging import Keyset, RecordOrder


def scope(*parts: object) -> str:
    """The digest of what a page is a page of: the list's name, the dataset, the filter (any
    values with a stable ``repr``)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _order_tag(order: RecordOrder) -> str:
    direction = "d" if order.descending else "a"
    if order.metadata is not None:
        return f"m{direction}:{order.metadata}"
    if order.score_of is not None:
        return f"s{direction}:{order.score_of}"
    return ("u" if order.by_updated else "i") + direction


def _written(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def encode(order: RecordOrder, doc: RecordDoc, made_for: str) -> str:
    payload: dict[str, Any] = {"o": _order_tag(order), "c": made_for, "i": str(doc["_id"])}
    if order.by_value:
        payload["v"] = order.value_of(doc)
    elif order.by_updated:
        payload["u"] = doc["updated_at"].isoformat()
    else:
        payload["s"] = doc["seq"]
    return _written(payload)


def position(order: RecordOrder, keyset: Keyset, made_for: str) -> str:
    """A cursor for where a page cut short stopped reading (insertion order only)."""
    return _written({"o": _order_tag(order), "c": made_for, "s": keyset.seq})


def _sort_value(order: RecordOrder, payload: dict[str, Any]) -> Any:
    if order.by_value:
        value = payload["v"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | str)):
            raise ValueError("a cursor's sort value is a number, a text or null")
        return value
    return datetime.fromisoformat(payload["u"]) if order.by_updated else None


def decode(order: RecordOrder, cursor: str, made_for: str) -> Keyset:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if not isinstance(payload, dict) or _written(payload) != cursor:
            raise ValueError("not a cursor as written")
        if "c" in payload and payload["c"] != made_for:  # without one: written by 0.1, still honoured
            raise Invalid("this cursor was made for another dataset, filter or list; start again without "
                          "`after`", ["after"])
        if payload["o"] != _order_tag(order):
            raise Invalid("this cursor belongs to another sort order; start again without "
                          "`after`", ["after"])
        sort_value = _sort_value(order, payload)
        seq = payload.get("s")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            raise ValueError("a cursor's position is a natural number")
        record_id = ObjectId(payload["i"]) if "i" in payload or seq is None else None
        return Keyset(record_id=record_id, sort_value=sort_value, seq=seq)
    except Invalid:
        raise
    except (ValueError, KeyError, TypeError, InvalidId):
        raise Invalid("`after` is not a cursor returned by this API", ["after"]) from None

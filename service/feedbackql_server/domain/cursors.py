"""Opaque, stable page cursors: the sort key and ``_id`` of the last record of a page."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from feedbackql_server.domain.listing import Keyset, RecordOrder
from feedbackql_server.errors import Invalid
from feedbackql_server.storage.documents import RecordDoc


def _order_tag(order: RecordOrder) -> str:
    return ("u" if order.by_updated else "i") + ("d" if order.descending else "a")


def encode(order: RecordOrder, doc: RecordDoc) -> str:
    payload: dict[str, Any] = {"o": _order_tag(order), "i": str(doc["_id"])}
    if order.by_updated:
        payload["u"] = doc["updated_at"].isoformat()
    else:
        payload["s"] = doc["seq"]
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def position(order: RecordOrder, keyset: Keyset) -> str:
    """A cursor for where a page cut short stopped reading (insertion order only)."""
    return base64.urlsafe_b64encode(json.dumps({"o": _order_tag(order), "s": keyset.seq}).encode()).decode()


def decode(order: RecordOrder, cursor: str) -> Keyset:
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if payload["o"] != _order_tag(order):
            raise Invalid("this cursor belongs to another sort order; start again without "
                          "`after`", ["after"])
        sort_value = datetime.fromisoformat(payload["u"]) if order.by_updated else None
        seq = payload.get("s")
        if seq is not None and (not isinstance(seq, int) or isinstance(seq, bool) or seq < 0):
            raise ValueError("a cursor's position is a natural number")
        record_id = ObjectId(payload["i"]) if "i" in payload or seq is None else None
        return Keyset(record_id=record_id, sort_value=sort_value, seq=seq)
    except Invalid:
        raise
    except (ValueError, KeyError, TypeError, InvalidId):
        raise Invalid("`after` is not a cursor returned by this API", ["after"]) from None

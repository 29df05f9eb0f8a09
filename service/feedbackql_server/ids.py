"""Opaque string IDs on the API, ObjectIds in the database."""

from __future__ import annotations

from bson import ObjectId
from bson.errors import InvalidId

from feedbackql_server.errors import NotFound


def parse_id(value: str, what: str) -> ObjectId:
    """An ObjectId from an API id; a malformed id is simply an object that does not exist."""
    try:
        return ObjectId(value)
    except (InvalidId, TypeError):
        raise NotFound(f"{what} {value!r} does not exist") from None

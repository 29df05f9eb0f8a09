"""A record's content — its fields and suggestions — stored as one JSON string, ``content``.

The database returns every value of a document it reads, and FerretDB decodes each one in Go
(a schema-typed JSON per document): the nested fields and suggestions made up about half of
the time of reading a bucket of 100 records (72 → 35 ms, measured here), and on the driver's
side they are most of a record's BSON. Nothing queries inside them (text search uses
``search_tokens``; metadata, which filters do look into, stays a document), so they are kept
packed, and unpacked here on every read. The values are JSON already (``safety.check_storable``
admits nothing else), so the string round-trips them exactly. The suggestions' scores are also
kept beside it, as ``suggestion_scores`` (``{question: score}``), for the pages sorted by a
score (``paging.RecordOrder``); reads leave them out (``storage/records.py``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any, cast

from feedbackql_server.documents import RecordDoc
from feedbackql_server.paging import SCORES

Doc = dict[str, Any]
PACKED = ("fields", "suggestions")
TYPES: dict[str, type] = {"fields": dict, "suggestions": list}
CONTENT = "content"
log = logging.getLogger("feedbackql_server.storage")


def pack(doc: Mapping[str, Any]) -> Doc:
    """``doc`` as stored: its fields and suggestions moved into ``content`` (written whole,
    always both: a record's content is replaced, never patched)."""
    content = {key: doc[key] for key in PACKED}
    stored = {key: value for key, value in doc.items() if key not in PACKED}
    stored[CONTENT] = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    stored[SCORES] = scores_of(doc["suggestions"])
    return stored


def scores_of(suggestions: list[Any]) -> Doc:
    """The numeric scores of ``suggestions``, by question."""
    return {s["question"]: s["score"] for s in suggestions
            if isinstance(s.get("score"), int | float) and not isinstance(s.get("score"), bool)}


def unpack(stored: Mapping[str, object]) -> RecordDoc:
    """A stored record as the rest of the service sees it. A document without ``content``
    (written before layout 3, e.g. by an older replica during an upgrade) passes unchanged.
    Content that cannot be read (written into the database by other means) leaves the record
    without fields and suggestions, saying so in ``read_error``: one such record must not make
    every page and export of its dataset fail."""
    doc = dict(stored)
    doc.pop(SCORES, None)
    packed = doc.pop(CONTENT, None)
    if isinstance(packed, str):
        content = _content(packed)
        if content is None:
            log.error("record %s: its stored content is not the JSON the service writes", doc.get("_id"))
            content = {"fields": {}, "suggestions": [], "read_error": UNREADABLE}
        doc.update(content)
    return cast(RecordDoc, doc)


UNREADABLE = ("its stored content could not be read (it was not written by this service); "
              "its fields and suggestions are left out: add the record again")


def _content(packed: str) -> dict[str, Any] | None:
    try:
        content = json.loads(packed)
    except ValueError:
        return None
    if not isinstance(content, dict) or not all(isinstance(content.get(key), TYPES[key]) for key in PACKED):
        return None
    return content

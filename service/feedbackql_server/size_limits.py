"""Size caps on user data, chosen so that no read can exceed the database's wire limit.

One wire message is at most ``WIRE_MESSAGE_BYTES`` (FerretDB's and MongoDB's
``maxMessageSizeBytes``), and FerretDB 1.24 fills a batch by count alone: measured here, a
bucket of 60 records of 933 kB came back as one 56 MB message that PyMongo refused
(``ProtocolError: Message length ... is larger than server max message size``), which made
every page of the dataset fail; and after a first batch of 101 documents, a ``getMore``
without ``batchSize`` returns all the rest at once (300 documents of 400 kB: 80 MB, refused).
MongoDB splits batches at 16 MiB itself, so it never meets this.

So each kind of document has a cap on what it carries, enforced on input, and every read that
can return several such documents asks for batches of at most ``batch_of(cap)`` documents: no
message can then exceed ``READ_BUDGET_BYTES`` whatever the mix of sizes. The caps are
documented in docs/limits.md (keep the two in step).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import bson

from feedbackql_server.errors import Invalid

WIRE_MESSAGE_BYTES = 48_000_000
READ_BUDGET_BYTES = 40_000_000
"""What one batch may carry: the wire limit less room for BSON framing and bookkeeping."""

MAX_FIELD_VALUE_BYTES = 1_048_576
"""One record field value (its JSON, UTF-8): room for an image data URI of 1,000,000 characters."""
MAX_ANSWER_BYTES = 262_144
"""One answer or suggestion value, and all the values of one response together: a suggestion
is an answer offered to the labeler, so it has the answer's cap. Responses are read a bucket
of records at a time (every labeler's), so their cap sets the batch size of those reads."""
MAX_METADATA_VALUE_BYTES = 65_536
"""One metadata value: metadata is for filtering, not for payloads (put those in fields)."""
MAX_RECORD_BYTES = 1_500_000
"""A whole record as stored: fields, suggestions, metadata and external id together. One image
data URI at its cap plus about 450 kB of everything else; a bucket (100 records) is read in
batches of ``RECORD_BATCH``."""
BOOKKEEPING_BYTES = 100_000
"""What the service adds to a record (who answered it, versions, leases): about 1,500
labelers' worth, allowed for in ``RECORD_BATCH``."""


def batch_of(document_bytes: int) -> int:
    """Documents of at most ``document_bytes`` that one batch can carry within the budget."""
    return max(1, READ_BUDGET_BYTES // document_bytes)


RECORD_BATCH = batch_of(MAX_RECORD_BYTES + BOOKKEEPING_BYTES)
RESPONSE_BATCH = batch_of(MAX_ANSWER_BYTES + BOOKKEEPING_BYTES // 10)
"""Responses carry values and a few ids and dates."""


def json_bytes(value: Any) -> int:
    """The size of ``value`` as the service stores it: compact JSON in UTF-8 (escapes counted)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def bson_bytes(document: dict[str, Any]) -> int:
    """The size of a sub-document as the database stores it (numbers cost more than in JSON)."""
    return len(bson.encode(document))


def check_size(size: int, limit: int, what: str, path: Sequence[str | int]) -> None:
    """``Invalid`` naming the limit when ``size`` exceeds it."""
    if size > limit:
        raise Invalid(f"{what} is {size:,} bytes; the limit is {limit:,} bytes (docs/limits.md)",
                      path, reason="too_large")

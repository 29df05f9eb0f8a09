"""Re-adding records by externalId: what is new, unchanged, changed, or would change under answers.

A record that people have answered is never changed under their answers without the caller
saying so: a re-add whose fields differ from an answered record is refused for that record,
unless ``OnConflict`` asks to keep the answers (and replace the fields) or to discard them
(the record is deleted with its answers and added again). Suggestions the re-add does not name
are kept, whatever their kind (a kind whose plugin is not installed included); metadata is kept
when the re-add gives none. Unchanged records are recognised from a small indexed read per
record (``content_hash``), so re-sending a file costs no more than loading it the first time.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from feedbackql_server.documents import RESPONSE_STATUSES, RecordDoc
from feedbackql_server.domain.records import RecordSpec, content_hash, input_hash
from feedbackql_server.storage import Storage

Doc = dict[str, Any]
ANSWERED = "answered_record"
"""The ``reason`` of a record refused because the re-add would change fields people answered."""


class OnConflict(enum.Enum):
    """What a re-add does to a record that has answers when it changes the record's fields."""

    REFUSE = "refuse"
    KEEP_RESPONSES = "keep_responses"
    DISCARD_RESPONSES = "discard_responses"


@dataclass
class Plan:
    """A batch sorted by what it does; each entry keeps its index in the caller's batch."""

    new: list[tuple[int, Doc]] = field(default_factory=list)
    unchanged: list[tuple[int, RecordDoc]] = field(default_factory=list)
    """(index, the record as found: its id and place)."""
    rehash: list[tuple[ObjectId, str, str]] = field(default_factory=list)
    """Unchanged records whose stored hashes (content, as sent) are missing or another form's."""
    replace: list[tuple[int, RecordDoc, Doc]] = field(default_factory=list)
    """(index, the record as found, its new content)."""
    discard: list[tuple[int, RecordDoc, Doc]] = field(default_factory=list)
    """Answered records to delete with their answers and add again."""
    refused: list[tuple[int, str]] = field(default_factory=list)


def has_responses(record: RecordDoc) -> bool:
    return any(record.get(f"{status}_by") for status in RESPONSE_STATUSES)


def refusal(external_id: str) -> str:
    return (f"record {external_id!r} has answers and this re-add changes its fields; send "
            "onConflict: KEEP_RESPONSES to keep the answers and replace the fields, or "
            "DISCARD_RESPONSES to delete its answers and add it again")


async def lookup(storage: Storage, dataset_id: ObjectId, external_ids: Sequence[str], *,
                 probe: bool) -> dict[str, RecordDoc] | None:
    """The stored records named (see ``RecordRepo.existing``); None: taken as all new."""
    return await storage.records.existing(dataset_id, external_ids, probe=probe) if external_ids else {}


def sent_before(specs: Sequence[RecordSpec], existing: dict[str, RecordDoc]) -> dict[int, RecordDoc]:
    """Records sent exactly as they were last sent (``input_hash``), without answers: unchanged,
    with no need to check them again. Only the first of an external id named twice."""
    found: dict[int, RecordDoc] = {}
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        record = existing.get(spec.external_id or "")
        if record is not None and spec.external_id not in seen and not spec.responses \
                and record.get("input_hash") == input_hash(spec):
            found[index] = record
        seen.add(spec.external_id or "")
    return found


async def plan(storage: Storage, specs: Sequence[RecordSpec], docs: Sequence[tuple[int, Doc]],
               on_conflict: OnConflict, existing: dict[str, RecordDoc] | None) -> Plan:
    """Sort the checked records of a batch (``docs``, by index in ``specs``) against the
    stored ones they name (``existing``; None: the batch was taken as new without looking
    the others up, and the insert returns those that exist after all)."""
    result = Plan()
    to_compare: list[tuple[int, RecordDoc, Doc]] = []
    for index, doc in docs:
        found = (existing or {}).get(doc.get("external_id") or "")
        if found is None:
            result.new.append((index, doc))
        elif found.get("content_hash") == doc["content_hash"]:
            result.unchanged.append((index, found))
            if found.get("input_hash") != doc["input_hash"]:
                result.rehash.append((found["_id"], doc["content_hash"], doc["input_hash"]))
        else:
            to_compare.append((index, found, doc))
    if to_compare:
        full = {record["_id"]: record for record in
                await storage.records.by_ids([found["_id"] for _, found, _ in to_compare])}
        for index, found, doc in to_compare:
            stored = full.get(found["_id"])
            if stored is None:  # deleted since it was looked up: added again
                result.new.append((index, doc))
            else:
                _compare(result, index, {**stored, **found}, merged(stored, doc, specs[index]), on_conflict)
    return result


def merged(stored: RecordDoc, doc: Doc, spec: RecordSpec) -> Doc:
    """``doc`` over the stored record: suggestions it does not name are kept (in their
    place), and the stored metadata when it gives none."""
    incoming = {s["question"]: s for s in doc["suggestions"]}
    kept = [incoming.pop(s["question"], s) for s in stored.get("suggestions", [])]
    out = {**doc, "suggestions": [*kept, *incoming.values()]}
    if spec.metadata is None:
        out["metadata"] = stored.get("metadata") or {}
    out["content_hash"] = content_hash(out)
    return out


def _compare(result: Plan, index: int, stored: RecordDoc, doc: Doc, on_conflict: OnConflict) -> None:
    stored_hash = content_hash({"fields": stored["fields"], "metadata": stored.get("metadata") or {},
                                "suggestions": stored.get("suggestions", [])})
    if doc["content_hash"] == stored_hash:
        result.unchanged.append((index, stored))
        result.rehash.append((stored["_id"], stored_hash, doc["input_hash"]))
    elif doc["fields"] == stored["fields"] or not has_responses(stored) or on_conflict is OnConflict.KEEP_RESPONSES:
        result.replace.append((index, stored, doc))
    elif on_conflict is OnConflict.DISCARD_RESPONSES:
        result.discard.append((index, stored, doc))
    else:
        result.refused.append((index, refusal(str(doc["external_id"]))))

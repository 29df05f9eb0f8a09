"""Adding records in bulk: validate each, write each batch in one unordered bulk upsert."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId

from feedbackql_server.domain import invariants, state_writes
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.datasets import get_dataset
from feedbackql_server.domain.records import RecordSpec, build_record
from feedbackql_server.errors import Conflict, DomainError, Invalid, NotFound
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.storage import Storage
from feedbackql_server.storage.documents import DatasetDoc, RecordDoc
from feedbackql_server.storage.intents import Finish
from feedbackql_server.storage.records import BulkOutcome

Doc = dict[str, Any]
DELETE_CONCURRENCY = 16


@dataclass
class RecordError:
    index: int
    code: str
    message: str
    problems: list[dict[str, Any]] = field(default_factory=list)
    """For ``VALIDATION``: every problem found, ``{message, path, reason, question}``."""


@dataclass
class AddRecordsResult:
    created: int = 0
    updated: int = 0
    errors: list[RecordError] = field(default_factory=list)


CHECKS_BETWEEN_YIELDS = 50
"""Records checked between two yields to the event loop: checking is Python work that would
otherwise hold the loop (about 0.2 s per 1,000 records) while every other request waits."""


async def add_records(
    storage: Storage,
    registry: KindRegistry,
    dataset_id: ObjectId,
    specs: Sequence[RecordSpec],
    max_records: int,
) -> AddRecordsResult:
    """Partial success: good records are written, bad ones reported by their index."""
    if len(specs) > max_records:
        raise Invalid(f"at most {max_records} records per call; split the batch", ["records"])
    dataset = await get_dataset(storage, dataset_id)
    if dataset["status"] != "ready":
        raise Conflict(f"dataset {dataset['name']!r} is a draft: publish it before adding records")
    result, docs = await _checked(registry, DatasetConfig.of(dataset, registry), dataset_id, specs)
    return await _write_batch(storage, dataset_id, result, docs)


async def _checked(registry: KindRegistry, config: DatasetConfig, dataset_id: ObjectId,
                   specs: Sequence[RecordSpec]) -> tuple[AddRecordsResult, list[tuple[int, Doc]]]:
    """The batch's records to write (by index), and a result holding the errors of the others."""
    result = AddRecordsResult()
    docs = []
    seen_external: set[str] = set()
    for index, spec in enumerate(specs):
        if index % CHECKS_BETWEEN_YIELDS == CHECKS_BETWEEN_YIELDS - 1:
            await asyncio.sleep(0)
        try:
            doc = build_record(registry, config, dataset_id, spec)
            external = doc.get("external_id")
            if external is not None:
                if external in seen_external:
                    raise Invalid(f"externalId {external!r} appears twice in this batch",
                                  ["externalId"])
                seen_external.add(external)
        except DomainError as exc:
            result.errors.append(RecordError(index, exc.code, exc.message, exc.extensions.get("errors", [])))
            continue
        docs.append((index, doc))
    return result, docs


async def _write_batch(storage: Storage, dataset_id: ObjectId, result: AddRecordsResult,
                       docs: list[tuple[int, Doc]]) -> AddRecordsResult:
    first_seq = await storage.datasets.reserve_seqs(dataset_id, len(docs)) if docs else 0
    outcome = await storage.uncancellable.run(_write_records(storage, dataset_id, docs, first_seq))
    result.created, result.updated = outcome.created, outcome.updated
    result.errors.extend(RecordError(i, "CONFLICT", m) for i, m in outcome.errors)
    result.errors.sort(key=lambda e: e.index)
    return result


async def delete_records(
    storage: Storage, dataset_id: ObjectId, record_ids: Sequence[ObjectId]
) -> list[ObjectId]:
    dataset = await get_dataset(storage, dataset_id)
    deleted = await storage.uncancellable.run(_delete_records(storage, dataset, record_ids))
    return [record["_id"] for record in deleted]


# The records and the counters are written apart: an intent lets a start-up after a crash in
# between check them (domain/invariants.py); a request timeout does not cut them apart.

async def _write_records(storage: Storage, dataset_id: ObjectId, docs: list[tuple[int, Doc]],
                         first_seq: int) -> BulkOutcome:
    async with storage.intents.writing(None, dataset_id, finish=_recount(storage, dataset_id)):
        outcome = await storage.records.upsert_many(docs, first_seq)
        await storage.tallies.add(dataset_id, {"records": outcome.created, "pending": outcome.created})
        await _undo_if_deleted(storage, dataset_id)
    return outcome


async def _undo_if_deleted(storage: Storage, dataset_id: ObjectId) -> None:
    """Records written while the dataset was being deleted go with it (its deletion swept its
    records before these landed); the caller is told the dataset is gone."""
    dataset = await storage.datasets.get(dataset_id)
    if dataset is None or dataset.get("deleting"):
        await storage.records.delete_dataset(dataset_id)
        await storage.tallies.delete_dataset(dataset_id)
        raise NotFound(f"dataset {dataset_id} was deleted")


async def _delete_records(storage: Storage, dataset: DatasetDoc, record_ids: Sequence[ObjectId]) -> list[RecordDoc]:
    """One record at a time, each through the record's lock and compare-and-set
    (``state_writes.delete``), a few at once."""
    gate = asyncio.Semaphore(DELETE_CONCURRENCY)
    min_submitted = dataset["distribution"]["min_submitted"]

    async def delete(record_id: ObjectId) -> RecordDoc | None:
        async with gate:
            return await state_writes.delete(storage, record_id, dataset["_id"], min_submitted)

    async with storage.intents.writing(None, dataset["_id"], finish=_recount(storage, dataset["_id"])):
        deleted = await asyncio.gather(*(delete(record_id) for record_id in dict.fromkeys(record_ids)))
    return [record for record in deleted if record is not None]


def _recount(storage: Storage, dataset_id: ObjectId) -> Finish:
    """After a failure half-way, the counters from a recount (the records are what was written)."""
    return lambda intent: invariants.recount_quietly(storage, dataset_id, intent)

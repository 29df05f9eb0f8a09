"""Adding records in bulk: check each, sort the batch against what is stored, write each part
in as few commands as the database allows, then the answers that came with the records."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc, UserDoc
from feedbackql_server.domain import imported, invariants, readd, state_writes, vectors
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.datasets import get_dataset
from feedbackql_server.domain.readd import OnConflict, Plan
from feedbackql_server.domain.records import RecordSpec, build_record, input_hash, storable_external_id
from feedbackql_server.errors import Conflict, DomainError, Invalid, NotFound
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.storage import Storage
from feedbackql_server.storage.intents import Finish

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

Doc = dict[str, Any]
REPLACE_CONCURRENCY = 16
DELETE_CONCURRENCY = 16
CONCURRENT = "a record with this externalId was added concurrently; send the record again"
Placed = tuple[int, ObjectId, int, str, bool]
"""A record the batch wrote or found: (index in the batch, id, seq, bucket, created now)."""


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
    unchanged: int = 0
    """Records named by externalId whose fields, metadata and suggestions were already so."""
    responses: int = 0
    """Answers written from the records' ``responses`` (those already stored as given are not)."""
    errors: list[RecordError] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.errors)


@dataclass(frozen=True)
class Checked:
    """A batch after its checks: the documents to write and the answers to write with them."""

    docs: list[tuple[int, Doc]]
    answers: dict[int, list[imported.ImportedAnswer]]
    vectors: dict[int, dict[str, bytes]] = field(default_factory=dict)


CHECKS_BETWEEN_YIELDS = 50
"""Records checked between two yields to the event loop: checking is Python work that would
otherwise hold the loop (about 0.2 s per 1,000 records) while every other request waits."""


async def add_records(services: Services, dataset_id: ObjectId, specs: Sequence[RecordSpec], *,
                      on_conflict: OnConflict) -> AddRecordsResult:
    """Partial success: good records are written, bad ones reported by their index; then the
    answers that came with the records written (announced to this process's queue and the
    subscribers)."""
    storage, registry, max_records = services.storage, services.registry, services.limits.max_records_per_call
    if len(specs) > max_records:
        raise Invalid(f"at most {max_records} records per call; split the batch", ["records"])
    dataset = await get_dataset(storage, dataset_id)
    if dataset["status"] != "ready":
        raise Conflict(f"dataset {dataset['name']!r} is a draft: publish it before adding records")
    users = await imported.users_named(storage, specs)
    external_ids = [s.external_id for s in specs if s.external_id and storable_external_id(s.external_id)]
    existing = await readd.lookup(storage, dataset_id, external_ids, probe=True)
    sent_before = {i: r for i, r in readd.sent_before(specs, existing or {}).items() if specs[i].vectors is None}
    result, checked = await _checked(registry, DatasetConfig.of(dataset, registry), dataset, specs, users,
                                     sent_before)
    result.unchanged = len(sent_before)
    before = await storage.vectors.version(dataset_id) if checked.vectors else None
    placed = await _sorted_and_written(storage, dataset, specs, checked.docs, on_conflict, result, existing)
    if before is not None:
        await vectors.write_vectors(storage, dataset, {record_id: checked.vectors[index]
                                                       for index, record_id, *_ in placed if index in checked.vectors},
                                    {record_id: bucket for _, record_id, _, bucket, _ in placed}, before)
    answers = [imported.PlacedAnswers(record_id, seq, bucket, fresh, checked.answers[index])
               for index, record_id, seq, bucket, fresh in placed if checked.answers.get(index)]
    if answers:
        result.responses = await imported.write(services, dataset_id, answers)
    result.errors.sort(key=lambda e: e.index)
    return result


async def _sorted_and_written(storage: Storage, dataset: DatasetDoc, specs: Sequence[RecordSpec],
                              docs: list[tuple[int, Doc]], on_conflict: OnConflict, result: AddRecordsResult,
                              existing: dict[str, RecordDoc] | None) -> list[Placed]:
    """Sort the records against the stored ones (``existing``) and write them; those taken as
    new that existed after all (``existing`` None: nothing was looked up) are sorted again, once."""
    placed: list[Placed] = []
    for first in (True, False):
        if not first:
            existing = await readd.lookup(storage, dataset["_id"], [doc["external_id"] for _, doc in docs],
                                          probe=False)
        batch = await readd.plan(storage, specs, docs, on_conflict, existing)
        result.errors.extend(RecordError(i, "CONFLICT", m, [_answered(m)]) for i, m in batch.refused)
        written, docs = await storage.uncancellable.run(_write_records(storage, dataset, batch, result, on_conflict))
        placed += written
        if not docs:
            return placed
    result.errors.extend(RecordError(index, "CONFLICT", CONCURRENT) for index, _ in docs)
    return placed


def _answered(message: str) -> dict[str, Any]:
    return {"message": message, "path": ["fields"], "reason": readd.ANSWERED}


async def _checked(registry: KindRegistry, config: DatasetConfig, dataset: DatasetDoc, specs: Sequence[RecordSpec],
                   users: dict[str, UserDoc], sent_before: dict[int, RecordDoc]) -> tuple[AddRecordsResult, Checked]:
    """The batch's records to write (by index), and a result holding the errors of the others;
    records ``sent_before`` exactly so are neither checked nor written."""
    result = AddRecordsResult()
    checked = Checked([], {})
    seen_external = {str(specs[index].external_id) for index in sent_before}
    for index, spec in enumerate(specs):
        if index % CHECKS_BETWEEN_YIELDS == CHECKS_BETWEEN_YIELDS - 1:
            await asyncio.sleep(0)
        if index in sent_before:
            continue
        try:
            doc = build_record(registry, config, dataset["_id"], spec)
            doc["input_hash"] = input_hash(spec)
            if spec.vectors is not None:
                checked.vectors[index] = vectors.checked_vectors(dataset, spec.vectors)
            external = doc.get("external_id")
            if external is not None:
                if external in seen_external:
                    raise Invalid(f"externalId {external!r} appears twice in this batch",
                                  ["externalId"])
                seen_external.add(external)
            if spec.responses:
                checked.answers[index] = imported.check(registry, config, dataset, spec, doc["fields"], users)
        except DomainError as exc:
            result.errors.append(RecordError(index, exc.code, exc.message, exc.extensions.get("errors", [])))
            continue
        checked.docs.append((index, doc))
    return result, checked


# The records and the counters are written apart: an intent lets a start-up after a crash in
# between check them (domain/invariants.py); a request timeout does not cut them apart.

async def _write_records(storage: Storage, dataset: DatasetDoc, batch: Plan, result: AddRecordsResult,
                         on_conflict: OnConflict) -> tuple[list[Placed], list[tuple[int, Doc]]]:
    """Write the batch's records; every record it wrote or found unchanged, placed, and the
    documents it took as new whose external id exists."""
    dataset_id = dataset["_id"]
    placed: list[Placed] = [(i, r["_id"], r["seq"], r["bucket"], False) for i, r in batch.unchanged]
    result.unchanged += len(batch.unchanged)
    if not (batch.new or batch.discard or batch.replace or batch.rehash):
        return placed, []  # nothing to write: no intent to open and close
    async with storage.intents.writing(None, dataset_id, finish=_recount(storage, dataset_id)):
        if batch.discard:
            await _delete_records(storage, dataset, [record["_id"] for _, record, _ in batch.discard], intent=False)
        inserted, taken = await _insert(storage, dataset_id,
                                        [*batch.new, *((i, doc) for i, _, doc in batch.discard)],
                                        {i for i, _, _ in batch.discard}, result)
        placed += inserted
        placed += await _replace(storage, batch.replace, on_conflict, result)
        for record_id, digest, sent in batch.rehash:
            await storage.records.set_hashes(record_id, digest, sent)
        await _undo_if_deleted(storage, dataset_id)
    return placed, taken


async def _undo_if_deleted(storage: Storage, dataset_id: ObjectId) -> None:
    """Records written while the dataset was being deleted go with it (its deletion swept its
    records before these landed); the caller is told the dataset is gone."""
    dataset = await storage.datasets.get(dataset_id)
    if dataset is None or dataset.get("deleting"):
        await storage.records.delete_dataset(dataset_id)
        await storage.tallies.delete_dataset(dataset_id)
        raise NotFound(f"dataset {dataset_id} was deleted")


async def _insert(storage: Storage, dataset_id: ObjectId, docs: list[tuple[int, Doc]], replacing: set[int],
                  result: AddRecordsResult) -> tuple[list[Placed], list[tuple[int, Doc]]]:
    """New records (and answered ones added again, ``replacing``: counted as updated)."""
    if not docs:
        return [], []
    first_seq = await storage.datasets.reserve_seqs(dataset_id, len(docs))
    inserted = await storage.records.insert(docs, first_seq)
    count = len(inserted.records)
    await storage.tallies.add(dataset_id, {"records": count, "pending": count})
    result.updated += sum(index in replacing for index, *_ in inserted.records)
    result.created += count - sum(index in replacing for index, *_ in inserted.records)
    result.errors.extend(RecordError(index, "CONFLICT", message) for index, message in inserted.errors)
    return [(index, record_id, seq, bucket, True) for index, record_id, seq, bucket in inserted.records], inserted.taken


async def _replace(storage: Storage, entries: list[tuple[int, RecordDoc, Doc]], on_conflict: OnConflict,
                   result: AddRecordsResult) -> list[Placed]:
    """New content for existing records, each under its lock: an answer written since the
    batch was sorted is seen here, and the record refused then (unless told otherwise)."""
    gate = asyncio.Semaphore(REPLACE_CONCURRENCY)

    async def one(index: int, found: RecordDoc, doc: Doc) -> Placed | RecordError:
        async with gate, storage.record_locks.hold([found["_id"]]):
            if on_conflict is OnConflict.REFUSE and doc["fields"] != found["fields"]:
                state = await storage.queue.state(found["_id"])
                if state is not None and readd.has_responses(state):
                    message = readd.refusal(str(doc["external_id"]))
                    return RecordError(index, "CONFLICT", message, [_answered(message)])
            if not await storage.records.replace_content(found["_id"], doc):
                return RecordError(index, "CONFLICT", "the record was deleted while it was re-added; send it again")
        return index, found["_id"], found["seq"], found["bucket"], False

    done = await asyncio.gather(*(one(*entry) for entry in entries))
    result.errors.extend(outcome for outcome in done if isinstance(outcome, RecordError))
    written = [outcome for outcome in done if not isinstance(outcome, RecordError)]
    result.updated += len(written)
    return written


async def delete_records(services: Services, dataset_id: ObjectId, record_ids: Sequence[ObjectId]) -> list[ObjectId]:
    storage = services.storage
    dataset = await get_dataset(storage, dataset_id)
    deleted = await storage.uncancellable.run(_delete_records(storage, dataset, record_ids))
    await services.vector_indexes.follow_deletions(storage, dataset_id, vectors.spaces_of(dataset))
    return [record["_id"] for record in deleted]


async def _delete_records(storage: Storage, dataset: DatasetDoc, record_ids: Sequence[ObjectId],
                          *, intent: bool = True) -> list[RecordDoc]:
    """One record at a time, each through the record's lock and compare-and-set
    (``state_writes.delete``), a few at once; ``intent``: False when the caller holds one."""
    gate = asyncio.Semaphore(DELETE_CONCURRENCY)
    min_submitted = dataset["distribution"]["min_submitted"]

    async def delete(record_id: ObjectId) -> RecordDoc | None:
        async with gate:
            return await state_writes.delete(storage, record_id, dataset["_id"], min_submitted)

    async def delete_all() -> list[RecordDoc | None]:
        return await asyncio.gather(*(delete(record_id) for record_id in dict.fromkeys(record_ids)))

    if intent:
        async with storage.intents.writing(None, dataset["_id"], finish=_recount(storage, dataset["_id"])):
            deleted = await delete_all()
    else:
        deleted = await delete_all()
    gone = [record for record in deleted if record is not None]
    # Their vectors go too: an export and a search skip a vector whose record is gone, but a
    # deleted record's embedding must not stay in the database.
    await storage.vectors.delete_of_records(dataset["_id"], [record["_id"] for record in gone],
                                            [space.key for space in vectors.spaces_of(dataset)])
    return gone


def _recount(storage: Storage, dataset_id: ObjectId) -> Finish:
    """After a failure half-way, the counters from a recount (the records are what was written)."""
    return lambda intent: invariants.recount_quietly(storage, dataset_id, intent)

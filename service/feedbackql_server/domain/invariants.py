"""What must hold whatever interleaves, checked against the raw documents, and the repair of
what does not: ``feedbackql check`` and the start-up after a crash run this one implementation.

1. Every record's state agrees with its responses, its leases and the dataset's current
   ``minSubmitted`` (``work_state.rebuilt``): who answered, its status, no lease held by a
   labeler who answered it.
2. No response of a record that does not exist; nothing (records, responses, labelers'
   counters) of a dataset that does not exist, or that a crash left half deleted.
3. The counters, the dataset's and each labeler's, equal a recount from the records (which,
   by 1, agree with the responses).
4. Every record's ``metadata_keys`` are its metadata's, and every band of its numbers is
   stored (``storage/filter_keys.py``, ``storage/metadata_bands.py``): filtered pages look
   records up by them, and would miss a record without.

Records are repaired one at a time through ``state_writes.rebuild`` (under the record's lock
and compare-and-set, so a live service may keep writing). Counters are replaced only from a
recount that no write overlapped: no intent of the dataset before or after it, and the same
``tally.writes`` before and after (``storage/tallies.py``); otherwise it tries again, and says
so when writes keep coming.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc, ResponseDoc
from feedbackql_server.domain import state_writes, tally, work_state
from feedbackql_server.storage import Storage
from feedbackql_server.storage.tallies import USERS, WRITES

Doc = dict[str, Any]
COUNT_ATTEMPTS = 20
Recount = tuple[Doc, dict[str, dict[str, int]], Doc, "int | None"]
BUSY_PAUSE_SECONDS = 0.1


@dataclass(frozen=True)
class Finding:
    dataset_id: ObjectId
    what: str
    repaired: bool


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    datasets: int = 0
    records: int = 0
    interrupted: int = 0
    """Writes a crash left half done (start-up)."""

    def add(self, dataset_id: ObjectId, what: str, repaired: bool) -> None:
        self.findings.append(Finding(dataset_id, what, repaired))

    @property
    def unrepaired(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.repaired]


async def check(storage: Storage, *, repair: bool) -> Report:
    """Every invariant on every dataset; what was wrong, and what was repaired."""
    report = Report()
    dataset_ids = await storage.datasets.all_ids()
    for dataset_id in sorted(dataset_ids):
        await check_dataset(storage, dataset_id, report, repair=repair)
    await _check_orphans(storage, dataset_ids, report, repair=repair)
    return report


async def check_dataset(storage: Storage, dataset_id: ObjectId, report: Report, *, repair: bool) -> None:
    dataset = await storage.datasets.get(dataset_id)
    if dataset is None:
        return
    if dataset.get("deleting"):
        report.add(dataset_id, "the dataset was left half deleted", repair)
        if repair:
            await _delete(storage, dataset_id)
        return
    report.datasets += 1
    # Responses and vectors before records: a record added after this read has none of them,
    # so one whose record is not among those read next is one whose record is gone.
    responses = await storage.responses.of_dataset(dataset_id)
    vectors = await storage.vectors.placed(dataset_id)
    states = await storage.queue.of_dataset(dataset_id)
    report.records += len(states)
    unrepaired = await _check_records(storage, dataset, states, responses, report, repair=repair)
    await _check_counters(storage, dataset_id, report, repair=repair, corrected=unrepaired)
    await _check_metadata_keys(storage, dataset, report, repair=repair)
    await _check_vectors(storage, dataset_id, vectors, {state["_id"] for state in states}, report, repair=repair)


async def _check_vectors(storage: Storage, dataset_id: ObjectId, vectors: list[tuple[str, ObjectId, str]],
                         records: set[ObjectId], report: Report, *, repair: bool) -> None:
    """Vectors of records that do not exist, or of spaces the dataset no longer has (read
    again now: a space added since the vectors were read has none of them)."""
    now = await storage.datasets.get(dataset_id)
    spaces = {space["key"] for space in now.get("vector_spaces", [])} if now is not None else set()
    stray = [vector for vector, record_id, space in vectors if record_id not in records or space not in spaces]
    if stray:
        report.add(dataset_id, f"{len(stray)} vector(s) of deleted records or removed spaces", repair)
        if repair:
            await storage.vectors.delete_ids(stray)


async def _check_metadata_keys(storage: Storage, dataset: DatasetDoc, report: Report, *, repair: bool) -> None:
    stale, missing = await storage.records.check_metadata_keys(dataset["_id"], dataset.get("next_seq", 0),
                                                               repair=repair)
    if stale:
        report.add(dataset["_id"], f"{stale} record(s) whose metadata keys are not their metadata's", repair)
    if missing:
        report.add(dataset["_id"], f"{missing} band(s) of metadata numbers not stored", repair)


async def _check_records(storage: Storage, dataset: DatasetDoc, states: list[RecordDoc],
                         responses: list[ResponseDoc], report: Report, *, repair: bool) -> dict[ObjectId, Doc]:
    """The records found out of step and left so, each with the state it should have."""
    by_record: defaultdict[ObjectId, list[ResponseDoc]] = defaultdict(list)
    for response in responses:
        by_record[response["record_id"]].append(response)
    min_submitted = dataset["distribution"]["min_submitted"]
    now = datetime.now(UTC)
    unrepaired: dict[ObjectId, Doc] = {}
    for state in states:
        expected = work_state.rebuilt(by_record.pop(state["_id"], []), min_submitted,
                                      work_state.live_leases(state, now))
        if work_state.differences(state, expected, now) and not await _check_record(
                storage, dataset["_id"], state["_id"], report, repair=repair):
            unrepaired[state["_id"]] = expected
    for record_id in by_record:  # responses whose record is gone
        if await storage.queue.state(record_id) is not None:
            continue
        report.add(dataset["_id"], f"responses of record {record_id}, which does not exist", repair)
        if repair:
            await storage.responses.delete_for_records([record_id])
    return unrepaired


async def _check_record(storage: Storage, dataset_id: ObjectId, record_id: ObjectId, report: Report, *,
                        repair: bool) -> bool:
    """Read the record again (it may have been in the middle of a write) and report, or
    repair, what is still wrong; whether it is in step now."""
    async with storage.record_locks.hold([record_id]):
        state = await storage.queue.state(record_id)
        dataset = await storage.datasets.get(dataset_id)
        if state is None or dataset is None:
            return True
        responses = await storage.responses.all_of_record(record_id)
        now = datetime.now(UTC)
        expected = work_state.rebuilt(responses, dataset["distribution"]["min_submitted"],
                                      work_state.live_leases(state, now))
        problems = work_state.differences(state, expected, now)
        if not problems:
            return True
        repaired = repair and await state_writes.rebuild(storage, record_id) is not None
        report.add(dataset_id, f"record {record_id}: {'; '.join(problems)}", repaired)
        return repaired


async def _check_counters(storage: Storage, dataset_id: ObjectId, report: Report, *, repair: bool,
                          ignoring: frozenset[ObjectId] = frozenset(),
                          corrected: dict[ObjectId, Doc] | None = None) -> None:
    """``ignoring``: intents a crash left (at start-up), which no write in flight holds.
    ``corrected``: records out of step, with the state their responses give them: the
    counters are compared with what the responses say, not with a record's wrong state."""
    found: list[str] = []  # what the first recount that differed found
    for _ in range(COUNT_ATTEMPTS):
        counted = await _quiet_recount(storage, dataset_id, ignoring, corrected or {})
        if counted is None:
            await asyncio.sleep(BUSY_PAUSE_SECONDS)
            continue
        stored, users, expected, writes = counted
        problems = counter_differences(stored, users, expected)
        if found and not problems:  # a repair that an increment overlapped, now confirmed
            report.add(dataset_id, f"counters: {'; '.join(found)}", True)
            return
        if not problems:
            return
        found = found or problems
        if repair and not await storage.tallies.set(dataset_id, expected, writes=writes):
            continue  # an increment came in between: count again
        report.add(dataset_id, f"counters: {'; '.join(found)}", repair)
        return
    report.add(dataset_id, "counters could not be checked: writes kept coming; try again when it is quieter", False)


async def _quiet_recount(storage: Storage, dataset_id: ObjectId, ignoring: frozenset[ObjectId],
                         corrected: dict[ObjectId, Doc]) -> Recount | None:
    """(stored counters, stored labelers' counters, the recount, ``tally.writes``) from reads
    that no write overlapped; None when one may have."""
    if await _busy(storage, dataset_id, ignoring):
        return None
    before = await storage.datasets.get(dataset_id)
    if before is None:
        return None
    users = await storage.tallies.of_users(dataset_id)
    states = [cast(RecordDoc, {**state, **corrected.get(state["_id"], {})})
              for state in await storage.records.states(dataset_id)]
    after = await storage.datasets.get(dataset_id)
    stored: Doc = dict(before.get("tally", {}))
    if after is None or stored.get(WRITES) != after.get("tally", {}).get(WRITES):
        return None
    if await _busy(storage, dataset_id, ignoring):
        return None
    expected = tally.recount(states, before["distribution"]["min_submitted"])
    return stored, users, expected, stored.get(WRITES)


async def _busy(storage: Storage, dataset_id: ObjectId, ignoring: frozenset[ObjectId]) -> bool:
    return any(intent["_id"] not in ignoring for intent in await storage.intents.of_dataset(dataset_id))


def counter_differences(stored: Doc, users: dict[str, dict[str, int]], expected: Doc) -> list[str]:
    """How stored counters differ from a recount (``tally.recount``), in words."""
    problems = []
    shared = _flat(_nonzero({k: v for k, v in stored.items() if k not in (USERS, WRITES)}))
    wanted = _flat(_nonzero({k: v for k, v in expected.items() if k != USERS}))
    for key in sorted(set(shared) | set(wanted)):
        if shared.get(key) != wanted.get(key):
            problems.append(f"{key} {shared.get(key, 0)}, recount {wanted.get(key, 0)}")
    per_user = _nonzero(users)
    expected_users = _nonzero(expected.get(USERS, {}))
    for user in sorted(set(per_user) | set(expected_users)):
        if per_user.get(user) != expected_users.get(user):
            problems.append(f"labeler {user} {per_user.get(user, {})}, recount {expected_users.get(user, {})}")
    return problems


def _flat(counts: Doc, prefix: str = "") -> Doc:
    """Nested counters as dotted keys (``responses.submitted``), as they are named in ``$inc``."""
    flat: Doc = {}
    for key, value in counts.items():
        flat.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return flat


def _nonzero(counts: Any) -> Any:
    """The counts without zeros (a counter moved to 0 and one never moved read the same)."""
    if not isinstance(counts, dict):
        return counts
    kept = {key: _nonzero(value) for key, value in counts.items()}
    return {key: value for key, value in kept.items() if value not in (0, {})}


async def _check_orphans(storage: Storage, dataset_ids: set[ObjectId], report: Report, *, repair: bool) -> None:
    """Records, responses, labelers' counters and vectors of datasets that do not exist."""
    orphaned = (set(await storage.queue.orphans(dataset_ids)) | set(await storage.responses.orphans(dataset_ids))
                | set(await storage.tallies.orphans(dataset_ids)) | set(await storage.vectors.orphans(dataset_ids)))
    for dataset_id in sorted(orphaned):
        report.add(dataset_id, "records, responses, counters or vectors of a dataset that does not exist", repair)
        if repair:
            await _delete(storage, dataset_id)


async def _delete(storage: Storage, dataset_id: ObjectId) -> None:
    await storage.responses.delete_dataset(dataset_id)
    await storage.vectors.delete_dataset(dataset_id)
    await storage.records.delete_dataset(dataset_id)
    await storage.tallies.delete_dataset(dataset_id)
    await storage.datasets.delete(dataset_id)


async def counters_in_step(storage: Storage, dataset_id: ObjectId) -> bool:
    """Set the dataset's counters from a recount no write overlapped; whether they are in step."""
    report = Report()
    await _check_counters(storage, dataset_id, report, repair=True)
    return not report.unrepaired


async def recount_quietly(storage: Storage, dataset_id: ObjectId, intent: ObjectId) -> None:
    """Bring the dataset's counters in step with its records after a failed write (whose
    ``intent`` is still there); ``RuntimeError`` when they could not be."""
    report = Report()
    ignoring = frozenset([intent]) | storage.intents.stranded()
    await _check_counters(storage, dataset_id, report, repair=True, ignoring=ignoring)
    if report.unrepaired:
        raise RuntimeError(report.unrepaired[0].what)


async def finish_interrupted(storage: Storage) -> Report:
    """At start-up: the writes a crash left half done, named by their intents, finished —
    the records brought in step with their responses, every record's status with the
    dataset's ``minSubmitted`` (a change of it may have been cut short), the counters of
    those datasets with a recount, deletions of datasets finished — and the intents then
    removed. Safe to repeat."""
    intents = await storage.intents.left_over()
    report = Report()
    dataset_ids: set[ObjectId] = set()
    for intent in intents:
        record_id, dataset_id = intent.get("record_id"), intent.get("dataset_id")
        if record_id is not None:
            state = await storage.queue.state(record_id)
            dataset_id = dataset_id or (state["dataset_id"] if state else None)
            async with storage.record_locks.hold([record_id]):
                if await state_writes.rebuild(storage, record_id) is not None:
                    report.add(dataset_id or record_id, f"record {record_id} brought in step", True)
        if dataset_id is not None:
            dataset_ids.add(dataset_id)
    dataset_ids.update(await storage.datasets.being_deleted())  # deletions a crash cut short
    left = frozenset(intent["_id"] for intent in intents)
    for dataset_id in sorted(dataset_ids):
        await _finish_dataset(storage, dataset_id, report, left)
    for intent in intents:
        await storage.intents.end(intent["_id"])
    report.datasets, report.interrupted = len(dataset_ids), len(intents)
    return report


async def _finish_dataset(storage: Storage, dataset_id: ObjectId, report: Report,
                          left: frozenset[ObjectId]) -> None:
    dataset = await storage.datasets.get(dataset_id)
    if dataset is None or dataset.get("deleting"):
        await _delete(storage, dataset_id)
        if dataset is not None:
            report.add(dataset_id, "a deletion a crash cut short finished", True)
        return
    changed = await state_writes.restatus_dataset(storage, dataset_id)
    if changed:
        report.add(dataset_id, f"{changed} record status(es) derived again from minSubmitted", True)
    await _check_counters(storage, dataset_id, report, repair=True, ignoring=left)

"""Answering records: one response per (record, user), checked by the question kinds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from bson import ObjectId

from feedbackql_server.domain import datasets, tally, work_state
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.queue import QueuePools
from feedbackql_server.domain.values import TypedValue, check_answer
from feedbackql_server.errors import Conflict, Invalid, NotFound, all_of
from feedbackql_server.events import Broker, ResponseEvent
from feedbackql_server.kinds.context import RecordContext
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.policy import Caller, records
from feedbackql_server.storage import Storage
from feedbackql_server.storage.documents import DatasetDoc, RecordDoc, ResponseDoc

STATE_WRITE_ATTEMPTS = 20


@dataclass(frozen=True)
class AnswerSpec:
    question: str
    value: TypedValue


@dataclass(frozen=True)
class ResponseSpec:
    record_id: ObjectId
    status: str
    values: Sequence[AnswerSpec] = ()
    expected_version: int | None = None


async def _record_and_dataset(
    storage: Storage, caller: Caller, record_id: ObjectId
) -> tuple[RecordDoc, DatasetDoc]:
    """The record and its dataset, if the caller may see them: then they may answer it."""
    record = await storage.records.get(record_id)
    dataset = await storage.datasets.get(record["dataset_id"]) if record else None
    return records.readable(caller, record, dataset, record_id)


def check_values(
    registry: KindRegistry, config: DatasetConfig, spec: ResponseSpec, record_fields: dict[str, Any]
) -> dict[str, Any]:
    """The values to store; ``Invalid`` with every problem found otherwise."""
    values: dict[str, Any] = {}
    errors: list[Invalid] = []
    context = RecordContext(fields=record_fields, partial=spec.status != "submitted")
    for index, answer in enumerate(spec.values):
        path: list[str | int] = ["values", index]
        if answer.question in values:
            errors.append(Invalid(f"question {answer.question!r} is answered twice", [*path, "question"],
                                  reason="duplicate", question=answer.question))
            continue
        try:
            value = check_answer(registry, config, answer.question, answer.value, path, context)
        except Invalid as error:
            errors.append(error)
            values[answer.question] = None  # answered, if badly: not also reported as missing
            continue
        values[answer.question] = {"kind": answer.value.kind, "value": value,
                                   "plugin_version": registry.questions[answer.value.kind].version}
    if spec.status == "submitted":
        for problem in config.problems.values():
            if problem.required:
                raise problem.error(["values"])
        errors.extend(Invalid(f"a submitted response must answer the required question {name!r}",
                              ["values"], reason="required", question=name)
                      for name, (q, _) in config.questions.items() if q["required"] and name not in values)
    if spec.expected_version is not None and spec.expected_version < 0:
        errors.append(Invalid("expectedVersion is 0 (no response yet) or a version", ["expectedVersion"]))
    if errors:
        raise all_of(errors)
    return values


def refuse_dropping_unreadable(config: DatasetConfig, stored: ResponseDoc | None) -> None:
    """A write replaces all of a response's values: refuse one that would lose answers to a
    question whose kind cannot be read now (they could not be given again)."""
    if stored is None:
        return
    for name in stored.get("values", {}):
        problem = config.problems.get(name)
        if problem is not None:
            raise problem.error(["values"])


@dataclass(frozen=True)
class CheckedResponse:
    spec: ResponseSpec
    dataset_id: ObjectId
    values: dict[str, Any]
    seq: int
    """The record's place in insertion order."""
    bucket: str


async def check_response(
    storage: Storage, registry: KindRegistry, caller: Caller, spec: ResponseSpec
) -> CheckedResponse:
    record, dataset = await _record_and_dataset(storage, caller, spec.record_id)
    config = DatasetConfig.of(dataset, registry)
    values = check_values(registry, config, spec, record["fields"])
    if config.problems:
        refuse_dropping_unreadable(config, await storage.responses.of_user(spec.record_id, caller.id))
    return CheckedResponse(spec, dataset["_id"], values, record.get("seq", 0), record["bucket"])


async def write_response(storage: Storage, user_id: ObjectId,
                         checked: CheckedResponse) -> tuple[ResponseDoc, RecordDoc | None]:
    """The response as written, and the record's state after it (None: unchanged)."""
    # Shielded: a request timeout must not cancel between the response write and the
    # record update, which would leave the record's derived state behind its responses.
    return await storage.uncancellable.run(_write_response(storage, user_id, checked))


async def _write_response(storage: Storage, user_id: ObjectId,
                          checked: CheckedResponse) -> tuple[ResponseDoc, RecordDoc | None]:
    spec = checked.spec
    async with storage.record_locks.hold([spec.record_id]):
        intent = await storage.intents.begin(spec.record_id)
        try:
            response = await storage.responses.write(
                record_id=spec.record_id,
                dataset_id=checked.dataset_id,
                bucket=checked.bucket,
                user_id=user_id,
                status=spec.status,
                values=checked.values,
                expected_version=spec.expected_version,
            )
        except Conflict as conflict:
            current = await storage.responses.of_user(spec.record_id, user_id)
            raise with_current(conflict, current) from None
        state = await _sync_record(storage, spec.record_id, user_id, response)
        await storage.intents.end(intent)
    return response, state


def with_current(conflict: Conflict, current: ResponseDoc | None) -> Conflict:
    """The conflict with the response as it is now (``currentVersion`` 0: none), so that a
    client can show it and retry with its version without another round trip."""
    conflict.extensions["currentVersion"] = current["version"] if current else 0
    conflict.extensions["currentResponse"] = None if current is None else {
        "id": str(current["_id"]), "status": str(current["status"]).upper(), "version": current["version"],
        "updatedAt": current["updated_at"].isoformat(),
        "values": [{"question": q, "json": v["value"]} for q, v in current["values"].items()],
    }
    return conflict


async def submit_responses(
    storage: Storage, registry: KindRegistry, events: Broker, pools: QueuePools, caller: Caller,
    specs: Sequence[ResponseSpec],
) -> list[ResponseDoc]:
    """Check every response first, so that one bad input writes none of them."""
    checked = [await check_response(storage, registry, caller, spec) for spec in specs]
    written = []
    for response in checked:
        stored, state = await write_response(storage, caller.id, response)
        written.append(stored)
        await announce(events, pools, response, stored, state)
    return written


async def announce(events: Broker, pools: QueuePools, checked: CheckedResponse, stored: ResponseDoc,
                   state: RecordDoc | None) -> None:
    """Tell this process's queue and the subscribers about a response just written."""
    if state is not None:
        pools.observe(checked.dataset_id, state)
    if stored["status"] != "submitted":  # the record may be pending again
        pools.reopen(checked.dataset_id, checked.seq)
    await events.publish(ResponseEvent.of(stored))


async def delete_response(storage: Storage, registry: KindRegistry, events: Broker, pools: QueuePools,
                          caller: Caller, record_id: ObjectId) -> ResponseDoc:
    record, dataset = await _record_and_dataset(storage, caller, record_id)
    config = DatasetConfig.of(dataset, registry)
    if config.problems:
        refuse_dropping_unreadable(config, await storage.responses.of_user(record_id, caller.id))
    response = await storage.uncancellable.run(_delete_response(storage, caller.id, record_id))
    pools.reopen(dataset["_id"], record.get("seq", 0))
    await events.publish(ResponseEvent.of(response))
    return response


async def _delete_response(storage: Storage, user_id: ObjectId, record_id: ObjectId) -> ResponseDoc:
    async with storage.record_locks.hold([record_id]):
        intent = await storage.intents.begin(record_id)
        response = await storage.responses.mark_deleted(record_id, user_id)
        if response is None:
            await storage.intents.end(intent)
            raise NotFound(f"you have no response to record {record_id}")
        await _sync_record(storage, record_id, user_id, response)
        await storage.intents.end(intent)
    return response


async def finish_interrupted(storage: Storage) -> int:
    """Bring records a crash left behind their responses back in step, and recount the
    counters of their datasets and of datasets whose records were being added or deleted (at
    start-up); how many writes were interrupted. Each response is applied again by its
    version and counters are set from the records, so this is safe to repeat.

    A crash between a record's state and the counters' ``$inc`` leaves the record in step but
    the counters behind it, which only a recount sees."""
    intents = await storage.intents.left_over()
    dataset_ids = {intent["dataset_id"] for intent in intents if intent.get("dataset_id") is not None}
    for intent in intents:
        if intent.get("record_id") is not None:
            await resync_record(storage, intent["record_id"])
            record = await storage.queue.state(intent["record_id"])
            if record is not None:
                dataset_ids.add(record["dataset_id"])
    for dataset_id in dataset_ids:
        dataset = await storage.datasets.get(dataset_id)
        if dataset is not None:
            await datasets.recount(storage, dataset)
    for intent in intents:
        await storage.intents.end(intent["_id"])
    return len(intents)


async def resync_record(storage: Storage, record_id: ObjectId) -> None:
    async with storage.record_locks.hold([record_id]):
        for response in await storage.responses.all_of_record(record_id):
            await _sync_record(storage, record_id, response["user_id"], response)


async def _sync_record(storage: Storage, record_id: ObjectId, user_id: ObjectId,
                       response: ResponseDoc) -> RecordDoc | None:
    """Bring the record's state up to this response (compare-and-set, retried on a race);
    the state written, or None when there was nothing to write."""
    status = response["status"] if response["status"] != "deleted" else None
    for _ in range(STATE_WRITE_ATTEMPTS):
        record = await storage.queue.state(record_id)
        dataset = await storage.datasets.get(record["dataset_id"]) if record else None
        if record is None or dataset is None:
            return None  # deleted meanwhile: nothing left to keep in step
        min_submitted = dataset["distribution"]["min_submitted"]
        changes = work_state.after_response(record, str(user_id), status, response["version"],
                                            min_submitted, datetime.now(UTC))
        if changes is None:
            return None
        if await storage.queue.set_state(record, changes):
            after = cast(RecordDoc, {**record, **changes})
            await storage.tallies.add(dataset["_id"], tally.change(record, after,
                                                                             min_submitted))
            return cast(RecordDoc, {**after, "state_version": record.get("state_version", 0) + 1})
    raise RuntimeError(f"record {record_id} kept changing while its state was written")

"""Answering records: one response per (record, user), checked by the question kinds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc, ResponseDoc
from feedbackql_server.domain import invariants, state_writes, work_state
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.values import TypedValue, check_answer
from feedbackql_server.errors import Conflict, DomainError, Invalid, NotFound, all_of, within
from feedbackql_server.events import ResponseEvent
from feedbackql_server.kinds.context import RecordContext
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.policy import Caller, records
from feedbackql_server.size_limits import MAX_ANSWER_BYTES, check_size, json_bytes
from feedbackql_server.storage import Storage
from feedbackql_server.storage.intents import Finish

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services


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
    check_size(json_bytes(values), MAX_ANSWER_BYTES, "the response's values together", ["values"])
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


async def check_response(services: Services, caller: Caller, spec: ResponseSpec) -> CheckedResponse:
    storage, registry = services.storage, services.registry
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
    async with storage.record_locks.hold([spec.record_id]), storage.intents.writing(
            spec.record_id, checked.dataset_id, finish=_in_step(storage, spec.record_id, checked.dataset_id)):
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
    return response, state


def _in_step(storage: Storage, record_id: ObjectId, dataset_id: ObjectId) -> Finish:
    """After a write failed mid-way: the record's state from its responses, then the dataset's
    counters from a recount. The state and the counters are separate writes (the labeler's
    counters another document still), and a full disk let some through and not others: a
    labeler's ``submitted`` stayed one short while the record and the dataset were in step."""
    async def finish(intent: ObjectId) -> None:
        await state_writes.rebuild(storage, record_id)
        await invariants.recount_quietly(storage, dataset_id, intent)
    return finish


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


async def submit_responses(services: Services, caller: Caller, specs: Sequence[ResponseSpec], *,
                           batch: bool = True) -> list[ResponseDoc]:
    """Check every response first, so that one bad input writes none of them. In a ``batch``
    (``submitResponses``), an error names its input (``inputs[1].values[0]...``, and
    ``extensions.input``) and says how many inputs before it were written (``extensions.written``:
    a CONFLICT met while writing leaves the earlier ones stored)."""
    checked = []
    for index, spec in enumerate(specs):
        try:
            checked.append(await check_response(services, caller, spec))
        except DomainError as exc:
            if not batch:
                raise
            raise _about_input(exc, index, written=0) from None
    written = []
    for index, response in enumerate(checked):
        try:
            stored, state = await write_response(services.storage, caller.id, response)
        except DomainError as exc:
            if not batch:
                raise
            raise _about_input(exc, index, written=index) from None
        written.append(stored)
        await announce(services, response, stored, state)
    return written


def _about_input(error: DomainError, index: int, *, written: int) -> DomainError:
    """A batch's error located at its input, with the count of inputs written before it, so a
    client can tell the stored from the refused without reading them back."""
    located = within(error, ["inputs", index])
    located.extensions.update(input=index, written=written)
    return located


async def announce(services: Services, checked: CheckedResponse, stored: ResponseDoc,
                   state: RecordDoc | None) -> None:
    """Tell this process's queue and the subscribers about a response just written."""
    pools = services.queue_pools
    if state is not None:
        pools.observe(checked.dataset_id, state)
    if stored["status"] != "submitted":  # the record may be pending again
        pools.reopen(checked.dataset_id, checked.seq)
    await services.events.publish(ResponseEvent.of(stored))


async def delete_response(services: Services, caller: Caller, record_id: ObjectId) -> ResponseDoc:
    storage = services.storage
    record, dataset = await _record_and_dataset(storage, caller, record_id)
    config = DatasetConfig.of(dataset, services.registry)
    if config.problems:
        refuse_dropping_unreadable(config, await storage.responses.of_user(record_id, caller.id))
    response = await storage.uncancellable.run(_delete_response(storage, caller.id, record_id, dataset["_id"]))
    services.queue_pools.reopen(dataset["_id"], record.get("seq", 0))
    await services.events.publish(ResponseEvent.of(response))
    return response


async def _delete_response(storage: Storage, user_id: ObjectId, record_id: ObjectId,
                           dataset_id: ObjectId) -> ResponseDoc:
    async with storage.record_locks.hold([record_id]), storage.intents.writing(
            record_id, dataset_id, finish=_in_step(storage, record_id, dataset_id)):
        response = await storage.responses.mark_deleted(record_id, user_id)
        if response is None:
            raise NotFound(f"you have no response to record {record_id}")
        await _sync_record(storage, record_id, user_id, response)
    return response


async def _sync_record(storage: Storage, record_id: ObjectId, user_id: ObjectId,
                       response: ResponseDoc) -> RecordDoc | None:
    """Bring the record's state up to this response; the state written, or None when there
    was nothing to write. A record or dataset deleted meanwhile takes the response with it
    (it was written after their responses were deleted) and the caller is told so."""
    status = response["status"] if response["status"] != "deleted" else None

    def compute(record: RecordDoc, min_submitted: int) -> dict[str, Any] | None:
        return work_state.after_response(record, str(user_id), status, response["version"],
                                         min_submitted, datetime.now(UTC))

    try:
        return await state_writes.update(storage, record_id, compute)
    except state_writes.Gone:
        await storage.responses.delete_written(response)
        raise

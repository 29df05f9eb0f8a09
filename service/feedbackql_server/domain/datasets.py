"""Creating, configuring, publishing and deleting datasets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, KindItem, MetadataPropertyDoc
from feedbackql_server.domain import config as cfg
from feedbackql_server.domain import dataset_memory, invariants, kind_checks, state_writes, tally
from feedbackql_server.errors import Conflict, Invalid, NotFound, all_of
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.storage import Storage

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

Doc = dict[str, Any]
log = logging.getLogger("feedbackql_server.datasets")


@dataclass(frozen=True)
class DatasetSpec:
    workspace_id: ObjectId
    name: str
    guidelines: str | None = None
    fields: Sequence[cfg.FieldSpec] = ()
    questions: Sequence[cfg.QuestionSpec] = ()
    metadata_properties: Sequence[cfg.MetadataPropertySpec] = ()
    min_submitted: int = 1
    allow_extra_metadata: bool = True


@dataclass(frozen=True)
class DatasetChanges:
    """Fields left as None are not changed."""

    name: str | None = None
    guidelines: str | None = None
    min_submitted: int | None = None
    allow_extra_metadata: bool | None = None
    metadata_properties: Sequence[cfg.MetadataPropertySpec] | None = None


async def get_dataset(storage: Storage, dataset_id: ObjectId) -> DatasetDoc:
    dataset = await storage.datasets.get(dataset_id)
    if dataset is None:
        raise NotFound(f"dataset {dataset_id} does not exist")
    return dataset


async def create_dataset(services: Services, spec: DatasetSpec) -> DatasetDoc:
    storage, registry = services.storage, services.registry
    if await storage.workspaces.get(spec.workspace_id) is None:
        raise NotFound(f"workspace {spec.workspace_id} does not exist")
    cfg.check_name(spec.name, ["name"])
    fields, questions = _configuration(registry, spec)
    properties = _metadata_properties(spec.metadata_properties)
    now = datetime.now(UTC)
    created = await storage.datasets.insert({
        "workspace_id": spec.workspace_id,
        "name": spec.name,
        "guidelines": cfg.check_guidelines(spec.guidelines, ["guidelines"]),
        "status": "draft",
        "fields": fields,
        "questions": questions,
        "metadata_properties": properties,
        "distribution": cfg.check_distribution(spec.min_submitted, ["distribution"]),
        "allow_extra_metadata": spec.allow_extra_metadata,
        "revision": 0,
        "next_seq": 0,
        "tally": tally.empty(),
        "created_at": now,
        "updated_at": now,
    })
    workspace = await storage.workspaces.get(spec.workspace_id)
    if workspace is None or workspace.get("closing"):
        await storage.datasets.delete(created["_id"])
        raise Conflict("the workspace is being deleted; create the dataset in another workspace")
    return created


def _configuration(registry: KindRegistry, spec: DatasetSpec) -> tuple[list[KindItem], list[KindItem]]:
    """The fields and questions to store; ``Invalid`` with every problem found in them."""
    fields: list[KindItem] = []
    questions: list[KindItem] = []
    errors: list[Invalid] = []
    for index, field_spec in enumerate(spec.fields):
        try:
            fields.append(cfg.build_field(registry, field_spec, ["fields", index]))
        except Invalid as error:
            errors.append(error)
    for index, question_spec in enumerate(spec.questions):
        try:
            questions.append(cfg.build_question(registry, question_spec, ["questions", index]))
        except Invalid as error:
            errors.append(error)
    if errors:
        raise all_of(errors)
    cfg.check_unique_names(fields, "field", ["fields"])
    cfg.check_unique_names(questions, "question", ["questions"])
    kind_checks.check_configuration(registry, fields, questions)
    return fields, questions


def _metadata_properties(specs: Sequence[cfg.MetadataPropertySpec]) -> list[MetadataPropertyDoc]:
    properties = [
        cfg.build_metadata_property(p, ["metadataProperties", i]) for i, p in enumerate(specs)
    ]
    cfg.check_unique_names(properties, "metadata property", ["metadataProperties"])
    return properties


async def add_field(services: Services, dataset_id: ObjectId, spec: cfg.FieldSpec) -> DatasetDoc:
    item = cfg.build_field(services.registry, spec, ["field"])
    await _check_in_dataset(services, dataset_id, "field", item)
    return await _add_item(services.storage, dataset_id, "fields", item)


async def add_question(services: Services, dataset_id: ObjectId, spec: cfg.QuestionSpec) -> DatasetDoc:
    item = cfg.build_question(services.registry, spec, ["question"])
    await _check_in_dataset(services, dataset_id, "question", item)
    return await _add_item(services.storage, dataset_id, "questions", item)


async def _check_in_dataset(services: Services, dataset_id: ObjectId, category: str, item: KindItem) -> None:
    """The new item's settings checked against the dataset's fields (which only grow, so a
    later change cannot make them wrong)."""
    registry = services.registry
    dataset = await get_dataset(services.storage, dataset_id)
    fields = [*dataset["fields"], item] if category == "field" else dataset["fields"]
    error = kind_checks.check_item(registry, category, item, kind_checks.dataset_context(registry, fields),
                                   [category])
    if error is not None:
        raise error


async def _add_item(storage: Storage, dataset_id: ObjectId, array: Literal["fields", "questions"],
                    item: KindItem) -> DatasetDoc:
    """Append a field or question while the dataset is a draft and the name is free.

    Compare-and-set on ``revision``: a concurrent change makes the update miss and the check
    run again on fresh data (FerretDB cannot test names inside arrays of documents).
    """
    for _attempt in range(5):
        dataset = await get_dataset(storage, dataset_id)
        if dataset["status"] != "draft":
            raise Conflict(f"dataset {dataset['name']!r} is published: its {array} are frozen")
        if any(existing["name"] == item["name"] for existing in dataset[array]):
            raise Invalid(f"the dataset already has {array[:-1]} {item['name']!r}",
                          [array[:-1], "name"])
        updated = await storage.datasets.push_item(
            dataset_id, array, item, revision=dataset.get("revision", 0),
            changes={"updated_at": datetime.now(UTC)},
        )
        if updated is not None:
            return updated
    raise Conflict("the dataset is being changed concurrently; try again")


async def update_dataset(services: Services, dataset_id: ObjectId, changes: DatasetChanges) -> DatasetDoc:
    storage = services.storage
    dataset = await get_dataset(storage, dataset_id)
    update: Doc = {"updated_at": datetime.now(UTC)}
    if changes.name is not None:
        cfg.check_name(changes.name, ["name"])
        update["name"] = changes.name
    if changes.guidelines is not None:
        update["guidelines"] = cfg.check_guidelines(changes.guidelines, ["guidelines"])
    if changes.allow_extra_metadata is not None:
        update["allow_extra_metadata"] = changes.allow_extra_metadata
    if changes.metadata_properties is not None:
        update["metadata_properties"] = _metadata_properties(changes.metadata_properties)
    if changes.min_submitted is not None:
        update["distribution"] = cfg.check_distribution(changes.min_submitted, ["distribution"])
    updated = await storage.datasets.update(dataset_id, update, when={"deleting": {"$ne": True}})
    if updated is None:
        raise NotFound(f"dataset {dataset_id} does not exist")
    if changes.min_submitted is not None and changes.min_submitted != (
        dataset["distribution"]["min_submitted"]
    ):
        await _restatus_for_a_while(storage, dataset_id)
        updated = await get_dataset(storage, dataset_id)
    return updated


RESTATUS_WAIT_SECONDS = 10.0
"""How long a ``minSubmitted`` change waits for its pass over the records. A small dataset's
statuses are all in step when ``updateDataset`` answers; a big one's go on in the background
(under an intent, so a crash is finished at start-up): 5,000 records under 20 labelers took
longer than the 30 s request timeout on this machine."""


async def _restatus_for_a_while(storage: Storage, dataset_id: ObjectId) -> None:
    running = asyncio.ensure_future(storage.uncancellable.run(_restatus(storage, dataset_id)))
    running.add_done_callback(_log_failure)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(running), RESTATUS_WAIT_SECONDS)


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("deriving the records' status after a minSubmitted change failed; the next start-up "
                  "or `feedbackql check --repair` finishes it", exc_info=task.exception())


async def _restatus(storage: Storage, dataset_id: ObjectId) -> None:
    """Every record's status under the new ``minSubmitted``, record by record (never an
    ``update_many``: ``storage/queue.py``); an intent lets a start-up finish a pass a crash
    cut short, and the counters move with each record (``domain/state_writes.py``)."""
    async with storage.intents.writing(None, dataset_id, finish=lambda _intent: _restatus_once(storage, dataset_id)):
        await _restatus_once(storage, dataset_id)


async def _restatus_once(storage: Storage, dataset_id: ObjectId) -> None:
    await state_writes.restatus_dataset(storage, dataset_id)


async def recount(storage: Storage, dataset: DatasetDoc) -> DatasetDoc:
    """The dataset with its progress counters set from the records (reads the whole dataset),
    through the same guarded recount as repairs (``domain/invariants.py``): replaced only if no
    write overlapped it. When writes never pause, the figures are counted but not stored."""
    await invariants.counters_in_step(storage, dataset["_id"])
    current = await storage.datasets.get(dataset["_id"])
    if current is not None and "tally" in current:
        return current
    records = await storage.records.states(dataset["_id"])
    return {**dataset, "tally": tally.recount(records, dataset["distribution"]["min_submitted"])}


async def count_uncounted(storage: Storage) -> None:
    """Give datasets written before progress counters existed their counters (at start-up)."""
    for dataset in await storage.tallies.uncounted_datasets():
        await recount(storage, dataset)


async def publish_dataset(services: Services, dataset_id: ObjectId) -> DatasetDoc:
    storage, registry = services.storage, services.registry
    dataset = await get_dataset(storage, dataset_id)
    if dataset["status"] != "draft":
        raise Conflict(f"dataset {dataset['name']!r} is already published")
    kind_checks.check_configuration(registry, dataset["fields"], dataset["questions"])
    if not any(f["required"] for f in dataset["fields"]):
        raise Invalid("a dataset needs at least one required field to be published", ["fields"])
    if not any(q["required"] for q in dataset["questions"]):
        raise Invalid("a dataset needs at least one required question to be published",
                      ["questions"])
    updated = await storage.datasets.update(
        dataset_id, {"status": "ready", "updated_at": datetime.now(UTC)}, when={"status": "draft"}
    )
    if updated is None:
        raise Conflict(f"dataset {dataset['name']!r} was published or deleted meanwhile")
    return updated


async def delete_dataset(services: Services, dataset_id: ObjectId) -> DatasetDoc:
    """Mark the dataset as being deleted, wait for the writes that began before the mark,
    then delete its children and itself. A write that begins after the mark finds it once it
    has written, and undoes its write (``state_writes.update``, ``ingest``): no response or
    record outlives the dataset, and a crash half-way leaves a dataset that can be deleted
    again (children first), never orphans."""
    storage = services.storage
    dataset = await get_dataset(storage, dataset_id)
    if not await storage.datasets.mark_deleting(dataset_id):
        raise NotFound(f"dataset {dataset_id} does not exist")
    await _writes_before(storage, dataset_id)
    await storage.responses.delete_dataset(dataset_id)
    await storage.records.delete_dataset(dataset_id)
    await storage.tallies.delete_dataset(dataset_id)
    await storage.vectors.delete_dataset(dataset_id)
    await storage.datasets.delete(dataset_id)
    await dataset_memory.forget(services, dataset_id)
    return dataset


WRITES_WAIT_SECONDS = 30.0


async def _writes_before(storage: Storage, dataset_id: ObjectId) -> None:
    """Wait until the dataset's writes in flight now have ended (their intents are gone), for
    at most ``WRITES_WAIT_SECONDS``: an intent still there by then was left by a crash."""
    waiting = {intent["_id"] for intent in await storage.intents.of_dataset(dataset_id)}
    deadline = asyncio.get_running_loop().time() + WRITES_WAIT_SECONDS
    while waiting and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
        waiting &= {intent["_id"] for intent in await storage.intents.of_dataset(dataset_id)}

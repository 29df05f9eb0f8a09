"""Listing a dataset's records: what a caller may filter on, and a page at a time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from feedbackql_server.domain import progress
from feedbackql_server.errors import Invalid
from feedbackql_server.policy import Caller
from feedbackql_server.policy import responses as policy_responses
from feedbackql_server.safety import check_storable
from feedbackql_server.storage import Storage
from feedbackql_server.storage.documents import DatasetDoc, RecordDoc
from feedbackql_server.storage.records import Keyset, MetadataCondition, RecordOrder, RecordQuery

Checked = TypeVar("Checked")

__all__ = ["Keyset", "MetadataCriterion", "RecordCriteria", "RecordOrder", "RecordPage", "page", "query_for"]


@dataclass(frozen=True)
class MetadataCriterion:
    """Metadata ``name`` is one of ``values`` and/or within [ge, le]."""

    name: str
    values: Sequence[Any] | None = None
    ge: float | None = None
    le: float | None = None


@dataclass(frozen=True)
class RecordCriteria:
    """What a caller asks for; statuses are the stored names (``pending``, ``submitted``...)."""

    status: str | None = None
    response_statuses: Sequence[str] = ()
    my_response_statuses: Sequence[str] = ()
    metadata: Sequence[MetadataCriterion] = ()
    external_ids: Sequence[str] | None = None
    text: str | None = None


@dataclass
class RecordPage:
    records: list[RecordDoc]
    has_next: bool
    hidden_metadata: frozenset[str]
    total: Callable[[], Awaitable[int]] = field(repr=False)


def query_for(dataset_id: Any, criteria: RecordCriteria | None, caller: Caller,
              hidden_metadata: Collection[str] = (),
              answered_as: tuple[tuple[str, ...], str] | None = None) -> RecordQuery:
    """The storage query for what ``caller`` asked, within what they may filter on."""
    if criteria is None:
        return RecordQuery(dataset_id=dataset_id, answered_as=answered_as)
    anyones = list(criteria.response_statuses)
    mine = list(criteria.my_response_statuses)
    if anyones and not policy_responses.sees_all(caller):
        # Annotators see only their own responses: whose responses a record has is not theirs
        # to filter on (it told them which records others worked on).
        mine, anyones = [*mine, *anyones], []
    if mine:
        answered_as = (tuple(dict.fromkeys(mine)), str(caller.id))
    return RecordQuery(
        dataset_id=dataset_id,
        statuses=[criteria.status] if criteria.status else [],
        response_statuses=anyones,
        external_ids=_checked(criteria.external_ids, ["filter", "externalIds"]),
        text=_checked(criteria.text, ["filter", "text"]) or None,
        metadata=_metadata_conditions(criteria.metadata, hidden_metadata),
        answered_as=answered_as,
    )


def _checked(value: Checked, path: list[str | int]) -> Checked:
    if value is not None:
        check_storable(value, path)
    return value


def _metadata_conditions(criteria: Sequence[MetadataCriterion],
                         hidden_metadata: Collection[str]) -> list[MetadataCondition]:
    conditions = []
    for index, m in enumerate(criteria):
        path: list[str | int] = ["filter", "metadata", index]
        if m.values is None and m.ge is None and m.le is None:
            raise Invalid("give values, ge or le", path)
        check_storable({m.name: m.values}, path)
        if m.name in hidden_metadata:
            # Answered as for a property no record has (nothing matches): an error would tell
            # the annotator it exists, and a real filter would reveal its values.
            conditions.append(MetadataCondition(name=m.name, values=[]))
            continue
        conditions.append(MetadataCondition(name=m.name, values=m.values, ge=m.ge, le=m.le))
    return conditions


async def page(storage: Storage, dataset: DatasetDoc, query: RecordQuery, order: RecordOrder,
               after: Keyset | None, first: int, hidden_metadata: frozenset[str]) -> RecordPage:
    records, has_next = await storage.records.page(query, order, after, first, dataset.get("next_seq", 0))
    return RecordPage(records, has_next, hidden_metadata, lambda: _total(storage, dataset, query))


async def _total(storage: Storage, dataset: DatasetDoc, query: RecordQuery) -> int:
    """An unfiltered total is the dataset's counter; a filtered one counts (the whole
    dataset on FerretDB)."""
    if query == RecordQuery(dataset_id=dataset["_id"]):
        total: int = (await progress.counters(storage, dataset))["records"]
        return total
    return await storage.records.count(query)

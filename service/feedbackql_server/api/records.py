"""GraphQL types for records and the ``records`` connection: filter translation, paging, edges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from bson import ObjectId
from strawberry.scalars import JSON

from feedbackql_server.api import access, cursors, resolvers
from feedbackql_server.api.context import Context, Info
from feedbackql_server.api.enums import RecordSortField, RecordStatus, SortDirection
from feedbackql_server.api.inputs import RecordFilter, RecordSort
from feedbackql_server.api.kind_interfaces import Value
from feedbackql_server.api.kind_types import KindTypes
from feedbackql_server.api.responses import Response
from feedbackql_server.domain import progress
from feedbackql_server.errors import Invalid
from feedbackql_server.policy import Caller
from feedbackql_server.policy import datasets as policy_datasets
from feedbackql_server.policy import records as policy_records
from feedbackql_server.policy import responses as policy_responses
from feedbackql_server.safety import check_storable
from feedbackql_server.storage.records import MetadataCondition, RecordOrder, RecordQuery

if TYPE_CHECKING:
    from feedbackql_server.api.datasets import Dataset

Doc = dict[str, Any]


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Suggestion:
    question: str
    value: Value
    json: JSON = strawberry.field(description="The value as stored: for clients that do not know the kind.")
    score: float | None
    agent: str | None


@strawberry.type
class Record:
    id: strawberry.ID
    external_id: str | None
    fields: JSON
    metadata: JSON
    status: RecordStatus
    suggestions: list[Suggestion]
    created_at: datetime
    updated_at: datetime
    dataset_id: strawberry.Private[Any]
    leases: strawberry.Private[list[Doc]]

    @resolvers.field(description="When your lease on this record (from nextRecords) ends.")
    def my_lease_expires_at(self, info: Info) -> datetime | None:
        user_key = str(info.context.caller.id)
        return next((lease["until"] for lease in self.leases
                     if lease["user"] == user_key and lease["until"] > datetime.now(UTC)), None)

    @resolvers.field(description="All responses for owners and admins; annotators see their own.")
    async def responses(self, info: Info) -> list[Response]:
        docs = await info.context.loaders.responses.load(ObjectId(str(self.id)))
        kinds = info.context.kinds
        return [Response.of(doc, kinds) for doc in policy_responses.visible(info.context.caller, docs)]

    @strawberry.field
    async def dataset(self, info: Info) -> Annotated[Dataset, strawberry.lazy("feedbackql_server.api.datasets")]:
        # Imported here: records name their dataset, and datasets page their records.
        from feedbackql_server.api.datasets import Dataset

        doc = access.present(await info.context.loaders.datasets.load(self.dataset_id), "dataset")
        return Dataset.of(doc, info.context.kinds, info.context.caller)

    @classmethod
    def of(cls, doc: Doc, kinds: KindTypes, hidden_metadata: frozenset[str]) -> Record:
        metadata = policy_records.visible_metadata(doc.get("metadata") or {}, hidden_metadata)
        return cls(
            id=strawberry.ID(str(doc["_id"])), external_id=doc.get("external_id"),
            fields=doc["fields"], metadata=cast(JSON, metadata),
            status=RecordStatus(doc["status"]),
            suggestions=[Suggestion(question=s["question"], json=s["value"],
                                    value=kinds.values.stored_to_output(s),
                                    score=s.get("score"), agent=s.get("agent"))
                         for s in doc.get("suggestions", [])],
            created_at=doc["created_at"], updated_at=doc["updated_at"],
            dataset_id=doc["dataset_id"], leases=doc.get("leases", []),
        )


@strawberry.type
class RecordEdge:
    cursor: str
    node: Record


@strawberry.type
class RecordConnection:
    edges: list[RecordEdge]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @resolvers.field(description="Records matching the filter, over all pages.")
    async def total_count(self) -> int:
        return await self.count()


@strawberry.type(description="A record that could not be added, by its index in the batch.")
class RecordError:
    index: int
    code: str
    message: str


@strawberry.type
class AddRecordsPayload:
    created: int
    updated: int
    errors: list[RecordError]


@strawberry.type
class DeleteRecordsPayload:
    deleted: int
    ids: list[strawberry.ID]


def record_query(dataset_id: Any, where: RecordFilter | None, caller: Caller,
                 hidden_metadata: Collection[str] = (),
                 answered_as: tuple[tuple[str, ...], str] | None = None) -> RecordQuery:
    if where is None:
        return RecordQuery(dataset_id=dataset_id, answered_as=answered_as)
    anyones = [s.value for s in where.response_status or []]
    mine = [s.value for s in where.my_response_status or []]
    if anyones and not policy_responses.sees_all(caller):
        # Annotators see only their own responses: whose responses a record has is not theirs
        # to filter on (it told them which records others worked on).
        mine, anyones = [*mine, *anyones], []
    if mine:
        answered_as = (tuple(dict.fromkeys(mine)), str(caller.id))
    conditions = []
    for index, m in enumerate(where.metadata or []):
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
    if where.text is not None:
        check_storable(where.text, ["filter", "text"])
    if where.external_ids is not None:
        check_storable(where.external_ids, ["filter", "externalIds"])
    return RecordQuery(
        dataset_id=dataset_id,
        statuses=[where.status.value] if where.status else [],
        response_statuses=anyones,
        external_ids=where.external_ids,
        text=where.text or None,
        metadata=conditions,
        answered_as=answered_as,
    )


async def _total(ctx: Context, dataset: Any, query: RecordQuery) -> int:
    """An unfiltered total is the dataset's counter; a filtered one counts (the whole
    dataset on FerretDB)."""
    if query == RecordQuery(dataset_id=dataset["_id"]):
        total: int = (await progress.counters(ctx.storage, dataset))["records"]
        return total
    return await ctx.storage.records.count(query)


async def records_page(
    ctx: Context,
    dataset_id: str,
    where: RecordFilter | None,
    sort: RecordSort | None,
    first: int,
    after: str | None,
    answered_as: str | None = None,
) -> RecordConnection:
    """A page of the dataset's records; with ``answered_as`` (a response status), only the
    records the caller has a response of that status to."""
    limit = ctx.settings.max_page_size
    if not 1 <= first <= limit:
        raise Invalid(f"first is between 1 and {limit}", ["first"])
    dataset = await access.dataset(ctx, dataset_id)
    hidden = policy_datasets.hidden_metadata(ctx.caller, dataset)
    sort = sort or RecordSort()
    order = RecordOrder(by_updated=sort.field is RecordSortField.UPDATED_AT,
                        descending=sort.direction is SortDirection.DESC)
    mine = ((answered_as,), str(ctx.caller.id)) if answered_as else None
    query = record_query(dataset["_id"], where, ctx.caller, hidden, mine)
    keyset = cursors.decode(order, after) if after else None
    page, has_next = await ctx.storage.records.page(query, order, keyset, first, dataset.get("next_seq", 0))
    edges = [RecordEdge(cursor=cursors.encode(order, doc), node=Record.of(doc, ctx.kinds, hidden))
             for doc in page]
    return RecordConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=has_next,
                           end_cursor=edges[-1].cursor if edges else None),
        count=lambda: _total(ctx, dataset, query),
    )

"""GraphQL types for records and the ``records`` connection: filter translation, paging, edges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from bson import ObjectId
from strawberry.scalars import JSON
from strawberry.types.nodes import SelectedField, Selection

from feedbackql_server.api import resolvers
from feedbackql_server.api.context import Context, Info
from feedbackql_server.api.enums import RecordStatus
from feedbackql_server.api.inputs import RecordFilter, RecordSort
from feedbackql_server.api.kind_interfaces import Value
from feedbackql_server.api.kind_types import KindTypes
from feedbackql_server.api.responses import Response
from feedbackql_server.documents import Lease, RecordDoc
from feedbackql_server.domain import cursors
from feedbackql_server.policy import records as policy_records

if TYPE_CHECKING:
    from feedbackql_server.api.datasets import Dataset



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
    read_error: str | None = strawberry.field(description=(
        "Why this record's content could not be read (its fields and suggestions are then empty); "
        "null when it was read. The rest of the page is unaffected."))
    dataset_id: strawberry.Private[Any]
    bucket: strawberry.Private[str]
    leases: strawberry.Private[list[Lease]]

    @resolvers.field(description="When your lease on this record (from nextRecords) ends.")
    def my_lease_expires_at(self, info: Info) -> datetime | None:
        user_key = str(info.context.caller.id)
        return next((lease["until"] for lease in self.leases
                     if lease["user"] == user_key and lease["until"] > datetime.now(UTC)), None)

    @resolvers.field(description="All responses for owners and admins; annotators see their own.")
    async def responses(self, info: Info) -> list[Response]:
        docs = await info.context.session.responses_to((ObjectId(str(self.id)), self.bucket))
        return [Response.of(doc, info.context.kinds) for doc in docs]

    @strawberry.field
    async def dataset(self, info: Info) -> Annotated[Dataset, strawberry.lazy("feedbackql_server.api.datasets")]:
        # Imported here: records name their dataset, and datasets page their records.
        from feedbackql_server.api.datasets import Dataset

        return Dataset.seen_by(await info.context.session.dataset_of(self.dataset_id), info.context)

    @classmethod
    def of(cls, doc: RecordDoc, kinds: KindTypes, hidden_metadata: frozenset[str]) -> Record:
        metadata = policy_records.visible_metadata(doc.get("metadata") or {}, hidden_metadata)
        return cls(
            id=strawberry.ID(str(doc["_id"])), external_id=doc.get("external_id"),
            fields=cast(JSON, doc["fields"]), metadata=cast(JSON, metadata),
            status=RecordStatus(doc["status"]),
            suggestions=[Suggestion(question=s["question"], json=s["value"],
                                    value=kinds.values.stored_to_output(s),
                                    score=s.get("score"), agent=s.get("agent"))
                         for s in doc.get("suggestions", [])],
            created_at=doc["created_at"], updated_at=doc["updated_at"], read_error=doc.get("read_error"),
            dataset_id=doc["dataset_id"], bucket=doc["bucket"], leases=doc.get("leases", []),
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
    problems: list[JSON] = strawberry.field(default_factory=list, description=(
        "For VALIDATION: every problem found in the record, each {message, path, reason, question} "
        "(path from the record input, in the schema's names)."))


@strawberry.type(description="What addRecords did; every record given is counted once.")
class AddRecordsPayload:
    created: int
    updated: int
    unchanged: int = strawberry.field(description=(
        "Records named by externalId whose fields, metadata and suggestions were already as given."))
    refused: int = strawberry.field(description="Records not written; each has an entry in errors.")
    responses: int = strawberry.field(description=(
        "Responses written from the records' responses (those already stored as given are left alone)."))
    errors: list[RecordError]


@strawberry.type
class DeleteRecordsPayload:
    deleted: int
    ids: list[strawberry.ID]


async def records_page(info: Info, dataset_ref: str, where: RecordFilter | None, sort: RecordSort | None,
                       first: int, after: str | None, answered_as: str | None = None) -> RecordConnection:
    """A page of the dataset's records; with ``answered_as`` (a response status), only the
    records the caller has a response of that status to. When the query asks for
    ``totalCount``, a count the service would refuse is refused before the page is read."""
    ctx: Context = info.context
    sort = sort or RecordSort()
    order = sort.order()
    criteria = where.criteria() if where is not None else None
    made_for = cursors.scope("records", dataset_ref, criteria, answered_as)
    keyset = cursors.decode(order, after, made_for) if after is not None else None
    page = await ctx.session.records(dataset_ref, criteria, order, keyset, first, answered_as,
                                     counted=asks_for(info.selected_fields, "totalCount"))
    edges = [RecordEdge(cursor=cursors.encode(order, doc, made_for),
                        node=Record.of(doc, ctx.kinds, page.hidden_metadata)) for doc in page.records]
    return RecordConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=page.has_next, end_cursor=(
            cursors.position(order, page.resume, made_for) if page.resume
            else edges[-1].cursor if edges else None)),
        count=page.total,
    )


def asks_for(selections: Sequence[Selection], name: str) -> bool:
    """Whether the fields selected under ``selections`` (fragments included) hold ``name``."""
    for selection in selections:
        for child in selection.selections:
            if isinstance(child, SelectedField) and child.name == name:
                return True
            if not isinstance(child, SelectedField) and asks_for([child], name):
                return True
    return False

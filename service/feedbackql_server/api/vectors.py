"""GraphQL for vector spaces, record vectors and ``similarRecords`` (``docs/vectors.md``)."""

from __future__ import annotations

from enum import Enum
from typing import cast

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api import resolvers
from feedbackql_server.api.context import Info
from feedbackql_server.api.inputs import RecordFilter
from feedbackql_server.api.records import Record, RecordError
from feedbackql_server.documents import DatasetDoc
from feedbackql_server.domain.vector_session import Near, RecordVectors, SimilarQuery
from feedbackql_server.domain.vectors import SpaceSpec, spaces_of
from feedbackql_server.domain.vectors import VectorSpace as SpaceOf


@strawberry.enum(description="How a space compares vectors.")
class VectorMetric(Enum):
    COSINE = "cosine"
    DOT = "dot"
    L2 = "l2"


@strawberry.enum
class SimilarityOrder(Enum):
    MOST_SIMILAR = "most"
    LEAST_SIMILAR = "least"


@strawberry.type(description="A named vector space of a dataset: records carry one vector of this dimension in it.")
class VectorSpace:
    name: str
    dimension: int
    metric: VectorMetric

    @classmethod
    def of(cls, space: SpaceOf) -> VectorSpace:
        return cls(name=space.name, dimension=space.dimension, metric=VectorMetric(space.metric))


@strawberry.input
class VectorSpaceInput:
    name: str
    dimension: int
    metric: VectorMetric = VectorMetric.COSINE


@strawberry.input(one_of=True, description="Search near a record's own vector in the space, or near a vector.")
class NearInput:
    record_id: strawberry.ID | None = strawberry.UNSET
    vector: list[float] | None = strawberry.UNSET


@strawberry.input
class RecordVectorsInput:
    record_id: strawberry.ID
    vectors: JSON = strawberry.field(description=(
        "Space name -> list of numbers (or the base64 of little-endian float32 bytes); other spaces are kept."))


@strawberry.type
class SimilarRecord:
    record: Record
    score: float = strawberry.field(description=(
        "Cosine similarity or dot product (higher is nearer), or the L2 distance (lower is nearer)."))


@strawberry.type
class SimilarRecords:
    items: list[SimilarRecord]
    exact: bool = strawberry.field(description="True when every vector was compared; false for an approximate index.")
    searched: int = strawberry.field(description="Vectors in the space when it was searched.")


@strawberry.type
class NearDuplicatePair:
    first: Record
    second: Record
    score: float


@strawberry.type(description="A page of near-duplicate pairs; it may hold fewer than asked and still have a next page.")
class NearDuplicates:
    pairs: list[NearDuplicatePair]
    has_next_page: bool
    end_cursor: str | None
    exact: bool


@strawberry.type(description="What setRecordVectors did; refused entries are listed by index.")
class SetVectorsPayload:
    updated: int
    refused: int
    errors: list[RecordError]


def _spaces(dataset: DatasetDoc) -> list[VectorSpace]:
    return [VectorSpace.of(space) for space in spaces_of(dataset)]


@strawberry.type
class VectorQuery:
    @strawberry.field
    async def vector_spaces(self, info: Info, dataset_id: strawberry.ID) -> list[VectorSpace]:
        _, spaces = await info.context.session.vectors.spaces(dataset_id)
        return [VectorSpace.of(space) for space in spaces]

    @resolvers.field(description=(
        "Records nearest a record or a vector in a space; the filter applies before the top-`first` is "
        "chosen, so `first` results come back whenever that many records match."))
    async def similar_records(self, info: Info, dataset_id: strawberry.ID, space: str, near: NearInput,
                              first: int = 10, filter: RecordFilter | None = None,
                              order: SimilarityOrder = SimilarityOrder.MOST_SIMILAR) -> SimilarRecords:
        ctx = info.context
        ask = SimilarQuery(
            dataset_ref=dataset_id, space=space, first=first,
            near=Near(record_id=near.record_id or None, vector=near.vector or None),
            criteria=filter.criteria() if filter is not None else None,
            most_similar=order is SimilarityOrder.MOST_SIMILAR)
        result, hidden = await ctx.session.vectors.similar(ask)
        return SimilarRecords(
            items=[SimilarRecord(record=Record.of(item.record, ctx.kinds, hidden), score=item.score)
                   for item in result.items],
            exact=result.exact, searched=result.candidates)

    @resolvers.field(description=(
        "Pairs of records whose similarity is at least `threshold` (for L2 spaces: whose distance is at most "
        "`threshold`), each pair once, a page at a time. Owners and admins."))
    async def near_duplicates(self, info: Info, dataset_id: strawberry.ID, space: str, threshold: float,
                              first: int = 50, after: str | None = None) -> NearDuplicates:
        ctx = info.context
        found, hidden = await ctx.session.vectors.near_duplicates(dataset_id, space, threshold, first, after)
        return NearDuplicates(
            pairs=[NearDuplicatePair(first=Record.of(p.first, ctx.kinds, hidden),
                                     second=Record.of(p.second, ctx.kinds, hidden), score=p.score)
                   for p in found.pairs],
            has_next_page=found.has_next, end_cursor=found.end_cursor, exact=found.exact)


@strawberry.type
class VectorMutation:
    @resolvers.mutation(description="Add a vector space to a dataset (draft or published).")
    async def add_vector_space(self, info: Info, dataset_id: strawberry.ID,
                               space: VectorSpaceInput) -> list[VectorSpace]:
        spec = SpaceSpec(name=space.name, dimension=space.dimension, metric=space.metric.value)
        return _spaces(await info.context.session.vectors.add_space(dataset_id, spec))

    @resolvers.mutation(description="Remove a vector space and every vector records have in it.")
    async def remove_vector_space(self, info: Info, dataset_id: strawberry.ID, name: str) -> list[VectorSpace]:
        return _spaces(await info.context.session.vectors.remove_space(dataset_id, name))

    @resolvers.mutation(description=(
        "Set records' vectors (up to 1,000 records) without touching their fields or answers; an entry "
        "with a wrong dimension, NaN or infinity is refused alone."))
    async def set_record_vectors(self, info: Info, dataset_id: strawberry.ID,
                                 records: list[RecordVectorsInput]) -> SetVectorsPayload:
        entries = [RecordVectors(record_id=str(r.record_id), vectors=cast(dict[str, object], r.vectors))
                   for r in records]
        refused = await info.context.session.vectors.set_vectors(dataset_id, entries)
        return SetVectorsPayload(
            updated=len(entries) - len(refused), refused=len(refused),
            errors=[RecordError(index=index, code=error.code, message=error.message,
                                problems=cast(list[JSON], error.extensions.get("errors", [])))
                    for index, error in refused])

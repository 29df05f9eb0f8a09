"""GraphQL types for work distribution and progress, built from the domain's figures."""

from __future__ import annotations

from datetime import datetime

import strawberry

from feedbackql_server.api.enums import ResponseStatus
from feedbackql_server.domain.progress import AnnotatorProgress as AnnotatorFigures
from feedbackql_server.domain.progress import DatasetProgress as DatasetFigures
from feedbackql_server.events import ResponseEvent


@strawberry.type(description="Live responses by status.")
class ResponseCounts:
    submitted: int
    draft: int
    discarded: int

    @classmethod
    def of(cls, counts: dict[str, int]) -> ResponseCounts:
        return cls(submitted=counts["submitted"], draft=counts["draft"], discarded=counts["discarded"])


@strawberry.type
class DatasetProgress:
    dataset_id: strawberry.ID
    min_submitted: int
    total: int
    pending: int
    completed: int
    responses: ResponseCounts
    over_annotation: int = strawberry.field(
        description="Submitted responses beyond minSubmitted, summed over records.")

    @classmethod
    def of(cls, figures: DatasetFigures) -> DatasetProgress:
        return cls(dataset_id=strawberry.ID(str(figures.dataset_id)),
                   min_submitted=figures.min_submitted, total=figures.total,
                   pending=figures.pending, completed=figures.completed,
                   responses=ResponseCounts.of(figures.responses),
                   over_annotation=figures.over_annotation)


@strawberry.type
class AnnotatorProgress:
    user_id: strawberry.ID
    username: str
    submitted: int
    draft: int
    discarded: int
    available: int = strawberry.field(
        description="Pending records this user has not answered yet.")

    @classmethod
    def of(cls, figures: AnnotatorFigures) -> AnnotatorProgress:
        counts = figures.responses
        return cls(user_id=strawberry.ID(str(figures.user_id)), username=figures.username,
                   submitted=counts["submitted"],
                   draft=counts["draft"], discarded=counts["discarded"], available=figures.available)


@strawberry.type(description="A response was written or deleted.")
class ResponseChange:
    dataset_id: strawberry.ID
    record_id: strawberry.ID
    user_id: strawberry.ID
    status: ResponseStatus | None = strawberry.field(description="Null when the response was deleted.")
    deleted: bool
    version: int
    at: datetime

    @classmethod
    def of(cls, event: ResponseEvent) -> ResponseChange:
        deleted = event.status == "deleted"
        return cls(dataset_id=strawberry.ID(str(event.dataset_id)),
                   record_id=strawberry.ID(str(event.record_id)),
                   user_id=strawberry.ID(str(event.user_id)),
                   status=None if deleted else ResponseStatus(event.status), deleted=deleted,
                   version=event.version, at=event.at)

"""Input types that do not depend on the installed kinds, and their translation into the
domain's plain specs (those that embed a kind's ``@oneOf`` input are in ``kind_inputs``)."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api.enums import (
    MetadataPropertyKind,
    RecordSortField,
    RecordStatus,
    ResponseStatus,
    Role,
    SortDirection,
)
from feedbackql_server.domain import config as cfg
from feedbackql_server.domain.listing import MetadataCriterion, RecordCriteria
from feedbackql_server.errors import Invalid
from feedbackql_server.paging import RecordOrder


@strawberry.input
class DistributionInput:
    min_submitted: int


@strawberry.input
class MetadataPropertyInput:
    name: str
    kind: MetadataPropertyKind
    title: str | None = None
    values: list[str] | None = strawberry.field(
        default=None, description="TERMS only: the allowed terms (any when omitted)."
    )
    min: float | None = None
    max: float | None = None
    visible_for_annotators: bool = True

    def spec(self) -> cfg.MetadataPropertySpec:
        return cfg.MetadataPropertySpec(
            name=self.name, kind=self.kind.value, title=self.title, values=self.values,
            min=self.min, max=self.max, visible_for_annotators=self.visible_for_annotators,
        )


@strawberry.input
class UpdateDatasetInput:
    name: str | None = None
    guidelines: str | None = None
    distribution: DistributionInput | None = None
    allow_extra_metadata: bool | None = None
    metadata_properties: list[MetadataPropertyInput] | None = None


@strawberry.input
class CreateUserInput:
    username: str
    role: Role
    workspace_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.input(description="Metadata `name` is one of `values` and/or within [ge, le].")
class MetadataFilter:
    name: str
    values: list[JSON] | None = None
    ge: float | None = None
    le: float | None = None


@strawberry.input
class RecordFilter:
    status: RecordStatus | None = None
    response_status: list[ResponseStatus] | None = strawberry.field(
        default=None, description="Records having a response of one of these statuses by anyone "
                                  "(for annotators: by themselves, as myResponseStatus)."
    )
    my_response_status: list[ResponseStatus] | None = strawberry.field(
        default=None, description="Records you have a response of one of these statuses to."
    )
    metadata: list[MetadataFilter] | None = None
    external_ids: list[str] | None = None
    text: str | None = strawberry.field(
        default=None, description="Words the record's field texts all contain: whole words, any case, "
                                  "any order (docs/queries.md)."
    )

    def criteria(self) -> RecordCriteria:
        return RecordCriteria(
            status=self.status.value if self.status else None,
            response_statuses=[s.value for s in self.response_status or []],
            my_response_statuses=[s.value for s in self.my_response_status or []],
            metadata=[MetadataCriterion(name=m.name, values=m.values, ge=m.ge, le=m.le)
                      for m in self.metadata or []],
            external_ids=self.external_ids,
            text=self.text,
        )


@strawberry.input
class RecordSort:
    field: RecordSortField = RecordSortField.INSERTED_AT
    direction: SortDirection = SortDirection.ASC
    name: str | None = strawberry.field(default=None, description=(
        "METADATA: the metadata property; SUGGESTION_SCORE: the question. Sorting by either reads every "
        "record the filter selects, so it is refused (QUERY_TOO_COSTLY) in datasets larger than the "
        "server's maxScanRecords (docs/queries.md)."))

    def order(self) -> RecordOrder:
        """The order asked for; a ``name`` goes with METADATA and SUGGESTION_SCORE only."""
        by_name = self.field in (RecordSortField.METADATA, RecordSortField.SUGGESTION_SCORE)
        if by_name and not self.name:
            raise Invalid(f"sorting by {self.field.name} needs the `name` of what to sort by", ["sort", "name"])
        if not by_name and self.name is not None:
            raise Invalid(f"`name` goes with METADATA and SUGGESTION_SCORE, not {self.field.name}",
                          ["sort", "name"])
        return RecordOrder(by_updated=self.field is RecordSortField.UPDATED_AT,
                           descending=self.direction is SortDirection.DESC,
                           metadata=self.name if self.field is RecordSortField.METADATA else None,
                           score_of=self.name if self.field is RecordSortField.SUGGESTION_SCORE else None)

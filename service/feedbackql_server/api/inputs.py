"""Input types (built per schema: they embed the plugin ``@oneOf`` inputs) and their
translation into the domain's plain specs."""

# No `from __future__ import annotations`: the class bodies below refer to local variables.

from dataclasses import dataclass
from typing import Any

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
from feedbackql_server.api.kind_types import KindTypes
from feedbackql_server.api.model_types import one_of_member
from feedbackql_server.domain import config as cfg
from feedbackql_server.domain.records import RecordSpec, SuggestionSpec
from feedbackql_server.domain.responses import AnswerSpec, ResponseSpec
from feedbackql_server.domain.values import TypedValue
from feedbackql_server.ids import parse_id


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
        default=None, description="Case-insensitive substring of the record's field texts."
    )


@strawberry.input
class RecordSort:
    field: RecordSortField = RecordSortField.INSERTED_AT
    direction: SortDirection = SortDirection.ASC


@dataclass(frozen=True)
class InputTypes:
    CreateDatasetInput: type
    FieldInput: type
    QuestionInput: type
    RecordInput: type
    ResponseInput: type


def typed_value(value_input: Any) -> TypedValue:
    kind, value = one_of_member(value_input)
    return TypedValue(kind=kind, value=value)


def build_input_types(kinds: KindTypes) -> InputTypes:
    field_settings_input = kinds.field_settings.input
    question_settings_input = kinds.question_settings.input
    value_input = kinds.values.input

    @strawberry.input
    class FieldInput:
        name: str
        settings: field_settings_input  # type: ignore[valid-type]
        title: str | None = None
        required: bool = True

        def spec(self) -> cfg.FieldSpec:
            kind, settings = one_of_member(self.settings)
            return cfg.FieldSpec(name=self.name, kind=kind, settings=settings, title=self.title,
                                 required=self.required)

    @strawberry.input
    class QuestionInput:
        name: str
        settings: question_settings_input  # type: ignore[valid-type]
        title: str | None = None
        description: str | None = None
        required: bool = True

        def spec(self) -> cfg.QuestionSpec:
            kind, settings = one_of_member(self.settings)
            return cfg.QuestionSpec(name=self.name, kind=kind, settings=settings,
                                    title=self.title, description=self.description,
                                    required=self.required)

    @strawberry.input
    class CreateDatasetInput:
        workspace_id: strawberry.ID
        name: str
        guidelines: str | None = None
        fields: list[FieldInput] = strawberry.field(default_factory=list)
        questions: list[QuestionInput] = strawberry.field(default_factory=list)
        metadata_properties: list[MetadataPropertyInput] = strawberry.field(default_factory=list)
        distribution: DistributionInput | None = None
        allow_extra_metadata: bool = True

    @strawberry.input
    class SuggestionInput:
        question: str
        value: value_input  # type: ignore[valid-type]
        score: float | None = None
        agent: str | None = None

    @strawberry.input
    class RecordInput:
        fields: JSON
        external_id: str | None = None
        metadata: JSON | None = None
        suggestions: list[SuggestionInput] = strawberry.field(default_factory=list)

        def spec(self) -> RecordSpec:
            return RecordSpec(
                fields=self.fields, external_id=self.external_id, metadata=self.metadata,
                suggestions=tuple(
                    SuggestionSpec(question=s.question, value=typed_value(s.value),
                                   score=s.score, agent=s.agent)
                    for s in self.suggestions
                ),
            )

    @strawberry.input
    class ResponseValueInput:
        question: str
        value: value_input  # type: ignore[valid-type]

    @strawberry.input
    class ResponseInput:
        record_id: strawberry.ID
        status: ResponseStatus
        values: list[ResponseValueInput] = strawberry.field(default_factory=list)
        expected_version: int | None = strawberry.field(
            default=None,
            description="Optimistic concurrency: the version you read (0: no response yet).",
        )

        def spec(self) -> ResponseSpec:
            return ResponseSpec(
                record_id=parse_id(self.record_id, "record"),
                status=self.status.value,
                values=tuple(AnswerSpec(question=v.question, value=typed_value(v.value))
                             for v in self.values),
                expected_version=self.expected_version,
            )

    return InputTypes(
        CreateDatasetInput=CreateDatasetInput, FieldInput=FieldInput,
        QuestionInput=QuestionInput, RecordInput=RecordInput, ResponseInput=ResponseInput,
    )

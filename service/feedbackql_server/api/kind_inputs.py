"""The inputs and mutations whose types depend on the installed kinds, generated per schema.

Why generated: a ``QuestionInput`` embeds ``QuestionSettingsInput``, the ``@oneOf`` input with
one member per installed question kind, and GraphQL inputs cannot be interfaces. So the input
types that embed a kind's input, and the mutations that take them, are built here for each
schema; they only translate into domain specs and call ``mutations``. Static type checkers
cannot see classes whose annotations are local variables, which is why mypy is relaxed for
this one module (pyproject.toml).
"""

# No `from __future__ import annotations`: the class bodies below refer to local variables.

from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api import mutations
from feedbackql_server.api.context import Info
from feedbackql_server.api.datasets import Dataset
from feedbackql_server.api.enums import ResponseStatus
from feedbackql_server.api.inputs import DistributionInput, MetadataPropertyInput
from feedbackql_server.api.kind_types import KindTypes
from feedbackql_server.api.model_types import one_of_member
from feedbackql_server.api.records import AddRecordsPayload
from feedbackql_server.api.responses import Response
from feedbackql_server.domain import config as cfg
from feedbackql_server.domain.datasets import DatasetSpec
from feedbackql_server.domain.readd import OnConflict
from feedbackql_server.domain.records import ImportedResponseSpec, RecordSpec, SuggestionSpec
from feedbackql_server.domain.responses import AnswerSpec, ResponseSpec
from feedbackql_server.domain.values import TypedValue
from feedbackql_server.ids import parse_id

BATCH_DESCRIPTION = ("Several responses (up to 1,000); all are checked before any is written. An error names its "
                     "input (extensions.input) and how many inputs before it were written (extensions.written).")

def typed_value(value_input: Any) -> TypedValue:
    kind, value = one_of_member(value_input)
    return TypedValue(kind=kind, value=value)


@dataclass(frozen=True)
class KindInputs:
    CreateDatasetInput: type
    FieldInput: type
    QuestionInput: type
    RecordInput: type
    ResponseInput: type


def build_kind_inputs(kinds: KindTypes) -> KindInputs:
    field_input, question_input = _configuration_inputs(kinds)
    return KindInputs(
        CreateDatasetInput=_create_dataset_input(field_input, question_input),
        FieldInput=field_input, QuestionInput=question_input,
        RecordInput=_record_input(kinds), ResponseInput=_response_input(kinds),
    )


def _configuration_inputs(kinds: KindTypes) -> tuple[type, type]:
    field_settings_input = kinds.field_settings.input
    question_settings_input = kinds.question_settings.input

    @strawberry.input
    class FieldInput:
        name: str
        settings: field_settings_input
        title: str | None = None
        required: bool = True

        def spec(self) -> cfg.FieldSpec:
            kind, settings = one_of_member(self.settings)
            return cfg.FieldSpec(name=self.name, kind=kind, settings=settings, title=self.title,
                                 required=self.required)

    @strawberry.input
    class QuestionInput:
        name: str
        settings: question_settings_input
        title: str | None = None
        description: str | None = None
        required: bool = True

        def spec(self) -> cfg.QuestionSpec:
            kind, settings = one_of_member(self.settings)
            return cfg.QuestionSpec(name=self.name, kind=kind, settings=settings, title=self.title,
                                    description=self.description, required=self.required)

    return FieldInput, QuestionInput


def _create_dataset_input(field_input: type, question_input: type) -> type:
    @strawberry.input
    class CreateDatasetInput:
        workspace_id: strawberry.ID
        name: str
        guidelines: str | None = None
        fields: list[field_input] = strawberry.field(default_factory=list)
        questions: list[question_input] = strawberry.field(default_factory=list)
        metadata_properties: list[MetadataPropertyInput] = strawberry.field(default_factory=list)
        distribution: DistributionInput | None = None
        allow_extra_metadata: bool = True

        def spec(self, workspace_id: Any) -> DatasetSpec:
            return DatasetSpec(
                workspace_id=workspace_id, name=self.name, guidelines=self.guidelines,
                fields=[f.spec() for f in self.fields], questions=[q.spec() for q in self.questions],
                metadata_properties=[p.spec() for p in self.metadata_properties],
                min_submitted=self.distribution.min_submitted if self.distribution else 1,
                allow_extra_metadata=self.allow_extra_metadata,
            )

    return CreateDatasetInput


def _record_input(kinds: KindTypes) -> type:
    value_input = kinds.values.input

    @strawberry.input
    class SuggestionInput:
        question: str
        value: value_input
        score: float | None = None
        agent: str | None = None

    @strawberry.input
    class RecordResponseValueInput:
        question: str
        value: value_input

    @strawberry.input(description=(
        "An answer that comes with its record (a migration, a re-imported export): checked and "
        "counted like any answer. Owners and admins only, like adding records."))
    class RecordResponseInput:
        user: str = strawberry.field(description="The username of an existing user who can see the dataset.")
        status: ResponseStatus
        values: list[RecordResponseValueInput] = strawberry.field(default_factory=list)

    @strawberry.input
    class RecordInput:
        fields: JSON
        external_id: str | None = None
        metadata: JSON | None = strawberry.field(default=None, description=(
            "Replaces a re-added record's metadata; null keeps it."))
        suggestions: list[SuggestionInput] = strawberry.field(default_factory=list, description=(
            "A re-add replaces the suggestions of the questions it names and keeps the others."))
        responses: list[RecordResponseInput] = strawberry.field(default_factory=list)
        vectors: JSON | None = strawberry.field(default=None, description=(
            "Space name -> list of numbers, or the base64 of the vector's little-endian float32 bytes (a "
            "quarter of the size, far quicker to encode and read), one per vector space of the dataset "
            "(see addVectorSpace)."))

        def spec(self) -> RecordSpec:
            return RecordSpec(
                fields=self.fields, external_id=self.external_id, metadata=self.metadata,
                suggestions=tuple(SuggestionSpec(question=s.question, value=typed_value(s.value),
                                                 score=s.score, agent=s.agent)
                                  for s in self.suggestions),
                responses=tuple(ImportedResponseSpec(
                    user=r.user, status=r.status.value,
                    values=tuple(AnswerSpec(question=v.question, value=typed_value(v.value)) for v in r.values))
                    for r in self.responses),
                vectors=self.vectors,
            )

    return RecordInput


def _response_input(kinds: KindTypes) -> type:
    value_input = kinds.values.input

    @strawberry.input
    class ResponseValueInput:
        question: str
        value: value_input

    @strawberry.input
    class ResponseInput:
        record_id: strawberry.ID
        status: ResponseStatus
        values: list[ResponseValueInput] = strawberry.field(default_factory=list)
        expected_version: int | None = strawberry.field(
            default=None, description="Optimistic concurrency: the version you read (0: no response yet).")

        def spec(self) -> ResponseSpec:
            return ResponseSpec(
                record_id=parse_id(self.record_id, "record"), status=self.status.value,
                values=tuple(AnswerSpec(question=v.question, value=typed_value(v.value)) for v in self.values),
                expected_version=self.expected_version,
            )

    return ResponseInput


def build_kind_mutation(inputs: KindInputs) -> type:
    CreateDatasetInput, FieldInput, QuestionInput = inputs.CreateDatasetInput, inputs.FieldInput, inputs.QuestionInput
    RecordInput, ResponseInput = inputs.RecordInput, inputs.ResponseInput

    @strawberry.type
    class KindMutation:
        @strawberry.mutation
        async def create_dataset(self, info: Info, input: CreateDatasetInput) -> Dataset:
            return await mutations.create_dataset(info, input.workspace_id, input.spec)

        @strawberry.mutation(description="Add a field to a draft dataset.")
        async def add_field(self, info: Info, dataset_id: strawberry.ID, field: FieldInput) -> Dataset:
            return await mutations.add_field(info, dataset_id, field.spec())

        @strawberry.mutation(description="Add a question to a draft dataset.")
        async def add_question(self, info: Info, dataset_id: strawberry.ID, question: QuestionInput) -> Dataset:
            return await mutations.add_question(info, dataset_id, question.spec())

        @strawberry.mutation(description=(
            "Add or update (by externalId) up to 1,000 records, with their responses if any. A re-add "
            "that changes the fields of a record that has responses is refused for that record unless "
            "onConflict says otherwise."))
        async def add_records(self, info: Info, dataset_id: strawberry.ID, records: list[RecordInput],
                              on_conflict: OnConflict = OnConflict.REFUSE) -> AddRecordsPayload:
            return await mutations.add_records(info, dataset_id, [r.spec() for r in records], on_conflict)

        @strawberry.mutation(description="Create or replace your response to a record.")
        async def submit_response(self, info: Info, input: ResponseInput) -> Response:
            (response,) = await mutations.submit_responses(info, [input.spec()], batch=False)
            return response

        @strawberry.mutation(description=BATCH_DESCRIPTION)
        async def submit_responses(self, info: Info, inputs: list[ResponseInput]) -> list[Response]:
            return await mutations.submit_responses(info, [i.spec() for i in inputs])

    return KindMutation

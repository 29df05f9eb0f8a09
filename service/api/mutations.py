"""The root ``Mutation`` type: parse, check the caller, call the domain, shape the result."""

# No `from __future__ import annotations`: the class body refers to local variables.

import strawberry

from feedbackql.api.enums import Role
from feedbackql.api.inputs import CreateUserInput, InputTypes, UpdateDatasetInput
from feedbackql.api.types import (
    AddRecordsPayload,
    DeleteRecordsPayload,
    Info,
    OutputTypes,
    RecordError,
    User,
)
from feedbackql.domain import datasets as ds
from feedbackql.domain import identity, ingest, responses
from feedbackql.domain.config import check_name
from feedbackql.domain.datasets import DatasetChanges, DatasetSpec
from feedbackql.errors import Forbidden, Invalid, NotFound
from feedbackql.ids import parse_id

MAX_BATCH_RESPONSES = 1000


def build_mutation(types: OutputTypes, inputs: InputTypes) -> type:
    Workspace, Dataset, Response = types.Workspace, types.Dataset, types.Response
    CreateDatasetInput, FieldInput = inputs.CreateDatasetInput, inputs.FieldInput
    QuestionInput, RecordInput, ResponseInput = (
        inputs.QuestionInput, inputs.RecordInput, inputs.ResponseInput
    )

    @strawberry.type
    class Mutation:
        @strawberry.mutation
        async def create_workspace(self, info: Info, name: str) -> Workspace:  # type: ignore[valid-type]
            info.context.require_user()
            check_name(name, ["name"])
            return types.workspace(await info.context.storage.workspaces.create(name))

        @strawberry.mutation(description="Create a user; the API key is returned only here.")
        async def create_user(self, info: Info, input: CreateUserInput) -> types.CreateUserPayload:  # type: ignore[valid-type]
            caller_role = info.context.user["role"]
            if caller_role not in ("owner", "admin"):
                raise Forbidden("only owners and admins create users")
            if caller_role != "owner" and input.role is not Role.ANNOTATOR:
                raise Forbidden("only owners create owners and admins")
            check_name(input.username, ["input", "username"])
            workspace_ids = [parse_id(w, "workspace") for w in input.workspace_ids]
            found = await info.context.storage.workspaces.by_ids(workspace_ids)
            if len(found) != len(set(workspace_ids)):
                raise NotFound("one of workspaceIds does not exist")
            api_key = identity.new_api_key()
            doc = await info.context.storage.users.create(
                input.username, input.role.value, identity.hash_key(api_key), workspace_ids
            )
            return types.CreateUserPayload(user=User.of(doc), api_key=api_key)

        @strawberry.mutation
        async def add_workspace_member(
            self, info: Info, workspace_id: strawberry.ID, user_id: strawberry.ID
        ) -> User:
            info.context.require_user()
            workspace = parse_id(workspace_id, "workspace")
            if await info.context.storage.workspaces.get(workspace) is None:
                raise NotFound(f"workspace {workspace_id} does not exist")
            doc = await info.context.storage.users.add_workspace(parse_id(user_id, "user"), workspace)
            if doc is None:
                raise NotFound(f"user {user_id} does not exist")
            return User.of(doc)

        @strawberry.mutation
        async def create_dataset(self, info: Info, input: CreateDatasetInput) -> Dataset:  # type: ignore[valid-type]
            info.context.require_user()
            spec = DatasetSpec(
                workspace_id=parse_id(input.workspace_id, "workspace"),
                name=input.name,
                guidelines=input.guidelines,
                fields=[f.spec() for f in input.fields],
                questions=[q.spec() for q in input.questions],
                metadata_properties=[p.spec() for p in input.metadata_properties],
                min_submitted=input.distribution.min_submitted if input.distribution else 1,
                allow_extra_metadata=input.allow_extra_metadata,
            )
            ctx = info.context
            return types.dataset(await ds.create_dataset(ctx.storage, ctx.registry, spec))

        @strawberry.mutation(description="Add a field to a draft dataset.")
        async def add_field(self, info: Info, dataset_id: strawberry.ID, field: FieldInput) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            ctx.require_user()
            doc = await ds.add_field(ctx.storage, ctx.registry, parse_id(dataset_id, "dataset"),
                                     field.spec())
            return types.dataset(doc)

        @strawberry.mutation(description="Add a question to a draft dataset.")
        async def add_question(self, info: Info, dataset_id: strawberry.ID, question: QuestionInput) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            ctx.require_user()
            doc = await ds.add_question(ctx.storage, ctx.registry,
                                        parse_id(dataset_id, "dataset"), question.spec())
            return types.dataset(doc)

        @strawberry.mutation
        async def update_dataset(self, info: Info, id: strawberry.ID, input: UpdateDatasetInput) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            ctx.require_user()
            changes = DatasetChanges(
                name=input.name,
                guidelines=input.guidelines,
                min_submitted=input.distribution.min_submitted if input.distribution else None,
                allow_extra_metadata=input.allow_extra_metadata,
                metadata_properties=None if input.metadata_properties is None
                else [p.spec() for p in input.metadata_properties],
            )
            doc = await ds.update_dataset(ctx.storage, ctx.registry, parse_id(id, "dataset"),
                                          changes)
            return types.dataset(doc)

        @strawberry.mutation(description="Freeze fields and questions; records can then be added.")
        async def publish_dataset(self, info: Info, id: strawberry.ID) -> Dataset:  # type: ignore[valid-type]
            info.context.require_user()
            doc = await ds.publish_dataset(info.context.storage, parse_id(id, "dataset"))
            return types.dataset(doc)

        @strawberry.mutation(description="Delete a dataset with its records and responses.")
        async def delete_dataset(self, info: Info, id: strawberry.ID) -> strawberry.ID:
            info.context.require_user()
            doc = await ds.delete_dataset(info.context.storage, parse_id(id, "dataset"))
            return strawberry.ID(str(doc["_id"]))

        @strawberry.mutation(description="Add or update (by externalId) up to 1,000 records.")
        async def add_records(
            self, info: Info, dataset_id: strawberry.ID, records: list[RecordInput]  # type: ignore[valid-type]
        ) -> AddRecordsPayload:
            ctx = info.context
            ctx.require_user()
            result = await ingest.add_records(
                ctx.storage, ctx.registry, parse_id(dataset_id, "dataset"),
                [r.spec() for r in records], ctx.settings.max_records_per_call,
            )
            return AddRecordsPayload(
                created=result.created, updated=result.updated,
                errors=[RecordError(index=e.index, code=e.code, message=e.message)
                        for e in result.errors],
            )

        @strawberry.mutation
        async def delete_records(
            self, info: Info, dataset_id: strawberry.ID, ids: list[strawberry.ID]
        ) -> DeleteRecordsPayload:
            ctx = info.context
            ctx.require_user()
            record_ids = [parse_id(i, "record") for i in ids]
            deleted = await ingest.delete_records(ctx.storage, parse_id(dataset_id, "dataset"),
                                                  record_ids)
            return DeleteRecordsPayload(deleted=len(deleted),
                                        ids=[strawberry.ID(str(i)) for i in deleted])

        @strawberry.mutation(description="Create or replace your response to a record.")
        async def submit_response(self, info: Info, input: ResponseInput) -> Response:  # type: ignore[valid-type]
            ctx = info.context
            (doc,) = await responses.submit_responses(ctx.storage, ctx.registry, ctx.user["_id"],
                                                      [input.spec()])
            return types.response(doc)

        @strawberry.mutation(description="Several responses; each is checked and written alone.")
        async def submit_responses(self, info: Info, inputs: list[ResponseInput]) -> list[Response]:  # type: ignore[valid-type]
            ctx = info.context
            user_id = ctx.user["_id"]
            if len(inputs) > MAX_BATCH_RESPONSES:
                raise Invalid(f"at most {MAX_BATCH_RESPONSES} responses per call", ["inputs"])
            docs = await responses.submit_responses(ctx.storage, ctx.registry, user_id,
                                                    [i.spec() for i in inputs])
            return [types.response(doc) for doc in docs]

        @strawberry.mutation(description="Delete your response to a record.")
        async def delete_response(self, info: Info, record_id: strawberry.ID) -> strawberry.ID:
            ctx = info.context
            doc = await responses.delete_response(ctx.storage, ctx.user["_id"],
                                                  parse_id(record_id, "record"))
            return strawberry.ID(str(doc["_id"]))

    return Mutation

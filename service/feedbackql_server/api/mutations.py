"""The root ``Mutation`` type: parse, check the caller, call the domain, shape the result."""

# No `from __future__ import annotations`: the class body refers to local variables.

from typing import cast

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api import access
from feedbackql_server.api.inputs import CreateUserInput, InputTypes, UpdateDatasetInput
from feedbackql_server.api.types import (
    AddRecordsPayload,
    DeleteRecordsPayload,
    Info,
    OutputTypes,
    RecordError,
)
from feedbackql_server.domain import datasets as ds
from feedbackql_server.domain import ingest, members, queue, responses
from feedbackql_server.domain.datasets import DatasetChanges, DatasetSpec
from feedbackql_server.domain.members import UserWithKey
from feedbackql_server.errors import Invalid
from feedbackql_server.ids import parse_id
from feedbackql_server.policy import datasets as policy_datasets

MAX_BATCH_RESPONSES = 1000


def build_mutation(types: OutputTypes, inputs: InputTypes) -> type:
    User, Workspace, Dataset, Response = types.User, types.Workspace, types.Dataset, types.Response
    Record = types.Record
    CreateDatasetInput, FieldInput = inputs.CreateDatasetInput, inputs.FieldInput
    QuestionInput, RecordInput, ResponseInput = (
        inputs.QuestionInput, inputs.RecordInput, inputs.ResponseInput
    )

    def with_key(result: UserWithKey) -> types.UserWithApiKey:  # type: ignore[name-defined]
        return types.UserWithApiKey(user=types.user(result.user), api_key=result.api_key)

    @strawberry.type
    class Mutation:
        @strawberry.mutation(description="Owners only.")
        async def create_workspace(self, info: Info, name: str) -> Workspace:  # type: ignore[valid-type]
            ctx = info.context
            return types.workspace(await members.create_workspace(ctx.storage, ctx.caller, name))

        @strawberry.mutation(description="Owners only; refused while the workspace holds datasets.")
        async def delete_workspace(self, info: Info, id: strawberry.ID) -> strawberry.ID:
            ctx = info.context
            await members.delete_workspace(ctx.storage, ctx.caller, parse_id(id, "workspace"))
            return id

        @strawberry.mutation(description="Create a user; the API key is returned only here.")
        async def create_user(self, info: Info, input: CreateUserInput) -> types.UserWithApiKey:  # type: ignore[name-defined]
            ctx = info.context
            workspace_ids = [parse_id(w, "workspace") for w in input.workspace_ids]
            result = await members.create_user(ctx.storage, ctx.caller, input.username,
                                               input.role.value, workspace_ids)
            return with_key(result)

        @strawberry.mutation(description="A new API key (your own; owners: anyone's). "
                                         "The old key stops working at once.")
        async def rotate_api_key(self, info: Info, user_id: strawberry.ID) -> types.UserWithApiKey:  # type: ignore[name-defined]
            ctx = info.context
            result = await members.rotate_api_key(ctx.storage, ctx.caller, parse_id(user_id, "user"))
            await ctx.sessions.revoke(result.user["_id"])
            return with_key(result)

        @strawberry.mutation(description="Owners only. The user's responses are kept.")
        async def delete_user(self, info: Info, id: strawberry.ID) -> strawberry.ID:
            ctx = info.context
            doc = await members.delete_user(ctx.storage, ctx.caller, parse_id(id, "user"))
            await ctx.sessions.revoke(doc["_id"])
            return id

        @strawberry.mutation
        async def add_workspace_member(
            self, info: Info, workspace_id: strawberry.ID, user_id: strawberry.ID
        ) -> User:  # type: ignore[valid-type]
            ctx = info.context
            doc = await members.add_member(ctx.storage, ctx.caller,
                                           parse_id(workspace_id, "workspace"),
                                           parse_id(user_id, "user"))
            return types.user(doc)

        @strawberry.mutation
        async def remove_workspace_member(
            self, info: Info, workspace_id: strawberry.ID, user_id: strawberry.ID
        ) -> User:  # type: ignore[valid-type]
            ctx = info.context
            doc = await members.remove_member(ctx.storage, ctx.caller,
                                              parse_id(workspace_id, "workspace"),
                                              parse_id(user_id, "user"))
            await ctx.sessions.revoke(doc["_id"])
            return types.user(doc)

        @strawberry.mutation
        async def create_dataset(self, info: Info, input: CreateDatasetInput) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            workspace = await access.workspace(ctx, input.workspace_id, manage=True)
            spec = DatasetSpec(
                workspace_id=workspace["_id"],
                name=input.name,
                guidelines=input.guidelines,
                fields=[f.spec() for f in input.fields],
                questions=[q.spec() for q in input.questions],
                metadata_properties=[p.spec() for p in input.metadata_properties],
                min_submitted=input.distribution.min_submitted if input.distribution else 1,
                allow_extra_metadata=input.allow_extra_metadata,
            )
            return types.dataset(await ds.create_dataset(ctx.storage, ctx.registry, spec),
                                 ctx.caller)

        @strawberry.mutation(description="Add a field to a draft dataset.")
        async def add_field(self, info: Info, dataset_id: strawberry.ID, field: FieldInput) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            dataset = await access.dataset(ctx, dataset_id, manage=True)
            doc = await ds.add_field(ctx.storage, ctx.registry, dataset["_id"], field.spec())
            return types.dataset(doc, ctx.caller)

        @strawberry.mutation(description="Add a question to a draft dataset.")
        async def add_question(self, info: Info, dataset_id: strawberry.ID, question: QuestionInput) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            dataset = await access.dataset(ctx, dataset_id, manage=True)
            doc = await ds.add_question(ctx.storage, ctx.registry, dataset["_id"], question.spec())
            return types.dataset(doc, ctx.caller)

        @strawberry.mutation
        async def update_dataset(self, info: Info, id: strawberry.ID, input: UpdateDatasetInput) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            dataset = await access.dataset(ctx, id, manage=True)
            changes = DatasetChanges(
                name=input.name,
                guidelines=input.guidelines,
                min_submitted=input.distribution.min_submitted if input.distribution else None,
                allow_extra_metadata=input.allow_extra_metadata,
                metadata_properties=None if input.metadata_properties is None
                else [p.spec() for p in input.metadata_properties],
            )
            doc = await ds.update_dataset(ctx.storage, ctx.registry, dataset["_id"], changes)
            if changes.min_submitted is not None:
                ctx.queue_pools.rewind(dataset["_id"])
            return types.dataset(doc, ctx.caller)

        @strawberry.mutation(description="Freeze fields and questions; records can then be added.")
        async def publish_dataset(self, info: Info, id: strawberry.ID) -> Dataset:  # type: ignore[valid-type]
            ctx = info.context
            dataset = await access.dataset(ctx, id, manage=True)
            return types.dataset(await ds.publish_dataset(ctx.storage, ctx.registry, dataset["_id"]), ctx.caller)

        @strawberry.mutation(description="Delete a dataset with its records and responses.")
        async def delete_dataset(self, info: Info, id: strawberry.ID) -> strawberry.ID:
            ctx = info.context
            dataset = await access.dataset(ctx, id, manage=True)
            doc = await ds.delete_dataset(ctx.storage, dataset["_id"])
            return strawberry.ID(str(doc["_id"]))

        @strawberry.mutation(description="Add or update (by externalId) up to 1,000 records.")
        async def add_records(
            self, info: Info, dataset_id: strawberry.ID, records: list[RecordInput]  # type: ignore[valid-type]
        ) -> AddRecordsPayload:
            ctx = info.context
            dataset = await access.dataset(ctx, dataset_id, manage=True)
            result = await ingest.add_records(
                ctx.storage, ctx.registry, dataset["_id"],
                [r.spec() for r in records], ctx.settings.max_records_per_call,
            )
            return AddRecordsPayload(
                created=result.created, updated=result.updated,
                errors=[RecordError(index=e.index, code=e.code, message=e.message,
                                    problems=cast(list[JSON], e.problems))
                        for e in result.errors],
            )

        @strawberry.mutation
        async def delete_records(
            self, info: Info, dataset_id: strawberry.ID, ids: list[strawberry.ID]
        ) -> DeleteRecordsPayload:
            ctx = info.context
            dataset = await access.dataset(ctx, dataset_id, manage=True)
            record_ids = [parse_id(i, "record") for i in ids]
            deleted = await ingest.delete_records(ctx.storage, dataset["_id"], record_ids)
            return DeleteRecordsPayload(deleted=len(deleted),
                                        ids=[strawberry.ID(str(i)) for i in deleted])

        @strawberry.mutation(description=(
            "Up to `first` pending records you have not answered, leased to you: nobody else "
            "gets a record beyond the answers it still needs until you submit, discard or the "
            "lease ends. Records you hold already come first."))
        async def next_records(self, info: Info, dataset_id: strawberry.ID, first: int = 1) -> list[Record]:  # type: ignore[valid-type]
            ctx = info.context
            dataset = await access.dataset(ctx, dataset_id)
            docs = await queue.next_records(ctx.storage, ctx.queue_pools, dataset, ctx.caller.id, first,
                                            ctx.settings.lease_seconds)
            hidden = policy_datasets.hidden_metadata(ctx.caller, dataset)
            return [types.record(doc, hidden) for doc in docs]

        @strawberry.mutation(description=(
            "Give back your lease on a record (skip it): others may get it from nextRecords at "
            "once. True when you held one."))
        async def release_record(self, info: Info, record_id: strawberry.ID) -> bool:
            ctx = info.context
            record, dataset = await access.record(ctx, record_id)
            return await queue.release(ctx.storage, ctx.queue_pools, dataset, record, ctx.caller.id)

        @strawberry.mutation(description="Create or replace your response to a record.")
        async def submit_response(self, info: Info, input: ResponseInput) -> Response:  # type: ignore[valid-type]
            ctx = info.context
            (doc,) = await responses.submit_responses(ctx.storage, ctx.registry, ctx.events, ctx.queue_pools,
                                                      ctx.caller, [input.spec()])
            return types.response(doc)

        @strawberry.mutation(description="Several responses; all are checked before any is written.")
        async def submit_responses(self, info: Info, inputs: list[ResponseInput]) -> list[Response]:  # type: ignore[valid-type]
            ctx = info.context
            caller = ctx.caller
            if len(inputs) > MAX_BATCH_RESPONSES:
                raise Invalid(f"at most {MAX_BATCH_RESPONSES} responses per call", ["inputs"])
            docs = await responses.submit_responses(ctx.storage, ctx.registry, ctx.events, ctx.queue_pools, caller,
                                                    [i.spec() for i in inputs])
            return [types.response(doc) for doc in docs]

        @strawberry.mutation(description="Delete your response to a record.")
        async def delete_response(self, info: Info, record_id: strawberry.ID) -> strawberry.ID:
            ctx = info.context
            doc = await responses.delete_response(ctx.storage, ctx.registry, ctx.events, ctx.queue_pools, ctx.caller,
                                                  parse_id(record_id, "record"))
            return strawberry.ID(str(doc["_id"]))

    return Mutation

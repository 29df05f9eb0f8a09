"""The root ``Mutation`` type: parse, check the caller, call the domain, shape the result.

Mutations whose arguments embed a kind's ``@oneOf`` input are declared in ``kind_inputs``
(their input types depend on the installed kinds) and do their work through the functions
at the end of this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry

from feedbackql_server.api import access, resolvers
from feedbackql_server.api.context import Info
from feedbackql_server.api.datasets import Dataset
from feedbackql_server.api.inputs import CreateUserInput, UpdateDatasetInput
from feedbackql_server.api.records import AddRecordsPayload, DeleteRecordsPayload, Record, RecordError
from feedbackql_server.api.responses import Response
from feedbackql_server.api.users import User, UserWithApiKey, Workspace
from feedbackql_server.domain import config as cfg
from feedbackql_server.domain import datasets as ds
from feedbackql_server.domain import ingest, members, queue, responses
from feedbackql_server.domain.datasets import DatasetChanges, DatasetSpec
from feedbackql_server.domain.members import UserWithKey
from feedbackql_server.domain.records import RecordSpec
from feedbackql_server.domain.responses import ResponseSpec
from feedbackql_server.errors import Invalid
from feedbackql_server.ids import parse_id
from feedbackql_server.policy import datasets as policy_datasets

MAX_BATCH_RESPONSES = 1000


def _with_key(result: UserWithKey) -> UserWithApiKey:
    return UserWithApiKey(user=User.of(result.user), api_key=result.api_key)


@strawberry.type
class Mutation:
    @resolvers.mutation(description="Owners only.")
    async def create_workspace(self, info: Info, name: str) -> Workspace:
        ctx = info.context
        return Workspace.of(await members.create_workspace(ctx.storage, ctx.caller, name))

    @resolvers.mutation(description="Owners only; refused while the workspace holds datasets.")
    async def delete_workspace(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        ctx = info.context
        await members.delete_workspace(ctx.storage, ctx.caller, parse_id(id, "workspace"))
        return id

    @resolvers.mutation(description="Create a user; the API key is returned only here.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserWithApiKey:
        ctx = info.context
        workspace_ids = [parse_id(w, "workspace") for w in input.workspace_ids]
        result = await members.create_user(ctx.storage, ctx.caller, input.username,
                                           input.role.value, workspace_ids)
        return _with_key(result)

    @resolvers.mutation(description="A new API key (your own; owners: anyone's). "
                                     "The old key stops working at once.")
    async def rotate_api_key(self, info: Info, user_id: strawberry.ID) -> UserWithApiKey:
        ctx = info.context
        result = await members.rotate_api_key(ctx.storage, ctx.caller, parse_id(user_id, "user"))
        await ctx.sessions.revoke(result.user["_id"])
        return _with_key(result)

    @resolvers.mutation(description="Owners only. The user's responses are kept.")
    async def delete_user(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        ctx = info.context
        doc = await members.delete_user(ctx.storage, ctx.caller, parse_id(id, "user"))
        await ctx.sessions.revoke(doc["_id"])
        return id

    @strawberry.mutation
    async def add_workspace_member(self, info: Info, workspace_id: strawberry.ID, user_id: strawberry.ID) -> User:
        ctx = info.context
        doc = await members.add_member(ctx.storage, ctx.caller, parse_id(workspace_id, "workspace"),
                                       parse_id(user_id, "user"))
        return User.of(doc)

    @strawberry.mutation
    async def remove_workspace_member(self, info: Info, workspace_id: strawberry.ID,
                                      user_id: strawberry.ID) -> User:
        ctx = info.context
        doc = await members.remove_member(ctx.storage, ctx.caller, parse_id(workspace_id, "workspace"),
                                          parse_id(user_id, "user"))
        await ctx.sessions.revoke(doc["_id"])
        return User.of(doc)

    @strawberry.mutation
    async def update_dataset(self, info: Info, id: strawberry.ID, input: UpdateDatasetInput) -> Dataset:
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
        return Dataset.of(doc, ctx.kinds, ctx.caller)

    @resolvers.mutation(description="Freeze fields and questions; records can then be added.")
    async def publish_dataset(self, info: Info, id: strawberry.ID) -> Dataset:
        ctx = info.context
        dataset = await access.dataset(ctx, id, manage=True)
        return Dataset.of(await ds.publish_dataset(ctx.storage, dataset["_id"]), ctx.kinds, ctx.caller)

    @resolvers.mutation(description="Delete a dataset with its records and responses.")
    async def delete_dataset(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        ctx = info.context
        dataset = await access.dataset(ctx, id, manage=True)
        doc = await ds.delete_dataset(ctx.storage, dataset["_id"])
        return strawberry.ID(str(doc["_id"]))

    @strawberry.mutation
    async def delete_records(self, info: Info, dataset_id: strawberry.ID,
                             ids: list[strawberry.ID]) -> DeleteRecordsPayload:
        ctx = info.context
        dataset = await access.dataset(ctx, dataset_id, manage=True)
        record_ids = [parse_id(i, "record") for i in ids]
        deleted = await ingest.delete_records(ctx.storage, dataset["_id"], record_ids)
        return DeleteRecordsPayload(deleted=len(deleted), ids=[strawberry.ID(str(i)) for i in deleted])

    @resolvers.mutation(description=(
        "Up to `first` pending records you have not answered, leased to you: nobody else "
        "gets a record beyond the answers it still needs until you submit, discard or the "
        "lease ends. Records you hold already come first."))
    async def next_records(self, info: Info, dataset_id: strawberry.ID, first: int = 1) -> list[Record]:
        ctx = info.context
        dataset = await access.dataset(ctx, dataset_id)
        docs = await queue.next_records(ctx.storage, ctx.queue_pools, dataset, ctx.caller.id, first,
                                        ctx.settings.lease_seconds)
        hidden = policy_datasets.hidden_metadata(ctx.caller, dataset)
        return [Record.of(doc, ctx.kinds, hidden) for doc in docs]

    @resolvers.mutation(description=(
        "Give back your lease on a record (skip it): others may get it from nextRecords at "
        "once. True when you held one."))
    async def release_record(self, info: Info, record_id: strawberry.ID) -> bool:
        ctx = info.context
        record, dataset = await access.record(ctx, record_id)
        return await queue.release(ctx.storage, ctx.queue_pools, dataset, record, ctx.caller.id)

    @resolvers.mutation(description="Delete your response to a record.")
    async def delete_response(self, info: Info, record_id: strawberry.ID) -> strawberry.ID:
        ctx = info.context
        doc = await responses.delete_response(ctx.storage, ctx.registry, ctx.events, ctx.queue_pools, ctx.caller,
                                              parse_id(record_id, "record"))
        return strawberry.ID(str(doc["_id"]))


# The work of the mutations declared in ``kind_inputs``, given their inputs as domain specs.

async def create_dataset(info: Info, workspace_ref: str, spec_for: Callable[[Any], DatasetSpec]) -> Dataset:
    ctx = info.context
    workspace = await access.workspace(ctx, workspace_ref, manage=True)
    doc = await ds.create_dataset(ctx.storage, ctx.registry, spec_for(workspace["_id"]))
    return Dataset.of(doc, ctx.kinds, ctx.caller)


async def add_field(info: Info, dataset_ref: str, spec: cfg.FieldSpec) -> Dataset:
    ctx = info.context
    dataset = await access.dataset(ctx, dataset_ref, manage=True)
    doc = await ds.add_field(ctx.storage, ctx.registry, dataset["_id"], spec)
    return Dataset.of(doc, ctx.kinds, ctx.caller)


async def add_question(info: Info, dataset_ref: str, spec: cfg.QuestionSpec) -> Dataset:
    ctx = info.context
    dataset = await access.dataset(ctx, dataset_ref, manage=True)
    doc = await ds.add_question(ctx.storage, ctx.registry, dataset["_id"], spec)
    return Dataset.of(doc, ctx.kinds, ctx.caller)


async def add_records(info: Info, dataset_ref: str, specs: list[RecordSpec]) -> AddRecordsPayload:
    ctx = info.context
    dataset = await access.dataset(ctx, dataset_ref, manage=True)
    result = await ingest.add_records(ctx.storage, ctx.registry, dataset["_id"], specs,
                                      ctx.settings.max_records_per_call)
    return AddRecordsPayload(
        created=result.created, updated=result.updated,
        errors=[RecordError(index=e.index, code=e.code, message=e.message) for e in result.errors],
    )


async def submit_responses(info: Info, specs: list[ResponseSpec]) -> list[Response]:
    ctx = info.context
    if len(specs) > MAX_BATCH_RESPONSES:
        raise Invalid(f"at most {MAX_BATCH_RESPONSES} responses per call", ["inputs"])
    docs = await responses.submit_responses(ctx.storage, ctx.registry, ctx.events, ctx.queue_pools,
                                            ctx.caller, specs)
    return [Response.of(doc, ctx.kinds) for doc in docs]

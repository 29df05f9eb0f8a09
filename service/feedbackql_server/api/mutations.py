"""The root ``Mutation`` type: parse, check the caller, call the domain, shape the result.

Mutations whose arguments embed a kind's ``@oneOf`` input are declared in ``kind_inputs``
(their input types depend on the installed kinds) and do their work through the functions
at the end of this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api import resolvers
from feedbackql_server.api.context import Info
from feedbackql_server.api.datasets import Dataset
from feedbackql_server.api.enums import OnConflict
from feedbackql_server.api.inputs import CreateUserInput, UpdateDatasetInput
from feedbackql_server.api.records import AddRecordsPayload, DeleteRecordsPayload, Record, RecordError
from feedbackql_server.api.responses import Response
from feedbackql_server.api.users import User, UserWithApiKey, Workspace
from feedbackql_server.domain import config as cfg
from feedbackql_server.domain.datasets import DatasetChanges, DatasetSpec
from feedbackql_server.domain.members import UserWithKey
from feedbackql_server.domain.records import RecordSpec
from feedbackql_server.domain.responses import ResponseSpec
from feedbackql_server.errors import Invalid

MAX_BATCH_RESPONSES = 1000


def _with_key(result: UserWithKey) -> UserWithApiKey:
    return UserWithApiKey(user=User.of(result.user), api_key=result.api_key)


@strawberry.type
class Mutation:
    @resolvers.mutation(description="Owners only.")
    async def create_workspace(self, info: Info, name: str) -> Workspace:
        ctx = info.context
        return Workspace.of(await ctx.session.create_workspace(name))

    @resolvers.mutation(description="Owners only; refused while the workspace holds datasets.")
    async def delete_workspace(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        ctx = info.context
        await ctx.session.delete_workspace(id)
        return id

    @resolvers.mutation(description="Create a user; the API key is returned only here.")
    async def create_user(self, info: Info, input: CreateUserInput) -> UserWithApiKey:
        ctx = info.context
        return _with_key(await ctx.session.create_user(input.username, input.role.value, input.workspace_ids))

    @resolvers.mutation(description="A new API key (your own; owners: anyone's). "
                                     "The old key stops working at once.")
    async def rotate_api_key(self, info: Info, user_id: strawberry.ID) -> UserWithApiKey:
        ctx = info.context
        result = await ctx.session.rotate_api_key(user_id)
        await ctx.sessions.revoke(result.user["_id"])
        return _with_key(result)

    @resolvers.mutation(description="Owners only. The user's responses are kept.")
    async def delete_user(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        ctx = info.context
        doc = await ctx.session.delete_user(id)
        await ctx.sessions.revoke(doc["_id"])
        return id

    @strawberry.mutation
    async def add_workspace_member(self, info: Info, workspace_id: strawberry.ID, user_id: strawberry.ID) -> User:
        ctx = info.context
        return User.of(await ctx.session.add_member(workspace_id, user_id))

    @strawberry.mutation
    async def remove_workspace_member(self, info: Info, workspace_id: strawberry.ID,
                                      user_id: strawberry.ID) -> User:
        ctx = info.context
        doc = await ctx.session.remove_member(workspace_id, user_id)
        await ctx.sessions.revoke(doc["_id"])
        return User.of(doc)

    @strawberry.mutation
    async def update_dataset(self, info: Info, id: strawberry.ID, input: UpdateDatasetInput) -> Dataset:
        ctx = info.context
        changes = DatasetChanges(
            name=input.name,
            guidelines=input.guidelines,
            min_submitted=input.distribution.min_submitted if input.distribution else None,
            allow_extra_metadata=input.allow_extra_metadata,
            metadata_properties=None if input.metadata_properties is None
            else [p.spec() for p in input.metadata_properties],
        )
        return Dataset.seen_by(await ctx.session.update_dataset(id, changes), ctx)

    @resolvers.mutation(description="Freeze fields and questions; records can then be added.")
    async def publish_dataset(self, info: Info, id: strawberry.ID) -> Dataset:
        ctx = info.context
        return Dataset.seen_by(await ctx.session.publish_dataset(id), ctx)

    @resolvers.mutation(description="Delete a dataset with its records and responses.")
    async def delete_dataset(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        doc = await info.context.session.delete_dataset(id)
        return strawberry.ID(str(doc["_id"]))

    @strawberry.mutation
    async def delete_records(self, info: Info, dataset_id: strawberry.ID,
                             ids: list[strawberry.ID]) -> DeleteRecordsPayload:
        deleted = await info.context.session.delete_records(dataset_id, ids)
        return DeleteRecordsPayload(deleted=len(deleted), ids=[strawberry.ID(str(i)) for i in deleted])

    @resolvers.mutation(description=(
        "Up to `first` pending records you have not answered, leased to you: nobody else "
        "gets a record beyond the answers it still needs until you submit, discard or the "
        "lease ends. Records you hold already come first. With `near` (a record id), the pending "
        "records nearest that record in the vector `space` come first (docs/vectors.md)."))
    async def next_records(self, info: Info, dataset_id: strawberry.ID, first: int = 1,
                           near: strawberry.ID | None = None, space: str | None = None) -> list[Record]:
        ctx = info.context
        if space is not None and near is None:
            raise Invalid("space goes with near (a record id): the records nearest it in that space come first",
                          ["space"])
        docs, dataset = await (ctx.session.vectors.next_near(dataset_id, space, near, first) if near is not None
                               else ctx.session.next_records(dataset_id, first))
        hidden = ctx.session.hidden_metadata(dataset)
        return [Record.of(doc, ctx.kinds, hidden) for doc in docs]

    @resolvers.mutation(description=(
        "Give back your lease on a record: others may get it from nextRecords at once. With "
        "skipMinutes (1-1440) you skip it: nextRecords offers it to you only when nothing else "
        "is open to you, for that long. True when something changed."))
    async def release_record(self, info: Info, record_id: strawberry.ID, skip_minutes: int | None = None) -> bool:
        return await info.context.session.release_record(record_id, skip_minutes)

    @resolvers.mutation(description="Delete your response to a record.")
    async def delete_response(self, info: Info, record_id: strawberry.ID) -> strawberry.ID:
        doc = await info.context.session.delete_response(record_id)
        return strawberry.ID(str(doc["_id"]))


# The work of the mutations declared in ``kind_inputs``, given their inputs as domain specs.

async def create_dataset(info: Info, workspace_ref: str, spec_for: Callable[[Any], DatasetSpec]) -> Dataset:
    return Dataset.seen_by(await info.context.session.create_dataset(workspace_ref, spec_for), info.context)


async def add_field(info: Info, dataset_ref: str, spec: cfg.FieldSpec) -> Dataset:
    return Dataset.seen_by(await info.context.session.add_field(dataset_ref, spec), info.context)


async def add_question(info: Info, dataset_ref: str, spec: cfg.QuestionSpec) -> Dataset:
    return Dataset.seen_by(await info.context.session.add_question(dataset_ref, spec), info.context)


async def add_records(info: Info, dataset_ref: str, specs: list[RecordSpec],
                      on_conflict: OnConflict = OnConflict.REFUSE) -> AddRecordsPayload:
    result = await info.context.session.add_records(dataset_ref, specs, on_conflict)
    return AddRecordsPayload(
        created=result.created, updated=result.updated, unchanged=result.unchanged, refused=result.refused,
        responses=result.responses,
        errors=[RecordError(index=e.index, code=e.code, message=e.message, problems=cast(list[JSON], e.problems))
                for e in result.errors],
    )


async def submit_responses(info: Info, specs: list[ResponseSpec], *, batch: bool = True) -> list[Response]:
    ctx = info.context
    if len(specs) > MAX_BATCH_RESPONSES:
        raise Invalid(f"at most {MAX_BATCH_RESPONSES} responses per call", ["inputs"])
    docs = await ctx.session.submit_responses(specs, batch=batch)
    return [Response.of(doc, ctx.kinds) for doc in docs]

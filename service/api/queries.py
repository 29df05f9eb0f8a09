"""The root ``Query`` type."""

# No `from __future__ import annotations`: the class body refers to local variables.

from typing import Any

import strawberry

from feedbackql.api.inputs import RecordFilter, RecordSort
from feedbackql.api.records import records_page
from feedbackql.api.types import FieldType, Info, OutputTypes, QuestionType, User
from feedbackql.domain.datasets import get_dataset
from feedbackql.errors import NotFound
from feedbackql.ids import parse_id


def build_query(types: OutputTypes) -> type:
    Workspace, Dataset, Record = types.Workspace, types.Dataset, types.Record

    @strawberry.type
    class Query:
        @strawberry.field(description="The calling user.")
        def me(self, info: Info) -> User:
            return User.of(info.context.user)

        @strawberry.field
        async def workspaces(self, info: Info) -> list[Workspace]:  # type: ignore[valid-type]
            info.context.require_user()
            return [types.workspace(doc) for doc in await info.context.storage.workspaces.all()]

        @strawberry.field
        async def dataset(self, info: Info, id: strawberry.ID) -> Dataset:  # type: ignore[valid-type]
            info.context.require_user()
            return types.dataset(await get_dataset(info.context.storage, parse_id(id, "dataset")))

        @strawberry.field
        async def datasets(self, info: Info, workspace_id: strawberry.ID) -> list[Dataset]:  # type: ignore[valid-type]
            info.context.require_user()
            workspace = parse_id(workspace_id, "workspace")
            if await info.context.storage.workspaces.get(workspace) is None:
                raise NotFound(f"workspace {workspace_id} does not exist")
            docs = await info.context.storage.datasets.in_workspaces([workspace])
            return [types.dataset(doc) for doc in docs]

        @strawberry.field
        async def record(self, info: Info, id: strawberry.ID) -> Record:  # type: ignore[valid-type]
            info.context.require_user()
            doc = await info.context.storage.records.get(parse_id(id, "record"))
            if doc is None:
                raise NotFound(f"record {id} does not exist")
            return types.record(doc)

        @strawberry.field(description="Records of a dataset, a page at a time (first <= 1000).")
        async def records(
            self,
            info: Info,
            dataset_id: strawberry.ID,
            filter: RecordFilter | None = None,
            sort: RecordSort | None = None,
            first: int = 50,
            after: str | None = None,
        ) -> types.RecordConnection:  # type: ignore[valid-type]
            info.context.require_user()
            result: Any = await records_page(info.context, types, dataset_id, filter, sort,
                                             first, after)
            return result

        @strawberry.field
        def question_types(self, info: Info) -> list[QuestionType]:
            info.context.require_user()
            return [QuestionType.of(e) for e in info.context.registry.questions.values()]

        @strawberry.field
        def field_types(self, info: Info) -> list[FieldType]:
            info.context.require_user()
            return [FieldType.of(e) for e in info.context.registry.fields.values()]

    return Query

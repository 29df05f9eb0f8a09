"""The root ``Query`` type."""

# No `from __future__ import annotations`: the class body refers to local variables.

from typing import Any

import strawberry

from feedbackql_server.api import access, training
from feedbackql_server.api.distribution import AnnotatorProgress, DatasetProgress
from feedbackql_server.api.inputs import RecordFilter, RecordSort
from feedbackql_server.api.records import records_page
from feedbackql_server.api.types import FieldType, Info, OutputTypes, QuestionType
from feedbackql_server.domain import members, progress
from feedbackql_server.policy import datasets as policy_datasets
from feedbackql_server.policy import workspaces as policy_workspaces


def build_query(types: OutputTypes) -> type:
    User, Workspace, Dataset, Record = types.User, types.Workspace, types.Dataset, types.Record

    @strawberry.type
    class Query:
        @strawberry.field(description="The calling user.")
        def me(self, info: Info) -> User:  # type: ignore[valid-type]
            return types.user(info.context.user)

        @strawberry.field(description="Owners: every user; admins: members of their workspaces.")
        async def users(self, info: Info) -> list[User]:  # type: ignore[valid-type]
            docs = await members.visible_users(info.context.storage, info.context.caller)
            return [types.user(doc) for doc in docs]

        @strawberry.field(description="The workspaces you belong to (owners: all).")
        async def workspaces(self, info: Info) -> list[Workspace]:  # type: ignore[valid-type]
            ids = policy_workspaces.visible_ids(info.context.caller)
            return [types.workspace(doc) for doc in await info.context.storage.workspaces.listed(ids)]

        @strawberry.field
        async def dataset(self, info: Info, id: strawberry.ID) -> Dataset:  # type: ignore[valid-type]
            return types.dataset(await access.dataset(info.context, id), info.context.caller)

        @strawberry.field
        async def datasets(self, info: Info, workspace_id: strawberry.ID) -> list[Dataset]:  # type: ignore[valid-type]
            workspace = await access.workspace(info.context, workspace_id)
            docs = await info.context.storage.datasets.in_workspaces([workspace["_id"]])
            caller = info.context.caller
            return [types.dataset(doc, caller) for doc in docs if policy_datasets.visible(caller, doc)]

        @strawberry.field
        async def record(self, info: Info, id: strawberry.ID) -> Record:  # type: ignore[valid-type]
            doc, dataset = await access.record(info.context, id)
            return types.record(doc, policy_datasets.hidden_metadata(info.context.caller, dataset))

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
            result: Any = await records_page(info.context, types, dataset_id, filter, sort,
                                             first, after)
            return result

        @strawberry.field(description="Records you saved as drafts, a page at a time.")
        async def my_drafts(
            self, info: Info, dataset_id: strawberry.ID, first: int = 50, after: str | None = None,
        ) -> types.RecordConnection:  # type: ignore[valid-type]
            result: Any = await records_page(info.context, types, dataset_id, None, None, first,
                                             after, answered_as="draft")
            return result

        @strawberry.field
        async def dataset_progress(self, info: Info, dataset_id: strawberry.ID) -> DatasetProgress:
            dataset = await access.dataset(info.context, dataset_id)
            return DatasetProgress.of(await progress.dataset_progress(info.context.storage, dataset))

        @strawberry.field(description="Per labeler; annotators see only themselves.")
        async def annotator_progress(self, info: Info, dataset_id: strawberry.ID) -> list[AnnotatorProgress]:
            ctx = info.context
            dataset = await access.dataset(ctx, dataset_id)
            rows = await progress.annotator_progress(ctx.storage, ctx.caller, dataset)
            return [AnnotatorProgress.of(row) for row in rows]

        @strawberry.field(description="Each record's submitted answers to a question combined by a "
                                      "strategy of its kind (owners and admins).")
        async def unified_answers(
            self, info: Info, dataset_id: strawberry.ID, question: str, strategy: str | None = None,
            first: int = 100, after: str | None = None,
        ) -> training.UnifiedAnswerConnection:
            return await training.unified_answers(info.context, dataset_id, question, strategy, first, after)

        @strawberry.field(description="Krippendorff's alpha for a question (owners and admins).")
        async def agreement(self, info: Info, dataset_id: strawberry.ID, question: str) -> training.AgreementReport:
            return await training.agreement_report(info.context, dataset_id, question)

        @strawberry.field(description="Training rows for small pulls; the HTTP export streams any size.")
        async def training_data(
            self, info: Info, dataset_id: strawberry.ID, task: str,
            options: training.TrainingOptionsInput | None = None, first: int = 1000,
        ) -> training.TrainingData:
            return await training.training_data(info.context, dataset_id, task, options, first)

        @strawberry.field
        def question_types(self, info: Info) -> list[QuestionType]:
            info.context.require_user()
            return [QuestionType.of(e) for e in info.context.registry.questions.values()]

        @strawberry.field
        def field_types(self, info: Info) -> list[FieldType]:
            info.context.require_user()
            return [FieldType.of(e) for e in info.context.registry.fields.values()]

        @strawberry.field
        def training_tasks(self, info: Info) -> list[training.TrainingTaskType]:
            info.context.require_user()
            return [training.TrainingTaskType.of(e) for e in info.context.registry.tasks.values()]

    return Query

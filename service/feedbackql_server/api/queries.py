"""The root ``Query`` type."""

from __future__ import annotations

import strawberry

from feedbackql_server.api import resolvers, training
from feedbackql_server.api.context import Info
from feedbackql_server.api.datasets import Dataset, FieldType, QuestionType, datasets_in
from feedbackql_server.api.distribution import AnnotatorProgress, DatasetProgress
from feedbackql_server.api.inputs import RecordFilter, RecordSort
from feedbackql_server.api.records import Record, RecordConnection, records_page
from feedbackql_server.api.users import User, Workspace


@strawberry.type
class Query:
    @resolvers.field(description="The calling user.")
    def me(self, info: Info) -> User:
        return User.of(info.context.user)

    @resolvers.field(description="Owners: every user; admins: members of their workspaces.")
    async def users(self, info: Info) -> list[User]:
        return [User.of(doc) for doc in await info.context.session.visible_users()]

    @resolvers.field(description="The workspaces you belong to (owners: all).")
    async def workspaces(self, info: Info) -> list[Workspace]:
        return [Workspace.of(doc) for doc in await info.context.session.visible_workspaces()]

    @strawberry.field
    async def dataset(self, info: Info, id: strawberry.ID) -> Dataset:
        return Dataset.seen_by(await info.context.session.dataset(id), info.context)

    @strawberry.field
    async def datasets(self, info: Info, workspace_id: strawberry.ID) -> list[Dataset]:
        return await datasets_in(info, workspace_id)

    @strawberry.field
    async def record(self, info: Info, id: strawberry.ID) -> Record:
        ctx = info.context
        doc, dataset = await ctx.session.record(id)
        return Record.of(doc, ctx.kinds, ctx.session.hidden_metadata(dataset))

    @resolvers.field(description="Records of a dataset, a page at a time (first <= 1000).")
    async def records(self, info: Info, dataset_id: strawberry.ID, filter: RecordFilter | None = None,
                      sort: RecordSort | None = None, first: int = 50, after: str | None = None) -> RecordConnection:
        return await records_page(info, dataset_id, filter, sort, first, after)

    @resolvers.field(description="Records you saved as drafts, a page at a time.")
    async def my_drafts(self, info: Info, dataset_id: strawberry.ID, first: int = 50,
                        after: str | None = None) -> RecordConnection:
        return await records_page(info, dataset_id, None, None, first, after, answered_as="draft")

    @strawberry.field
    async def dataset_progress(self, info: Info, dataset_id: strawberry.ID) -> DatasetProgress:
        session = info.context.session
        return DatasetProgress.of(await session.dataset_progress(await session.dataset(dataset_id)))

    @resolvers.field(description="Per labeler; annotators see only themselves.")
    async def annotator_progress(self, info: Info, dataset_id: strawberry.ID) -> list[AnnotatorProgress]:
        return [AnnotatorProgress.of(row) for row in await info.context.session.annotator_progress(dataset_id)]

    @resolvers.field(description="Each record's submitted answers to a question combined by a "
                                  "strategy of its kind (owners and admins).")
    async def unified_answers(self, info: Info, dataset_id: strawberry.ID, question: str,
                              strategy: str | None = None, first: int = 100,
                              after: str | None = None, filter: training.TrainingFilter | None = None
                              ) -> training.UnifiedAnswerConnection:
        """With ``filter``, records it leaves out are not listed (a page may then hold fewer
        than ``first``): the same records a training export with that filter uses."""
        return await training.unified_answers(info.context, dataset_id, question, strategy, first, after, filter)

    @resolvers.field(description="One record's submitted answers to a question combined by a "
                                  "strategy of its kind (owners and admins).")
    async def unified_answer(self, info: Info, record_id: strawberry.ID, question: str,
                             strategy: str | None = None) -> training.UnifiedAnswer:
        unified = await info.context.session.unified_answer(record_id, question, strategy)
        return training.unified_answer_of(unified)

    @resolvers.field(description="Krippendorff's alpha for a question (owners and admins).")
    async def agreement(self, info: Info, dataset_id: strawberry.ID, question: str) -> training.AgreementReport:
        return await training.agreement_report(info.context, dataset_id, question)

    @resolvers.field(description="Training rows for small pulls; the HTTP export streams any size.")
    async def training_data(self, info: Info, dataset_id: strawberry.ID, task: str,
                            options: training.TrainingOptionsInput | None = None,
                            first: int = 1000, filter: training.TrainingFilter | None = None) -> training.TrainingData:
        return await training.training_data(info.context, dataset_id, task, options, first, filter)

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

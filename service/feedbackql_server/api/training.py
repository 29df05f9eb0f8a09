"""GraphQL for training data: unified answers, agreement figures and small training pulls."""

from __future__ import annotations

from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api.context import Context
from feedbackql_server.api.enums import Agreement
from feedbackql_server.api.inputs import MetadataFilter
from feedbackql_server.api.records import PageInfo
from feedbackql_server.domain import cursors
from feedbackql_server.domain.listing import MetadataCriterion
from feedbackql_server.domain.unification import UnifiedRecord
from feedbackql_server.errors import Invalid
from feedbackql_server.export import training, typed
from feedbackql_server.export.selection import Selection
from feedbackql_server.kinds.registry import RegisteredTask
from feedbackql_server.paging import RecordOrder

MAX_TRAINING_ROWS = 10_000


@strawberry.type
class UnifiedAnswer:
    record_id: strawberry.ID
    external_id: str | None
    value: JSON | None = strawberry.field(description="The unified answer in the kind's value form.")
    tie: bool = strawberry.field(description="The kind's documented tie rule decided.")
    disagreement: bool
    submitted: int = strawberry.field(description="Submitted answers combined.")


@strawberry.type
class UnifiedAnswerEdge:
    cursor: str
    node: UnifiedAnswer


@strawberry.type
class UnifiedAnswerConnection:
    edges: list[UnifiedAnswerEdge]
    page_info: PageInfo


@strawberry.type
class AnnotatorAgreement:
    user_id: strawberry.ID
    answers: int
    agreement_with_majority: float | None = strawberry.field(description=(
        "Share of this labeler's coded answers equal to the majority of their record "
        "(records without a majority are left out)."))


@strawberry.type
class AgreementReport:
    question: str
    level: Agreement
    alpha: float | None = strawberry.field(description="Krippendorff's alpha; null when undefined.")
    records: int = strawberry.field(description="Records with at least two submitted answers.")
    pairs: int = strawberry.field(description="Pairs of answers compared.")
    annotators: list[AnnotatorAgreement]


@strawberry.input(description="Which records training data is made from. Defaults keep every record.")
class TrainingFilter:
    completed_only: bool = strawberry.field(default=False, description="Only completed records.")
    min_submitted: int | None = strawberry.field(
        default=None, description="At least this many submitted answers to the question.")
    min_agreement: float | None = strawberry.field(default=None, description=(
        "At least this share (0 to 1) of agreeing pairs of answers on the record; records with "
        "fewer than two answers are left out. Refused for kinds without agreement."))
    metadata: list[MetadataFilter] | None = strawberry.field(
        default=None, description="Every filter holds (values and/or ge/le).")

    def selection(self) -> Selection:
        return Selection(completed_only=self.completed_only, min_submitted=self.min_submitted,
                         min_agreement=self.min_agreement,
                         metadata=tuple(MetadataCriterion(name=m.name, values=m.values, ge=m.ge, le=m.le)
                                        for m in self.metadata or []))


@strawberry.input
class TrainingOptionsInput:
    field: str | None = None
    question: str | None = None
    strategy: str | None = None
    best_vs_worst: bool = False
    implicit_prompt: bool = strawberry.field(default=False, description=(
        "Preference tasks on a chat prompt: TRL's implicit-prompt form, chosen and rejected each "
        "the whole conversation, no prompt column."))
    threshold: float | None = None
    top_k: int | None = None


VERSION_NOTE = "The version of the plugin's distribution; null for a plugin registered in-process without one."


@strawberry.type(description="An installed training task (GET /datasets/{id}/training/{name}, trainingData).")
class TrainingTaskType:
    name: str
    description: str
    plugin: str
    version: str | None = strawberry.field(description=VERSION_NOTE)
    columns: list[str]
    question_kinds: list[str] = strawberry.field(description=(
        "The installed question kinds whose questions the task accepts (a UI offers it for those); "
        "one question may still be refused with reason unsuitable_question (a missing prompt field)."))
    ui_options: JSON = strawberry.field(description=(
        "Options a one-click download in a UI passes (e.g. {\"threshold\": 4}); {} when none."))

    @classmethod
    def of(cls, entry: RegisteredTask) -> TrainingTaskType:
        task = entry.task
        return cls(name=task.name, description=task.description, plugin=entry.plugin, version=entry.version,
                   columns=list(task.columns), question_kinds=list(entry.question_kinds),
                   ui_options=cast(JSON, dict(task.ui_options)))


@strawberry.type
class TrainingData:
    rows: list[JSON]
    rules: JSON
    ties: int = strawberry.field(description="Records whose unified answer is a tie (no row from them).")
    counts: JSON = strawberry.field(description=(
        "Records read, rows given, ties, and records left out by the filter or the task's rules; "
        "over the whole dataset unless truncated."))
    truncated: bool = strawberry.field(description="More rows exist: use the HTTP export.")


def unified_answer_of(unified: UnifiedRecord) -> UnifiedAnswer:
    record = unified.record
    return UnifiedAnswer(record_id=strawberry.ID(str(record["_id"])), external_id=record.get("external_id"),
                         value=unified.unified.value, tie=unified.unified.tie,
                         disagreement=unified.unified.disagreement, submitted=unified.submitted)


async def unified_answers(ctx: Context, dataset_id: str, question: str, strategy: str | None,
                          first: int, after: str | None, filter: TrainingFilter | None = None
                          ) -> UnifiedAnswerConnection:
    order = RecordOrder()
    selection = filter.selection() if filter else Selection()
    made_for = cursors.scope("unifiedAnswers", dataset_id, question, strategy, selection)
    keyset = cursors.decode(order, after, made_for) if after is not None else None
    unified, has_next = await ctx.session.unified_answers(dataset_id, question, strategy, keyset, first, selection)
    edges = [UnifiedAnswerEdge(cursor=cursors.encode(order, u.record, made_for), node=unified_answer_of(u))
             for u in unified]
    return UnifiedAnswerConnection(edges=edges, page_info=PageInfo(
        has_next_page=has_next, end_cursor=edges[-1].cursor if edges else None))


async def agreement_report(ctx: Context, dataset_id: str, question: str) -> AgreementReport:
    report = await ctx.session.agreement(dataset_id, question)
    return AgreementReport(
        question=report.question, level=report.level, alpha=report.alpha,
        records=report.records, pairs=report.pairs,
        annotators=[AnnotatorAgreement(user_id=strawberry.ID(str(a.user_id)), answers=a.answers,
                                       agreement_with_majority=a.agreement_with_majority)
                    for a in report.annotators])


async def training_data(ctx: Context, dataset_id: str, task: str, options: TrainingOptionsInput | None,
                        first: int, filter: TrainingFilter | None = None) -> TrainingData:
    if not 1 <= first <= MAX_TRAINING_ROWS:
        raise Invalid(f"first is between 1 and {MAX_TRAINING_ROWS}", ["first"])
    given = options or TrainingOptionsInput()
    chosen = training.TrainingOptions(field=given.field, question=given.question, strategy=given.strategy,
                                      best_vs_worst=given.best_vs_worst, implicit_prompt=given.implicit_prompt,
                                      threshold=given.threshold,
                                      top_k=given.top_k, selection=filter.selection() if filter else Selection())
    plan, stream = await ctx.session.training_rows(dataset_id, task, chosen)
    rows: list[Any] = []
    truncated = False
    async for row in stream:
        if len(rows) == first:
            truncated = True
            break
        rows.append(row)
    if not rows:
        raise training.no_rows(plan)
    rules = {**plan.rules, "columns": typed.describe(plan.column_types)}
    return TrainingData(rows=rows, rules=cast(JSON, rules), ties=plan.stats["ties"],
                        counts=cast(JSON, plan.stats), truncated=truncated)

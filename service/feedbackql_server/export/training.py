"""Training-ready rows: runs a registered training task over a dataset's submitted answers.

The tasks themselves (``sft``, ``reward_modeling``, ``dpo``, ``rating_selection`` and any a
plugin adds) are ``TrainingTask`` classes registered through ``feedbackql_training_tasks``;
this module resolves the question, makes the task, applies the caller's filters, pages
through the records, holds every row to the task's column types and counts what it left out.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from feedbackql_server.documents import DatasetDoc
from feedbackql_server.domain.kind_checks import dataset_context
from feedbackql_server.domain.unification import Question, answers_of, question_of
from feedbackql_server.errors import DomainError, Invalid, PluginFailed, invalid_from_problems, invalid_from_pydantic
from feedbackql_server.export import typed
from feedbackql_server.export.rows import record_pages
from feedbackql_server.export.selection import Selection
from feedbackql_server.kinds.columns import Column, of_json_schema
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.kinds.tasks import TaskOptions, TaskQuestion, TaskRecord, TaskRequest, TrainingTask
from feedbackql_server.storage import Storage

Doc = dict[str, Any]
log = logging.getLogger("feedbackql_server.plugins")
INFER_FROM_ROWS = 100
"""Rows looked at to type the columns a task did not declare."""


@dataclass(frozen=True)
class TrainingOptions(TaskOptions):
    """The task's options and which records to use."""

    selection: Selection = field(default_factory=Selection)


@dataclass
class TrainingExport:
    """A task ready to run: its columns and rules, and figures counted while it runs."""

    task: TrainingTask
    question: Question
    rules: dict[str, Any]
    selection: Selection = field(default_factory=Selection)
    declared: dict[str, Column | None] = field(default_factory=dict)
    column_types: dict[str, Column] = field(default_factory=dict)
    """The resolved types, known once the first rows are made."""
    filtered: Counter[str] = field(default_factory=Counter)
    records_read: int = 0
    rows_given: int = 0

    @property
    def name(self) -> str:
        return self.task.name

    @property
    def columns(self) -> list[str]:
        return list(self.declared)

    @property
    def stats(self) -> dict[str, Any]:
        """What the export did: records read, rows given, tied records, and records left
        out by the caller's filters (``filtered``) or because they make no valid row (``skipped``)."""
        return {"records": self.records_read, "rows": self.rows_given, "ties": self.task.ties,
                "filtered": dict(self.filtered), "skipped": dict(self.task.skipped)}


def plan(registry: KindRegistry, dataset: DatasetDoc, task: str, options: TaskOptions) -> TrainingExport:
    """Check the task, question, options and filters and make the task; ``stream`` runs it."""
    entry = registry.tasks.get(task)
    if entry is None:
        raise Invalid(f"task is one of {sorted(registry.tasks)}", ["task"], reason="unknown_task")
    if options.question is None:
        raise Invalid("name the question to export", ["question"], reason="required")
    question = question_of(registry, dataset, options.question, ["question"])
    selection = options.selection if isinstance(options, TrainingOptions) else Selection()
    selection.check(question)
    context = dataset_context(registry, dataset["fields"])
    request = TaskRequest(question=TaskQuestion(question.name, question.kind, question.settings,
                                                question.unify_values),
                          fields=context.fields, options=_task_options(options),
                          field_columns=_field_columns(registry, context.fields))
    try:
        made = entry.task(request)
        rules = {"task": task, "question": question.name, **made.rules()}
        declared = dict(made.schema())
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, question=question.name) from None
    except ValueError as exc:
        raise invalid_from_problems(exc, question=question.name) from None
    except Exception as exc:  # the plugin's own code: named, never an anonymous INTERNAL
        raise PluginFailed(f"training task {task!r} of plugin {entry.plugin} failed to start "
                           f"({type(exc).__name__})", plugin=entry.plugin) from exc
    if question.kind.name not in entry.question_kinds:  # the task's own __init__ let it through
        raise Invalid(f"{task} takes questions of the kinds {list(entry.question_kinds)}; {question.name!r} is a "
                      f"{question.kind.name} question", ["question"], reason="unsuitable_question",
                      question=question.name)
    rules["filters"] = selection.describe()
    return TrainingExport(made, question, rules, selection, declared)


def _task_options(options: TaskOptions) -> TaskOptions:
    """The options a task sees: the filters are the core's business, applied before ``rows``."""
    return TaskOptions(field=options.field, question=options.question, strategy=options.strategy,
                       best_vs_worst=options.best_vs_worst,
                       implicit_prompt=options.implicit_prompt, threshold=options.threshold, top_k=options.top_k)


def _field_columns(registry: KindRegistry, fields: Any) -> dict[str, Column]:
    """Each field's column type, from its kind's value schema (the core names no kind)."""
    columns = {}
    for name, info in fields.items():
        entry = registry.fields.get(info.kind)
        if entry is not None:
            columns[name] = of_json_schema(entry.kind.value_schema())
    return columns


async def stream(storage: Storage, dataset: DatasetDoc, export: TrainingExport) -> AsyncIterator[Doc]:
    """The task's rows, each conformed to the columns' types (undeclared ones typed from the
    first rows)."""
    first: list[Doc] = []
    async for row in _task_rows_of(storage, dataset, export):
        if export.column_types:
            yield _conformed(export, row)
            continue
        first.append(row)
        if len(first) == INFER_FROM_ROWS:
            export.column_types = typed.resolve(export.declared, first)
            for held in first:
                yield _conformed(export, held)
    if not export.column_types:
        export.column_types = typed.resolve(export.declared, first)
        for held in first:
            yield _conformed(export, held)


def no_rows(export: TrainingExport) -> Invalid:
    """The error for an export that gives no row: what was read and what was left out, so the
    caller sees which filter or rule emptied it."""
    stats = export.stats
    error = Invalid(f"no row to export: {stats['records']} records read, filtered out {stats['filtered']}, "
                    f"left out by the task {stats['skipped']}, {stats['ties']} tied",
                    ["options"], reason="no_rows")
    error.extensions["stats"] = stats
    return error


def _conformed(export: TrainingExport, row: Doc) -> Doc:
    try:
        conformed = typed.conform(row, export.column_types)
    except typed.Mismatch as exc:
        raise PluginFailed(f"training task {export.name!r} gave a value of the wrong type: {exc}"[:600],
                           task=export.name) from None
    export.rows_given += 1
    return conformed


async def _task_rows_of(storage: Storage, dataset: DatasetDoc, export: TrainingExport) -> AsyncIterator[Doc]:
    question, selection = export.question, export.selection
    async for page in record_pages(storage, dataset):
        responses = await storage.responses.in_buckets(page, submitted_only=True)
        answers = answers_of(responses, question.name)
        export.records_read += len(page)
        for record in page:
            read = [question.read(a) for a in answers.get(record["_id"], [])]
            reason = selection.left_out(record, read, question)
            if reason is not None:
                export.filtered[reason] += 1
                continue
            task_record = TaskRecord(id=str(record["_id"]), external_id=record.get("external_id"),
                                     fields=record["fields"], answers=read)
            for row in _task_rows(export, export.task.rows, task_record):
                yield row
    for row in _task_rows(export, lambda _: export.task.finish(), None):
        yield row


def _task_rows(export: TrainingExport, make: Callable[[Any], Iterable[Doc]], record: TaskRecord | None) -> list[Doc]:
    """The task's rows, its own failures named (a kind's ``DomainError`` passes through)."""
    try:
        return list(make(record))
    except DomainError:
        raise
    except Exception as exc:  # the plugin's own code
        log.error("training task %s failed", export.name, exc_info=exc)
        raise PluginFailed(f"training task {export.name!r} failed on a record ({type(exc).__name__})",
                           task=export.name) from exc

"""Training-ready rows: runs a registered training task over a dataset's submitted answers.

The tasks themselves (``sft``, ``reward_modeling``, ``dpo``, ``rating_selection`` and any a
plugin adds) are ``TrainingTask`` classes registered through ``feedbackql_training_tasks``;
this module resolves the question, makes the task, pages through the records and counts.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from feedbackql_server.domain.kind_checks import dataset_context
from feedbackql_server.domain.unification import Question, answers_of, question_of
from feedbackql_server.errors import DomainError, Invalid, PluginFailed, invalid_from_problems, invalid_from_pydantic
from feedbackql_server.export.rows import record_pages
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.kinds.tasks import TaskOptions, TaskQuestion, TaskRecord, TaskRequest, TrainingTask
from feedbackql_server.storage import Storage
from feedbackql_server.storage.documents import DatasetDoc

Doc = dict[str, Any]
log = logging.getLogger("feedbackql_server.plugins")
TrainingOptions = TaskOptions


@dataclass
class TrainingExport:
    """A task ready to run: its columns and rules, and figures counted while it runs."""

    task: TrainingTask
    question: Question
    rules: dict[str, Any]
    stats: dict[str, int] = field(default_factory=lambda: {"rows": 0, "ties": 0, "records": 0})

    @property
    def name(self) -> str:
        return self.task.name

    @property
    def columns(self) -> list[str]:
        return list(self.task.columns)


def plan(registry: KindRegistry, dataset: DatasetDoc, task: str, options: TaskOptions) -> TrainingExport:
    """Check the task, question and options and make the task; ``stream`` then runs it."""
    entry = registry.tasks.get(task)
    if entry is None:
        raise Invalid(f"task is one of {sorted(registry.tasks)}", ["task"], reason="unknown_task")
    if options.question is None:
        raise Invalid("name the question to export", ["question"], reason="required")
    question = question_of(registry, dataset, options.question, ["question"])
    request = TaskRequest(question=TaskQuestion(question.name, question.kind, question.settings,
                                                question.unify_values),
                          fields=dataset_context(registry, dataset["fields"]).fields, options=options)
    try:
        made = entry.task(request)
        rules = {"task": task, "question": question.name, **made.rules()}
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, question=question.name) from None
    except ValueError as exc:
        raise invalid_from_problems(exc, question=question.name) from None
    except Exception as exc:  # the plugin's own code: named, never an anonymous INTERNAL
        raise PluginFailed(f"training task {task!r} of plugin {entry.plugin} failed to start "
                           f"({type(exc).__name__})", plugin=entry.plugin) from exc
    return TrainingExport(made, question, rules)


async def stream(storage: Storage, dataset: DatasetDoc, export: TrainingExport) -> AsyncIterator[Doc]:
    question = export.question
    try:
        async for page in record_pages(storage, dataset):
            responses = await storage.responses.in_buckets(page, submitted_only=True)
            answers = answers_of(responses, question.name)
            export.stats["records"] += len(page)
            for record in page:
                task_record = TaskRecord(id=str(record["_id"]), external_id=record.get("external_id"),
                                         fields=record["fields"],
                                         answers=[question.read(a) for a in answers.get(record["_id"], [])])
                for row in _task_rows(export, export.task.rows, task_record):
                    export.stats["rows"] += 1
                    yield row
        for row in _task_rows(export, lambda _: export.task.finish(), None):
            export.stats["rows"] += 1
            yield row
    finally:
        export.stats["ties"] = export.task.ties


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


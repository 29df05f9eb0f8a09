"""Combining the submitted answers of each record into one, with the question kind's rules."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc, ResponseDoc, StoredValue
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.plugin_failures import plugin_failed
from feedbackql_server.errors import Invalid, PluginFailed
from feedbackql_server.kinds.base import QuestionKind, Unified
from feedbackql_server.kinds.registry import KindRegistry

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services


@dataclass(frozen=True)
class Question:
    """A question of a dataset with its kind, the plugin that provides it, and parsed settings."""

    name: str
    kind: QuestionKind
    settings: Any
    plugin: str = "its plugin"
    version: str | None = None

    def unify(self, answers: Sequence[Any], strategy: str) -> Unified:
        """``answers`` as stored (``{"value", "plugin_version"}``), migrated before unifying."""
        return self.unify_values([self.read(answer) for answer in answers], strategy)

    def unify_values(self, values: Sequence[Any], strategy: str) -> Unified:
        """Answers already read (``read``), unified by the kind."""
        try:
            return self.kind.unify(self.settings, values, strategy)
        except Exception as exc:  # the plugin's own code: report it by name
            raise self._failed(f"unifying {self.name!r}", exc) from exc

    def agreement_codes(self, answers: Sequence[Any]) -> list[list[tuple[str, Hashable]]]:
        """The answers of one record (read values) coded for agreement, one list per answer."""
        try:
            coded = [list(units) for units in self.kind.record_agreement_units(self.settings, answers)]
        except Exception as exc:  # the plugin's own code: report it by name
            raise self._failed(f"coding {self.name!r} for agreement", exc) from exc
        if len(coded) != len(answers):
            problem = ValueError(f"record_agreement_units gave {len(coded)} codes for {len(answers)} answers")
            raise self._failed(f"coding {self.name!r} for agreement", problem)
        return coded

    def read(self, stored: StoredValue) -> Any:
        try:
            return self.kind.migrate_value(stored["value"], stored.get("plugin_version"))
        except Exception as exc:  # the plugin's own code: report it by name
            raise self._failed(f"migrating an answer to {self.name!r}", exc) from exc

    def _failed(self, action: str, exc: Exception) -> PluginFailed:
        return plugin_failed(action, exc, kind=self.kind.name, plugin=self.plugin, version=self.version)


@dataclass(frozen=True)
class UnifiedRecord:
    record: RecordDoc
    unified: Unified
    submitted: int
    answers: Sequence[Any] = ()
    """The submitted answers combined, read (for per-record filters)."""


def question_of(registry: KindRegistry, dataset: DatasetDoc, name: str, path: list[str | int]) -> Question:
    config = DatasetConfig.of(dataset, registry)
    if name in config.problems:
        raise config.problems[name].error(path)
    if name not in config.questions:
        raise Invalid(f"the dataset has no question {name!r}", path)
    doc, settings = config.questions[name]
    entry = registry.questions[doc["kind"]]  # DatasetConfig keeps only questions of installed kinds
    return Question(name, entry.kind, settings, entry.plugin, entry.version)


def check_strategy(question: Question, strategy: str | None, path: list[str | int]) -> str:
    """The strategy asked for, or the kind's first; refused when the kind has no such one."""
    strategies = question.kind.strategies
    if not strategies:
        raise Invalid(f"{question.kind.name} questions cannot be unified", path)
    chosen = strategy or strategies[0]
    if chosen not in strategies:
        raise Invalid(f"{question.kind.name} questions unify with one of {list(strategies)}", path)
    return chosen


def answers_of(responses: Sequence[ResponseDoc], question: str) -> dict[ObjectId, list[Any]]:
    """Submitted answers to ``question`` per record, in the order given (oldest first)."""
    answers: dict[ObjectId, list[Any]] = {}
    for response in responses:
        value = response["values"].get(question)
        if value is not None:
            answers.setdefault(response["record_id"], []).append(value)
    return answers


async def unify_records(services: Services, question: Question, strategy: str,
                        records: Sequence[RecordDoc]) -> list[UnifiedRecord]:
    responses = await services.storage.responses.in_buckets(records, submitted_only=True)
    answers = answers_of(responses, question.name)
    unified = []
    for record in records:
        read = [question.read(a) for a in answers.get(record["_id"], [])]
        unified.append(UnifiedRecord(record, question.unify_values(read, strategy), len(read), read))
    return unified

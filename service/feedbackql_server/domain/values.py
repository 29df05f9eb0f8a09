"""Checking answer and suggestion values with the question kind that owns them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.plugin_failures import plugin_failed
from feedbackql_server.errors import Invalid, invalid_from_problems, invalid_from_pydantic
from feedbackql_server.kinds.context import RecordContext
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.safety import check_storable
from feedbackql_server.size_limits import MAX_ANSWER_BYTES, check_size, json_bytes


@dataclass(frozen=True)
class TypedValue:
    """A value as sent by a client: which kind's member of ``ValueInput`` it used, and what."""

    kind: str
    value: Any


def check_answer(
    registry: KindRegistry,
    config: DatasetConfig,
    question: str,
    typed: TypedValue,
    path: Sequence[str | int],
    context: RecordContext,
) -> Any:
    """The stored (JSON) form of a valid answer to ``question`` (or suggestion for it) on the
    record described by ``context``; ``Invalid`` naming the question otherwise."""
    entry = config.questions.get(question)
    if question in config.problems:
        raise config.problems[question].error([*path, "question"])
    if entry is None:
        known = sorted(config.questions)
        raise Invalid(f"the dataset has no question {question!r}; questions: {known}",
                      [*path, "question"], reason="unknown_question", question=question)
    definition, settings = entry
    kind = registry.question_kind(definition["kind"])
    if kind is None or typed.kind != definition["kind"]:
        raise Invalid(
            f"question {question!r} is a {definition['kind']} question: "
            f"send its value as value.{definition['kind']}",
            [*path, "value"], reason="wrong_kind", question=question,
        )
    value_path = [*path, "value", typed.kind]
    try:
        value = kind.value_adapter.validate_python(typed.value)
        stored = kind.dump_value(kind.validate_answer(settings, value, context))
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, value_path, question=question) from None
    except ValueError as exc:
        raise invalid_from_problems(exc, value_path, question=question) from None
    except Exception as exc:  # the plugin's own code failed: name it, never an anonymous INTERNAL
        installed = registry.questions[definition["kind"]]
        raise plugin_failed("on this value", exc, kind=definition["kind"], plugin=installed.plugin,
                            version=installed.version, path=value_path) from exc
    check_storable(stored, value_path)
    check_size(json_bytes(stored), MAX_ANSWER_BYTES, f"the value for question {question!r}", value_path)
    return stored

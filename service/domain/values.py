"""Checking answer and suggestion values with the question kind that owns them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from feedbackql.domain.config import DatasetConfig
from feedbackql.errors import Invalid, invalid_from_pydantic
from feedbackql.kinds.registry import KindRegistry
from feedbackql.safety import check_storable


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
    *,
    partial: bool = False,
) -> Any:
    """The stored (JSON) form of a valid answer to ``question``; ``Invalid`` otherwise."""
    entry = config.questions.get(question)
    if entry is None:
        known = sorted(config.questions)
        raise Invalid(f"the dataset has no question {question!r}; questions: {known}",
                      [*path, "question"])
    definition, settings = entry
    kind = registry.question_kind(definition["kind"])
    if kind is None or typed.kind != definition["kind"]:
        raise Invalid(
            f"question {question!r} is a {definition['kind']} question: "
            f"send its value as value.{definition['kind']}",
            [*path, "value"],
        )
    try:
        value = kind.value_adapter.validate_python(typed.value)
        value = kind.validate_value(settings, value, partial=partial)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, [*path, "value", typed.kind]) from None
    except ValueError as exc:
        raise Invalid(str(exc), [*path, "value", typed.kind]) from None
    stored = kind.dump_value(value)
    check_storable(stored, [*path, "value", typed.kind])
    return stored

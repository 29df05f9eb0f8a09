"""Checking answer and suggestion values with the question kind that owns them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.errors import Invalid, PluginFailed, invalid_from_problems, invalid_from_pydantic
from feedbackql_server.kinds.context import RecordContext
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.safety import check_storable
from feedbackql_server.size_limits import MAX_ANSWER_BYTES, check_size, json_bytes
from feedbackql_server.storage.documents import KindItem

log = logging.getLogger("feedbackql_server.plugins")


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
        value = kind.validate_answer(settings, value, context)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, value_path, question=question) from None
    except ValueError as exc:
        raise invalid_from_problems(exc, value_path, question=question) from None
    except Exception as exc:  # the plugin's own code failed: name it, never an anonymous INTERNAL
        raise PluginFailure(definition, exc, value_path) from exc
    stored = kind.dump_value(value)
    check_storable(stored, value_path)
    check_size(json_bytes(stored), MAX_ANSWER_BYTES, f"the value for question {question!r}", value_path)
    return stored


def PluginFailure(definition: KindItem, exc: Exception, path: Sequence[str | int]) -> PluginFailed:  # noqa: N802
    """A kind's own code raised something other than a validation error: named, and logged
    with a request id (its message may hold internals, so it is not sent)."""
    plugin = definition.get("plugin", "its plugin")
    request_id = uuid.uuid4().hex
    log.error("plugin %s failed (kind %s) request_id=%s", plugin, definition["kind"], request_id,
              exc_info=exc)
    return PluginFailed(f"the {definition['kind']} kind of plugin {plugin} failed on this value "
                        f"({type(exc).__name__}); quote request id {request_id} to its authors",
                        path=list(path), kind=definition["kind"], plugin=plugin, requestId=request_id)

"""Records and answers as the server's inputs, with their values made plain JSON (values.py):
a missing metadata value or suggestion is left out, a missing field value or score is sent as
null (the field's rules decide), and a value JSON cannot hold raises ``ValidationError``
naming its place, so that only its record is refused."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from feedbackql.config import Question
from feedbackql.errors import ValidationError
from feedbackql.records import Record, Response, Suggestion
from feedbackql.values import MISSING, plain, plain_mapping
from feedbackql.vectors import vectors_input


def record_input(record: Record, questions: Mapping[str, Question]) -> dict[str, Any]:
    """``record`` as a ``RecordInput``; suggestions are typed by their question."""
    data: dict[str, Any] = {
        "fields": {name: _or_null(plain(value, ["fields", name])) for name, value in record.fields.items()},
        "suggestions": _suggestion_inputs(record.suggestions, questions)}
    metadata = plain_mapping(record.metadata, ["metadata"])
    if metadata is not None:
        data["metadata"] = metadata
    if record.external_id is not None:
        data["externalId"] = _external_id(record.external_id)
    if record.responses:
        data["responses"] = [_response_input(response, questions, ["responses", index])
                             for index, response in enumerate(record.responses)]
    if record.vectors:
        data["vectors"] = vectors_input(record.vectors)
    return data


def _response_input(response: Response, questions: Mapping[str, Question], path: list[str | int]) -> dict[str, Any]:
    """An answer imported with its record (``RecordInput.responses``)."""
    values = []
    for name, value in response.values.items():
        question = questions.get(name)
        if question is None:
            raise ValidationError(f"no question {name!r} in this dataset", [*path, "values"])
        value_input = question.value_input(_or_null(plain(value, [*path, "values", name])))
        values.append({"question": name, "value": value_input})
    return {"user": response.user, "status": response.status.upper(), "values": values}


def answer_value(question: Question, value: Any) -> dict[str, Any]:
    """An answer as the question's ``ValueInput``."""
    return question.value_input(_or_null(plain(value, ["values", question.name])))


def _suggestion_inputs(suggestions: Sequence[Suggestion], questions: Mapping[str, Question]) -> list[dict[str, Any]]:
    inputs = []
    for index, suggestion in enumerate(suggestions):
        path: list[str | int] = ["suggestions", index]
        question = questions.get(suggestion.question)
        if question is None:
            raise ValidationError(f"no question {suggestion.question!r} in this dataset", [*path, "question"])
        value = plain(suggestion.value, [*path, "value"])
        if value is MISSING:
            continue  # no suggestion for this record
        inputs.append({"question": suggestion.question, "value": question.value_input(value),
                       "score": _or_null(plain(suggestion.score, [*path, "score"])), "agent": suggestion.agent})
    return inputs


def _or_null(value: Any) -> Any:
    return None if value is MISSING else value


def _external_id(value: Any) -> str:
    """External ids are text; a whole number (a DataFrame's id column) is taken as its digits."""
    converted = plain(value, ["externalId"])
    if isinstance(converted, str):
        return converted
    if isinstance(converted, int) and not isinstance(converted, bool):
        return str(converted)
    raise ValidationError(f"externalId is text, not {type(value).__name__} ({value!r})", ["externalId"],
                          {"reason": "not_text"})

"""The `text` question kind: a written answer, e.g. a completion for SFT."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedbackql_plugins._common import MarkdownSettings
from feedbackql_server.kinds import Agreement, Problem, QuestionKind, Unified, hookimpl


class TextQuestionSettings(MarkdownSettings):
    """How the answer box renders its text."""


class TextQuestion(QuestionKind):
    name = "text"
    description = "A free-text answer: a completion, a rewrite, a comment."
    settings_model = TextQuestionSettings
    value_type = str
    agreement = Agreement.NONE
    strategies = ("first_submitted", "none")

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        if not value.strip():
            raise Problem("a text answer must not be empty", reason="empty")
        return value

    def answer_schema(self, settings: Any) -> dict[str, Any]:
        return {"title": "Answer", "type": "string", "minLength": 1, "pattern": r"\S"}

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """first_submitted: the oldest submitted answer; none: no unified answer."""
        if strategy == "none" or not answers:
            return Unified(None)
        return Unified(answers[0], disagreement=len(set(answers)) > 1)


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [TextQuestion]

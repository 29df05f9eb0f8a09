"""The `label` question kind: pick exactly one option."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from feedbackql_plugins._common import OptionsSettings, majority, require_known
from feedbackql_server.kinds import Agreement, QuestionKind, Unified, hookimpl


class LabelQuestionSettings(OptionsSettings):
    """2 to 500 options with unique values."""


class LabelQuestion(QuestionKind):
    name = "label"
    description = "A single label chosen from the options."
    settings_model = LabelQuestionSettings
    value_type = str
    agreement = Agreement.NOMINAL
    strategies = ("majority",)

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        require_known([value], settings.option_values())
        return value

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """majority; ties go to the option listed first; disagreement when not unanimous."""
        if not answers:
            return Unified(None)
        winner, tie = majority(answers, [o.value for o in settings.options])
        return Unified(winner, tie=tie, disagreement=len(set(answers)) > 1)

    def answer_schema(self, settings: Any) -> dict[str, Any]:
        return {"title": "Label", "enum": [o.value for o in settings.options]}

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        return [("", answer)]


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [LabelQuestion]

"""The `label` question kind: pick exactly one option."""

from __future__ import annotations

from typing import Any

from feedbackql.kinds import Agreement, QuestionKind, hookimpl
from feedbackql.plugins._common import OptionsSettings, require_known


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


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [LabelQuestion]

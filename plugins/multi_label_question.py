"""The `multiLabel` question kind: pick one or more options."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from feedbackql.kinds import Agreement, QuestionKind, hookimpl
from feedbackql.plugins._common import OptionsSettings, require_known, require_unique


class MultiLabelQuestionSettings(OptionsSettings):
    """2 to 500 options with unique values."""


class MultiLabelQuestion(QuestionKind):
    name = "multiLabel"
    description = "A non-empty set of labels chosen from the options."
    settings_model = MultiLabelQuestionSettings
    value_type = Annotated[list[str], Field(min_length=1)]
    agreement = Agreement.NOMINAL
    strategies = ("majority",)

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        require_unique(value, "chosen labels")
        require_known(value, settings.option_values())
        return value


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [MultiLabelQuestion]

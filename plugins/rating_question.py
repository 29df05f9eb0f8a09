"""The `rating` question kind: pick one integer from a declared scale (e.g. 1-7)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator

from feedbackql.kinds import Agreement, KindModel, QuestionKind, hookimpl
from feedbackql.plugins._common import require_unique

RatingValue = Annotated[int, Field(ge=0, le=10)]


class RatingQuestionSettings(KindModel):
    """The allowed ratings: 2 to 11 unique integers between 0 and 10."""

    values: Annotated[list[RatingValue], Field(min_length=2, max_length=11)]

    @field_validator("values")
    @classmethod
    def _unique(cls, values: list[int]) -> list[int]:
        require_unique(values, "rating values")
        return values


class RatingQuestion(QuestionKind):
    name = "rating"
    description = "A rating on a fixed integer scale."
    settings_model = RatingQuestionSettings
    value_type = int
    agreement = Agreement.INTERVAL
    strategies = ("mean", "majority", "min", "max")

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        if value not in settings.values:
            raise ValueError(f"rating {value} is not one of {settings.values}")
        return value


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [RatingQuestion]

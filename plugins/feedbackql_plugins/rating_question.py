"""The `rating` question kind: pick one integer from a declared scale (e.g. 1-7)."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Annotated, Any

from pydantic import Field, field_validator

from feedbackql_plugins._common import majority, require_unique
from feedbackql_server.kinds import Agreement, KindModel, Problem, QuestionKind, Unified, hookimpl

RatingValue = Annotated[int, Field(ge=0, le=10)]


class RatingQuestionSettings(KindModel):
    """The allowed ratings: 2 to 11 unique integers between 0 and 10."""

    values: Annotated[list[RatingValue], Field(min_length=2, max_length=11, title="Rating scale",
                                               description="The ratings a labeler may give.")]

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
            raise Problem(f"rating {value} is not one of {settings.values}", reason="not_in_scale")
        return value

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """mean (4 decimals), majority (ties go to the lower rating), min or max."""
        if not answers:
            return Unified(None)
        disagreement = len(set(answers)) > 1
        if strategy == "mean":
            return Unified(round(sum(answers) / len(answers), 4), disagreement=disagreement)
        if strategy == "majority":
            winner, tie = majority(answers, sorted(settings.values))
            return Unified(winner, tie=tie, disagreement=disagreement)
        return Unified(min(answers) if strategy == "min" else max(answers), disagreement=disagreement)

    def answer_schema(self, settings: Any) -> dict[str, Any]:
        return {"title": "Rating", "type": "integer", "enum": sorted(settings.values),
                "minimum": min(settings.values), "maximum": max(settings.values)}

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        return [("", answer)]


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [RatingQuestion]

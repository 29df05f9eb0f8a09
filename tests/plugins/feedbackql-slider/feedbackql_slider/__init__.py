"""A `slider` question kind: a number between `min` and `max`, in `step`s, with its own
browser widget (``widget.js``); and a `severity` kind without one, which UIs render from its
JSON Schema."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

from pydantic import Field, model_validator

from feedbackql_server.kinds import Agreement, KindModel, QuestionKind, Unified, hookimpl


class SliderQuestionSettings(KindModel):
    """The range of the slider."""

    min: float
    max: float
    step: float = 1.0

    @model_validator(mode="after")
    def _ordered(self) -> SliderQuestionSettings:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class SliderQuestion(QuestionKind):
    name = "slider"
    description = "A number on a continuous scale."
    settings_model = SliderQuestionSettings
    value_type = float
    agreement = Agreement.INTERVAL
    strategies = ("mean",)
    ui_hints = {"keyboard": "arrows"}  # noqa: RUF012 (a ClassVar of the base class)
    widget = "widget.js"

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        if not settings.min <= value <= settings.max:
            raise ValueError(f"{value} is outside [{settings.min}, {settings.max}]")
        return value

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        if not answers:
            return Unified(None)
        return Unified(sum(answers) / len(answers), disagreement=len(set(answers)) > 1)

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        return [("", answer)]


class SeveritySettings(KindModel):
    """How many severity levels there are."""

    levels: int = Field(default=5, ge=2, le=10, title="Levels")


class SeverityAnswer(KindModel):
    """A severity level and why."""

    level: int = Field(ge=1, title="Level")
    reason: str = Field(default="", max_length=1000, title="Reason")


class SeverityQuestion(QuestionKind):
    name = "severity"
    description = "A severity level (1 = harmless) with a reason; no widget of its own."
    settings_model = SeveritySettings
    value_type = SeverityAnswer

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        if value.level > settings.levels:
            raise ValueError(f"level {value.level} is above {settings.levels}")
        return value


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [SliderQuestion, SeverityQuestion]

"""A `slider` question kind: a number between `min` and `max`, in `step`s, with its own
browser widget (``widget.js``); a `severity` kind without one, which UIs render from its
JSON Schema; a `code` field kind shown monospaced through its widget (``field_widget.js``);
and a `slider_mean` training task for slider questions."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from pydantic import Field, model_validator

from feedbackql_server.kinds import Agreement, FieldKind, KindModel, QuestionKind, Unified, hookimpl
from feedbackql_server.kinds.columns import FLOAT, INTEGER, TEXT, Column
from feedbackql_server.kinds.tasks import Row, TaskRecord, TrainingTask


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


class CodeFieldSettings(KindModel):
    """The language of the snippets, shown by the widget."""

    language: str = Field(default="text", pattern=r"^[a-z0-9+#-]{1,30}$", title="Language")


class CodeField(FieldKind):
    name = "code"
    description = "A code snippet, shown monospaced with its language."
    settings_model = CodeFieldSettings
    value_type = str
    widget = "field_widget.js"

    def validate_value(self, settings: Any, value: Any) -> Any:
        if not value.strip():
            raise ValueError("the snippet is empty")
        return value

    def searchable_text(self, value: Any) -> str:
        return str(value)


@hookimpl
def feedbackql_field_types() -> list[type[FieldKind]]:
    return [CodeField]


class SliderMean(TrainingTask):
    """One row per answered record: the mean of its slider answers."""

    name = "slider_mean"
    description = "Per answered record: the mean of its slider answers and how many there are."
    columns = ("external_id", "mean", "answers")
    column_types: ClassVar[Mapping[str, Column]] = {"external_id": TEXT, "mean": FLOAT, "answers": INTEGER}

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        return isinstance(kind, SliderQuestion)

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        if not record.answers:
            return []
        mean = sum(record.answers) / len(record.answers)
        return [{"external_id": record.external_id, "mean": mean, "answers": len(record.answers)}]


@hookimpl
def feedbackql_training_tasks() -> list[type[TrainingTask]]:
    return [SliderMean]

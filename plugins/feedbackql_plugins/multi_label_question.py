"""The `multiLabel` question kind: pick one or more options."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Annotated, Any

from pydantic import Field

from feedbackql_plugins._common import OptionsSettings, require_known, require_unique
from feedbackql_server.kinds import Agreement, QuestionKind, Unified, hookimpl


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

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """majority per label: a label is in when more than half the answers chose it; a
        label chosen by exactly half is a tie and left out."""
        if not answers:
            return Unified(None)
        options = [o.value for o in settings.options]
        chosen = {label: sum(label in answer for answer in answers) for label in options}
        tie = any(2 * count == len(answers) for count in chosen.values())
        value = [label for label in options if 2 * chosen[label] > len(answers)]
        disagreement = len({frozenset(answer) for answer in answers}) > 1
        return Unified(value, tie=tie, disagreement=disagreement)

    def answer_schema(self, settings: Any) -> dict[str, Any]:
        return {"title": "Labels", "type": "array", "minItems": 1, "uniqueItems": True,
                "items": {"enum": [o.value for o in settings.options]}}

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        """Per label: chosen or not (nominal), so partial overlaps count as partial agreement."""
        return [(o.value, o.value in answer) for o in settings.options]


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [MultiLabelQuestion]

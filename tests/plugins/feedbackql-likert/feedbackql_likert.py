"""Two question kinds: `likert`, a 5-point agreement scale with labels of its own, and
`thumbs`, a thumbs up or down that needs no settings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from typing import Annotated, Any

from pydantic import Field

from feedbackql_server.kinds import Agreement, KindModel, QuestionKind, Unified, hookimpl

DEFAULT_LABELS = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")


class LikertQuestionSettings(KindModel):
    """The statement's five point labels, from 1 (first) to 5 (last)."""

    point_labels: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]],
                            Field(min_length=5, max_length=5)] = Field(default_factory=lambda: list(DEFAULT_LABELS))


class LikertQuestion(QuestionKind):
    name = "likert"
    description = "Agreement with a statement on a 5-point scale (1 strongly disagree .. 5 strongly agree)."
    settings_model = LikertQuestionSettings
    value_type = Annotated[int, Field(ge=1, le=5)]
    agreement = Agreement.ORDINAL
    strategies = ("median", "majority")

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """median: the lower middle answer; majority: the most frequent, ties to the lower point."""
        if not answers:
            return Unified(None)
        disagreement = len(set(answers)) > 1
        ordered = sorted(answers)
        if strategy == "median":
            return Unified(ordered[(len(ordered) - 1) // 2], disagreement=disagreement)
        counts = Counter(ordered)
        best = max(counts.values())
        tied = sorted(point for point, count in counts.items() if count == best)
        return Unified(tied[0], tie=len(tied) > 1, disagreement=disagreement)

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        return [("", answer)]


class ThumbsQuestion(QuestionKind):
    """No ``settings_model``: a thumbs question is configured as ``{ thumbs: {} }``."""

    name = "thumbs"
    description = "Thumbs up (true) or down (false)."
    value_type = bool
    agreement = Agreement.NOMINAL
    strategies = ("majority",)

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """The most frequent answer; a tie is thumbs down (the cautious reading)."""
        if not answers:
            return Unified(None)
        up = sum(1 for answer in answers if answer)
        down = len(answers) - up
        return Unified(up > down, tie=up == down, disagreement=0 < up < len(answers))

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        return [("", answer)]


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [LikertQuestion, ThumbsQuestion]

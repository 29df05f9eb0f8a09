"""Shapes shared by several built-in kinds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Annotated, TypeVar

from pydantic import Field, field_validator

from feedbackql_server.kinds import KindModel, Problem

NonBlank = Annotated[str, Field(min_length=1)]


class LabelOption(KindModel):
    """One choice of a label, multi-label or ranking question."""

    value: Annotated[str, Field(min_length=1, max_length=200, title="Value",
                                description="What is stored when this option is chosen.")]
    text: Annotated[str, Field(min_length=1, max_length=500, title="Text", description="What labelers see.")]


class OptionsSettings(KindModel):
    """Settings of a question whose answers pick from a list of options."""

    options: Annotated[list[LabelOption], Field(min_length=2, max_length=500, title="Options")]

    @field_validator("options")
    @classmethod
    def _unique_values(cls, options: list[LabelOption]) -> list[LabelOption]:
        require_unique([o.value for o in options], "option values")
        return options

    def option_values(self) -> set[str]:
        return {o.value for o in self.options}


class MarkdownSettings(KindModel):
    """Settings of a kind whose text may be rendered as markdown."""

    use_markdown: Annotated[bool, Field(title="Render as markdown")] = False


def require_unique(values: Sequence[object], what: str) -> None:
    seen: set[object] = set()
    repeated: set[object] = set()
    for value in values:
        (repeated if value in seen else seen).add(value)
    if repeated:
        raise Problem(f"{what} must be unique; repeated: {sorted(map(str, repeated))}", reason="duplicate")


def require_known(values: Sequence[str], allowed: set[str]) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise Problem(f"unknown option(s) {unknown}; allowed: {sorted(allowed)}", reason="unknown_option")


Answer = TypeVar("Answer", bound=Hashable)


def majority(answers: Sequence[Answer], order: Sequence[Answer]) -> tuple[Answer, bool]:
    """The most frequent answer, and whether it tied with another. Ties go to the answer
    that comes first in ``order`` (the question's option order); never chosen at random."""
    counts = Counter(answers)
    best = max(counts.values())
    tied = [answer for answer, count in counts.items() if count == best]
    rank = {value: index for index, value in enumerate(order)}
    tied.sort(key=lambda answer: rank.get(answer, len(rank)))
    return tied[0], len(tied) > 1

"""Which records a training export (or ``unifiedAnswers``) uses: the caller's filters.

Defaults keep every record (as before filters existed): ``completed_only`` off, no minimum
number of submitted answers, no minimum agreement, no metadata filter. A record a filter
leaves out is counted under the filter's name, so the export says what it left out.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from feedbackql_server.documents import RecordDoc
from feedbackql_server.domain.listing import MetadataCriterion
from feedbackql_server.domain.unification import Question
from feedbackql_server.errors import Invalid
from feedbackql_server.kinds.base import Agreement


@dataclass(frozen=True)
class Selection:
    completed_only: bool = False
    """Only records whose status is completed (they reached the dataset's minSubmitted)."""
    min_submitted: int | None = None
    """At least this many submitted answers to the exported question."""
    min_agreement: float | None = None
    """At least this per-record agreement (0 to 1); records with fewer than two answers fail it."""
    metadata: tuple[MetadataCriterion, ...] = ()
    """Every criterion holds: the value is one of ``values`` and/or within [ge, le]."""

    def check(self, question: Question) -> None:
        """Refuse filters that cannot apply, before any row is made."""
        if self.min_submitted is not None and self.min_submitted < 0:
            raise Invalid("min_submitted is 0 or more", ["min_submitted"], reason="out_of_range")
        if self.min_agreement is not None:
            if not 0 <= self.min_agreement <= 1:
                raise Invalid("min_agreement is between 0 and 1", ["min_agreement"], reason="out_of_range")
            if question.kind.agreement is Agreement.NONE:
                raise Invalid(f"{question.kind.name} questions have no agreement: leave min_agreement out",
                              ["min_agreement"], reason="no_agreement")
        for index, criterion in enumerate(self.metadata):
            if criterion.values is None and criterion.ge is None and criterion.le is None:
                raise Invalid("give values, ge or le", ["metadata", index], reason="required")
            if criterion.values is not None and not isinstance(criterion.values, list):
                raise Invalid("values is a list", ["metadata", index, "values"])
            for bound in ("ge", "le"):
                if not isinstance(getattr(criterion, bound), int | float | None):
                    raise Invalid(f"{bound} is a number", ["metadata", index, bound])

    def describe(self) -> dict[str, Any]:
        return {"completed_only": self.completed_only, "min_submitted": self.min_submitted,
                "min_agreement": self.min_agreement,
                "metadata": [{"name": m.name, "values": m.values, "ge": m.ge, "le": m.le} for m in self.metadata]}

    def left_out(self, record: RecordDoc, answers: Sequence[Any], question: Question) -> str | None:
        """The name of the first filter that leaves the record out, or None."""
        if self.completed_only and record.get("status") != "completed":
            return "not_completed"
        if self.min_submitted is not None and len(answers) < self.min_submitted:
            return "too_few_answers"
        if not all(_matches(record.get("metadata") or {}, m) for m in self.metadata):
            return "metadata"
        if self.min_agreement is not None:
            score = record_agreement(question, answers)
            if score is None or score < self.min_agreement:
                return "low_agreement"
        return None


def _matches(metadata: dict[str, Any], criterion: MetadataCriterion) -> bool:
    value = metadata.get(criterion.name)
    if criterion.values is not None and value not in criterion.values:
        return False
    if criterion.ge is not None or criterion.le is not None:
        if not isinstance(value, int | float) or isinstance(value, bool):
            return False
        if criterion.ge is not None and value < criterion.ge:
            return False
        if criterion.le is not None and value > criterion.le:
            return False
    return True


def record_agreement(question: Question, answers: Sequence[Any]) -> float | None:
    """The share of pairs of answers that agree, part by part of the kind's agreement coding
    (a label; each option's rank): 1.0 when all agree. None with fewer than two answers."""
    if len(answers) < 2:
        return None
    by_part: dict[str, list[Hashable]] = {}
    for coded in question.agreement_codes(list(answers)):
        for part, value in coded:
            by_part.setdefault(part, []).append(value)
    pairs = agreeing = 0
    for values in by_part.values():
        for first, second in combinations(values, 2):
            pairs += 1
            agreeing += first == second
    return agreeing / pairs if pairs else None

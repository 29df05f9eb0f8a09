"""Inter-annotator agreement: Krippendorff's alpha, computed in one streaming pass.

Each submitted answer is coded by its kind into (part, value) pairs; the values given to one
(record, part) by different labelers form a unit. Only the coincidence matrix (values x
values) and per-labeler counters are kept, so memory does not grow with the dataset.

alpha = 1 - D_o / D_e with D_o = sum(o_ck * d_ck) / n and D_e = sum(n_c * n_k * d_ck) / (n (n - 1)),
where o_ck counts pairs of values c, k within units (each weighted 1 / (m_u - 1)), n_c are
its margins, and d is the level's distance: nominal (0 if equal else 1), interval
((c - k)^2; ranks for ranking kinds) or ordinal (Krippendorff's rank-sum distance).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc
from feedbackql_server.domain.unification import Question
from feedbackql_server.errors import Invalid
from feedbackql_server.kinds.base import Agreement

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

Distance = Callable[[Any, Any], float]


@dataclass
class Coincidences:
    pairs: defaultdict[tuple[Hashable, Hashable], float] = field(default_factory=lambda: defaultdict(float))
    units: int = 0
    pair_count: int = 0

    def add_unit(self, values: list[Hashable]) -> None:
        m = len(values)
        if m < 2:
            return
        self.units += 1
        self.pair_count += m * (m - 1) // 2
        for i, first in enumerate(values):
            for j, second in enumerate(values):
                if i != j:
                    self.pairs[(first, second)] += 1 / (m - 1)

    def alpha(self, level: Agreement) -> float | None:
        """None when it is undefined: fewer than two pairable values, or no variation."""
        margins: defaultdict[Hashable, float] = defaultdict(float)
        for (first, _), weight in self.pairs.items():
            margins[first] += weight
        n = sum(margins.values())
        if n <= 1:
            return None
        distance = _distance(level, margins)
        observed = sum(weight * distance(c, k) for (c, k), weight in self.pairs.items()) / n
        expected = sum(margins[c] * margins[k] * distance(c, k) for c in margins for k in margins) / (n * (n - 1))
        return None if expected == 0 else 1 - observed / expected


def _distance(level: Agreement, margins: dict[Hashable, float]) -> Distance:
    if level is Agreement.NOMINAL:
        return lambda c, k: 0.0 if c == k else 1.0
    if level is Agreement.ORDINAL:
        ordered: list[Any] = sorted(margins, key=lambda value: value)
        position = {value: index for index, value in enumerate(ordered)}

        def ordinal(c: Any, k: Any) -> float:
            low, high = sorted((position[c], position[k]))
            between = sum(margins[ordered[g]] for g in range(low, high + 1))
            return float((between - (margins[c] + margins[k]) / 2) ** 2)

        return ordinal
    return lambda c, k: float((c - k) ** 2)  # interval, and ranks of a ranking


@dataclass
class AnnotatorFigures:
    user_id: ObjectId
    answers: int = 0
    compared: int = 0
    matched: int = 0

    @property
    def agreement_with_majority(self) -> float | None:
        return self.matched / self.compared if self.compared else None


@dataclass
class AgreementReport:
    question: str
    level: Agreement
    alpha: float | None
    records: int
    pairs: int
    annotators: list[AnnotatorFigures]


async def agreement(services: Services, dataset: DatasetDoc, question: Question) -> AgreementReport:
    storage = services.storage
    level = question.kind.agreement
    if level is Agreement.NONE:
        raise Invalid(f"{question.kind.name} answers have no agreement measure", ["question"])
    level_used = Agreement.INTERVAL if level is Agreement.RANKING else level
    coincidences = Coincidences()
    annotators: dict[ObjectId, AnnotatorFigures] = {}
    records = 0
    current: ObjectId | None = None
    answers: list[tuple[ObjectId, Any]] = []

    def close_record() -> None:
        nonlocal records
        if len(answers) >= 2:
            records += 1
        _score_record(question, answers, coincidences, annotators)

    async for response in storage.responses.submitted_answers(dataset["_id"], question.name):
        if response["record_id"] != current and answers:
            close_record()
            answers = []
        current = response["record_id"]
        answers.append((response["user_id"], question.read(response["values"][question.name])))
    if answers:
        close_record()
    return AgreementReport(question.name, level, coincidences.alpha(level_used), records,
                           coincidences.pair_count, sorted(annotators.values(), key=lambda a: a.user_id))


def _score_record(question: Question, answers: list[tuple[ObjectId, Any]], coincidences: Coincidences,
                  annotators: dict[ObjectId, AnnotatorFigures]) -> None:
    units: defaultdict[str, list[tuple[ObjectId, Hashable]]] = defaultdict(list)
    codes = question.agreement_codes([answer for _, answer in answers])
    for (user_id, _), parts in zip(answers, codes, strict=True):
        annotators.setdefault(user_id, AnnotatorFigures(user_id)).answers += 1
        for part, value in parts:
            units[part].append((user_id, value))
    for coded in units.values():
        coincidences.add_unit([value for _, value in coded])
        if len(coded) < 2:
            continue
        counts = Counter(value for _, value in coded).most_common(2)
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            continue  # no majority in this unit: nobody is compared on it
        for user_id, value in coded:
            figures = annotators[user_id]
            figures.compared += 1
            figures.matched += value == counts[0][0]

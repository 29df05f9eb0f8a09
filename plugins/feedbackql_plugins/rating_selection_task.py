"""The `rating_selection` training task: the records whose unified rating is high enough."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from feedbackql_server.kinds import Agreement, Problem, QuestionKind, hookimpl
from feedbackql_server.kinds.columns import FLOAT, TEXT, Column
from feedbackql_server.kinds.tasks import Row, TaskRecord, TaskRequest, TrainingTask, Unsuitable

MAX_TOP_K = 100_000


class RatingSelectionTask(TrainingTask):
    """Records whose unified rating (``mean`` by default) is at least ``threshold``, or the
    ``top_k`` best (ties at the cut go to the earlier record)."""

    name = "rating_selection"
    description = "Records whose unified rating is at least threshold, or the top_k best."
    columns = ("id", "external_id", "fields", "rating")
    column_types: ClassVar[Mapping[str, Column]] = {"id": TEXT, "external_id": TEXT, "rating": FLOAT}

    ui_options: ClassVar[Mapping[str, Any]] = {"threshold": 4}

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        return kind.agreement in (Agreement.INTERVAL, Agreement.ORDINAL)

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        question, options = request.question, request.options
        if not self.accepts(question.kind):
            raise Unsuitable(f"rating_selection needs a question with numeric answers; "
                             f"{question.name!r} is a {question.kind.name} question")
        self.strategy = question.strategy(options.strategy)
        if (options.threshold is None) == (options.top_k is None):
            raise Problem("give either threshold or top_k", ["threshold"], "missing_option")
        if options.top_k is not None and not 1 <= options.top_k <= MAX_TOP_K:
            raise Problem(f"top_k is between 1 and {MAX_TOP_K}", ["top_k"], "out_of_range")
        self.best: list[tuple[float, int, Row]] = []  # a min-heap of the top k: (rating, -position, row)
        self.position = 0

    def schema(self) -> dict[str, Column | None]:
        """``fields`` is a struct of the dataset's fields, each typed by its kind; the rating
        a float whatever the strategy (a mean is rarely whole)."""
        fields = Column("struct", members=tuple(self.request.field_columns.items()))
        return {"id": TEXT, "external_id": TEXT, "fields": fields, "rating": FLOAT}

    def rules(self) -> dict[str, Any]:
        options = self.request.options
        selection = (f"rating >= {options.threshold}" if options.threshold is not None
                     else f"top {options.top_k} (ties go to the earlier record)")
        return {"strategy": self.strategy, "selection": selection}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        rating = self.request.question.unify(record.answers, self.strategy).value
        if not isinstance(rating, int | float):
            return []
        row = {"id": record.id, "external_id": record.external_id, "fields": dict(record.fields), "rating": rating}
        self.position += 1
        options = self.request.options
        if options.threshold is not None:
            return [row] if rating >= options.threshold else []
        item = (float(rating), -self.position, row)
        if len(self.best) < (options.top_k or 0):
            heapq.heappush(self.best, item)
        elif item > self.best[0]:
            heapq.heapreplace(self.best, item)
        return []

    def finish(self) -> Iterable[Row]:
        return [row for _rating, _position, row in sorted(self.best, reverse=True)]


@hookimpl
def feedbackql_training_tasks() -> list[type[TrainingTask]]:
    return [RatingSelectionTask]

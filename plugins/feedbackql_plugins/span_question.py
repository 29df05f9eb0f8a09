"""The `span` question kind: mark stretches of a text field with labels (named entities,
quotes, errors), e.g. for token classification.

Offsets count Unicode code points of the field's text (as Python's ``str`` does): ``start``
is the first character, ``end`` the one after the last.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Annotated, Any, ClassVar

from pydantic import Field, field_validator

from feedbackql_plugins._common import LabelOption, require_unique
from feedbackql_server.kinds import (
    Agreement,
    DatasetContext,
    KindModel,
    Problem,
    QuestionKind,
    RecordContext,
    Unified,
    hookimpl,
    raise_all,
)
from feedbackql_server.kinds.columns import INTEGER, TEXT, Column, list_of, struct
from feedbackql_server.kinds.tasks import Row, TaskRecord, TaskRequest, TrainingTask, Unsuitable

TEXT_FIELD_KINDS = frozenset({"text"})
"""Field kinds whose stored value is the plain text that offsets count in."""


class SpanQuestionSettings(KindModel):
    """Which text field is marked, and with which labels."""

    field: Annotated[str, Field(min_length=1, max_length=200, title="Text field",
                                description="The name of the text field whose spans are marked.")]
    labels: Annotated[list[LabelOption], Field(min_length=1, max_length=500, title="Labels")]
    allow_overlapping: Annotated[bool, Field(title="Allow overlapping spans")] = False

    @field_validator("labels")
    @classmethod
    def _unique_values(cls, labels: list[LabelOption]) -> list[LabelOption]:
        require_unique([label.value for label in labels], "label values")
        return labels

    def label_values(self) -> list[str]:
        return [label.value for label in self.labels]


class Span(KindModel):
    """A labeled stretch of the text: characters from start (inclusive) to end (exclusive)."""

    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=1)]
    label: Annotated[str, Field(min_length=1, max_length=200)]


def _key(span: dict[str, Any]) -> tuple[int, int, str]:
    return span["start"], span["end"], span["label"]


class SpanQuestion(QuestionKind):
    name = "span"
    description = "Labeled spans of a text field (an empty list: nothing to mark)."
    settings_model = SpanQuestionSettings
    value_type = Annotated[list[Span], Field(max_length=10_000)]
    agreement = Agreement.NOMINAL
    strategies = ("majority",)
    widget = "span_widget.js"

    def check_settings(self, settings: Any, context: DatasetContext) -> None:
        info = context.fields.get(settings.field)
        if info is None:
            raise Problem(f"the dataset has no field {settings.field!r}; fields: {sorted(context.fields)}",
                          ["field"], "unknown_field")
        if info.kind not in TEXT_FIELD_KINDS:
            raise Problem(f"field {settings.field!r} is a {info.kind} field: spans mark the text of a "
                          f"text field", ["field"], "wrong_field_kind")

    def validate_answer(self, settings: Any, value: Any, context: RecordContext) -> Any:
        text = context.fields.get(settings.field)
        labels = settings.label_values()
        problems: list[Problem] = []
        for index, span in enumerate(value):
            if span.label not in labels:
                problems.append(Problem(f"unknown label {span.label!r}; labels: {labels}",
                                        [index, "label"], "unknown_label"))
            if span.end <= span.start:
                problems.append(Problem(f"end ({span.end}) must be after start ({span.start})",
                                        [index, "end"], "empty_span"))
            elif not isinstance(text, str):
                problems.append(Problem(f"the record has no text in field {settings.field!r} to mark",
                                        [index], "no_text"))
            elif span.end > len(text):
                problems.append(Problem(f"end ({span.end}) is beyond the end of the text "
                                        f"({len(text)} characters)", [index, "end"], "out_of_bounds"))
        problems.extend(_overlaps(value, settings.allow_overlapping))
        raise_all(problems)
        return sorted(value, key=lambda span: (span.start, span.end, span.label))

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """majority per span: a (start, end, label) span is in when more than half the answers
        marked it; one marked by exactly half is a tie and left out."""
        if not answers:
            return Unified(None)
        marked = Counter(key for answer in answers for key in {_key(span) for span in answer})
        chosen = sorted(key for key, count in marked.items() if 2 * count > len(answers))
        tie = any(2 * count == len(answers) for count in marked.values())
        disagreement = len({frozenset(map(_key, answer)) for answer in answers}) > 1
        return Unified([{"start": s, "end": e, "label": label} for s, e, label in chosen], tie=tie,
                       disagreement=disagreement)

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        return self.record_agreement_units(settings, [answer])[0]

    def record_agreement_units(self, settings: Any, answers: Sequence[Any]) -> list[Iterable[tuple[str, Hashable]]]:
        """One unit per stretch (start:end) that any labeler marked; each answer codes it with
        its label there, or None (absent) when it did not mark that stretch (nominal)."""
        stretches = sorted({(span["start"], span["end"]) for answer in answers for span in answer})
        coded: list[Iterable[tuple[str, Hashable]]] = []
        for answer in answers:
            labels: dict[tuple[int, int], list[str]] = {}
            for span in answer:
                labels.setdefault((span["start"], span["end"]), []).append(span["label"])
            coded.append([(f"{start}:{end}", "|".join(sorted(labels[(start, end)]))
                           if (start, end) in labels else None) for start, end in stretches])
        return coded

    def answer_schema(self, settings: Any) -> dict[str, Any]:
        return {"type": "array", "title": "Spans", "maxItems": 10_000, "items": {
            "type": "object", "title": "Span", "additionalProperties": False,
            "required": ["start", "end", "label"],
            "properties": {"start": {"type": "integer", "minimum": 0, "title": "Start"},
                           "end": {"type": "integer", "minimum": 1, "title": "End"},
                           "label": {"enum": settings.label_values(), "title": "Label"}}}}


def _overlaps(spans: Sequence[Span], allowed: bool) -> list[Problem]:
    """Spans that overlap an earlier one (by start) when overlaps are not allowed; repeated
    spans either way."""
    problems: list[Problem] = []
    seen: set[tuple[int, int, str]] = set()
    reach = -1
    for index in sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end)):
        span = spans[index]
        key = (span.start, span.end, span.label)
        if key in seen:
            problems.append(Problem("this span is marked twice", [index], "duplicate"))
        elif not allowed and span.start < reach:
            problems.append(Problem(f"span {span.start}-{span.end} overlaps another span (this question "
                                    "does not allow overlapping spans)", [index, "start"], "overlap"))
        seen.add(key)
        reach = max(reach, span.end)
    return problems


class TokenClassificationTask(TrainingTask):
    """One row per answered record: the text split into words and punctuation, and an IOB2
    tag per token from the unified spans (``majority`` by default), as NER trainers take."""

    name = "token_classification"
    description = "Tokens and IOB2 tags (ner_tags) from the unified spans of a span question."
    columns = ("id", "external_id", "text", "tokens", "ner_tags", "spans")
    column_types: ClassVar[Mapping[str, Column]] = {
        "id": TEXT, "external_id": TEXT, "text": TEXT, "tokens": list_of(TEXT), "ner_tags": list_of(TEXT),
        "spans": list_of(struct(start=INTEGER, end=INTEGER, label=TEXT))}

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        return isinstance(kind, SpanQuestion)

    def __init__(self, request: TaskRequest) -> None:
        super().__init__(request)
        question = request.question
        if not self.accepts(question.kind):
            raise Unsuitable(f"token_classification needs a span question; {question.name!r} is a "
                             f"{question.kind.name} question")
        self.strategy = question.strategy(request.options.strategy)
        self.field = question.settings.field

    def rules(self) -> dict[str, Any]:
        return {"text_field": self.field, "strategy": self.strategy,
                "rows": "one per record with a submitted answer",
                "tokens": r"words and punctuation (\w+|[^\w\s])",
                "tags": "IOB2: B-label on the first token that starts inside a span, I-label on the "
                        "next ones, O elsewhere; where unified spans overlap the earlier one wins; "
                        "records whose spans tied count as ties"}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        text = record.fields.get(self.field)
        if not record.answers or not isinstance(text, str):
            return []
        unified = self.request.question.unify(record.answers, self.strategy)
        self.ties += unified.tie
        spans = unified.value or []
        tokens = [(match.start(), match.group()) for match in TOKEN.finditer(text)]
        return [{"id": record.id, "external_id": record.external_id, "text": text,
                 "tokens": [token for _, token in tokens], "ner_tags": iob2(tokens, spans), "spans": spans}]


TOKEN = re.compile(r"\w+|[^\w\s]")


def iob2(tokens: Sequence[tuple[int, str]], spans: Sequence[dict[str, Any]]) -> list[str]:
    """A tag per token (given by its start offset) from spans sorted by start."""
    tags = ["O"] * len(tokens)
    for span in spans:
        inside = [i for i, (start, _) in enumerate(tokens) if span["start"] <= start < span["end"]]
        if any(tags[i] != "O" for i in inside):
            continue  # overlaps an earlier span: IOB2 has one tag per token
        for position, index in enumerate(inside):
            tags[index] = ("B-" if position == 0 else "I-") + span["label"]
    return tags


@hookimpl
def feedbackql_question_types() -> list[type[QuestionKind]]:
    return [SpanQuestion]


@hookimpl
def feedbackql_training_tasks() -> list[type[TrainingTask]]:
    return [TokenClassificationTask]

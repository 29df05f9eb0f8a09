"""Every built-in kind's validation, unification and agreement coding, and the agreement
maths, without a server (the end-to-end suite covers the same through GraphQL)."""

from __future__ import annotations

from typing import Any

import krippendorff
import numpy as np
import pytest
from pydantic import ValidationError

from feedbackql_plugins.chat_field import ChatField
from feedbackql_plugins.label_question import LabelQuestion
from feedbackql_plugins.multi_label_question import MultiLabelQuestion
from feedbackql_plugins.ranking_question import RankingQuestion
from feedbackql_plugins.rating_question import RatingQuestion
from feedbackql_plugins.span_question import SpanQuestion, iob2
from feedbackql_plugins.text_field import TextField
from feedbackql_plugins.text_question import TextQuestion
from feedbackql_server.domain.agreement import Coincidences
from feedbackql_server.errors import Invalid, all_of, invalid_from_pydantic
from feedbackql_server.kinds import Agreement, DatasetContext, FieldInfo, Problem, Problems, RecordContext
from feedbackql_server.kinds.base import Kind

OPTIONS = {"options": [{"value": "a", "text": "A"}, {"value": "b", "text": "B"}, {"value": "c", "text": "C"}]}


def check(kind: Kind, settings: dict[str, Any], value: Any, **context: Any) -> Any:
    """A value through the kind as the core runs it: shaped by value_type, then validated."""
    parsed = kind.parse_settings(settings)
    shaped = kind.value_adapter.validate_python(value)
    if isinstance(kind, TextField | ChatField):
        return kind.dump_value(kind.validate_value(parsed, shaped))
    return kind.dump_value(kind.validate_answer(parsed, shaped, RecordContext(**context)))  # type: ignore[attr-defined]


def reason(kind: Kind, settings: dict[str, Any], value: Any, **context: Any) -> set[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValueError, match=r".") as raised:
        check(kind, settings, value, **context)
    problems = raised.value.problems if isinstance(raised.value, Problems) else [raised.value]
    return {(p.path, p.reason) if isinstance(p, Problem) else ((), "invalid") for p in problems}


def test_text_kinds() -> None:
    assert check(TextQuestion(), {}, "an answer") == "an answer"
    assert reason(TextQuestion(), {}, "  ") == {((), "empty")}
    assert reason(TextField(), {}, "\n") == {((), "empty")}
    chat = [{"role": "user", "content": "hi"}]
    assert check(ChatField(), {}, chat) == chat
    unified = TextQuestion().unify(None, ["first", "second"], "first_submitted")
    assert (unified.value, unified.disagreement) == ("first", True)
    assert TextQuestion().unify(None, ["first"], "none").value is None
    assert TextQuestion().agreement is Agreement.NONE


def test_settings_problems_keep_their_reason() -> None:
    with pytest.raises(ValidationError) as raised:
        LabelQuestion().parse_settings({"options": [{"value": "a", "text": "A"}, {"value": "a", "text": "B"}]})
    error = invalid_from_pydantic(raised.value, ["settings", "label"])
    assert (error.extensions["path"], error.extensions["reason"]) == (["settings", "label", "options"], "duplicate")


def test_rating() -> None:
    kind, settings = RatingQuestion(), {"values": [1, 2, 3, 4, 5]}
    parsed = kind.parse_settings(settings)
    assert check(kind, settings, 4) == 4
    assert reason(kind, settings, 9) == {((), "not_in_scale")}
    assert kind.unify(parsed, [1, 2, 2, 5], "mean").value == 2.5
    assert kind.unify(parsed, [1, 1, 5, 5], "majority").value == 1  # tie: the lower rating
    assert kind.unify(parsed, [1, 1, 5, 5], "majority").tie
    assert (kind.unify(parsed, [3, 1], "min").value, kind.unify(parsed, [3, 1], "max").value) == (1, 3)
    assert list(kind.agreement_units(parsed, 4)) == [("", 4)]
    assert kind.answer_schema(parsed)["enum"] == [1, 2, 3, 4, 5]


def test_label_and_multi_label() -> None:
    label, multi = LabelQuestion(), MultiLabelQuestion()
    parsed = label.parse_settings(OPTIONS)
    assert check(label, OPTIONS, "b") == "b"
    assert reason(label, OPTIONS, "z") == {((), "unknown_option")}
    unified = label.unify(parsed, ["b", "c", "c", "b"], "majority")
    assert (unified.value, unified.tie, unified.disagreement) == ("b", True, True)  # tie: listed first
    assert list(label.agreement_units(parsed, "a")) == [("", "a")]

    assert check(multi, OPTIONS, ["a", "c"]) == ["a", "c"]
    assert reason(multi, OPTIONS, ["a", "a"]) == {((), "duplicate")}
    unified = multi.unify(parsed, [["a", "b"], ["a"], ["b", "c"], ["a"]], "majority")
    assert (unified.value, unified.tie) == (["a"], True)  # b: exactly half, left out
    assert list(multi.agreement_units(parsed, ["a"])) == [("a", True), ("b", False), ("c", False)]


def test_ranking() -> None:
    kind = RankingQuestion()
    parsed = kind.parse_settings(OPTIONS)

    def ranks(*order: int) -> list[dict[str, Any]]:
        return [{"value": v, "rank": r} for v, r in zip("abc", order, strict=False)]

    assert check(kind, OPTIONS, ranks(1, 1, 2)) == ranks(1, 1, 2)
    assert reason(kind, OPTIONS, ranks(1, 2)) == {((), "unranked_option")}
    assert check(kind, OPTIONS, ranks(1, 2), partial=True) == ranks(1, 2)  # a draft may be unfinished
    assert reason(kind, OPTIONS, ranks(1, 2, 7)) == {((), "out_of_range")}
    unified = kind.unify(parsed, [ranks(1, 2, 3), ranks(2, 1, 3)], "mean_rank")
    assert (unified.value, unified.tie) == (ranks(1, 1, 2), True)
    assert kind.unify(parsed, [ranks(1, 2, 3), ranks(2, 1, 3)], "majority").value == ranks(1, 2, 3)
    assert list(kind.agreement_units(parsed, ranks(1, 2, 3))) == [("a", 1), ("b", 2), ("c", 3)]


SPAN = {"field": "text", "labels": [{"value": "PER", "text": "Person"}, {"value": "LOC", "text": "Place"}]}


def spans(*marks: tuple[int, int, str]) -> list[dict[str, Any]]:
    return [{"start": s, "end": e, "label": label} for s, e, label in marks]


def test_span_settings_are_checked_against_the_dataset() -> None:
    kind = SpanQuestion()
    parsed = kind.parse_settings(SPAN)
    kind.check_settings(parsed, DatasetContext({"text": FieldInfo("text", "text", None)}))
    for fields, expected in (({}, "unknown_field"), ({"text": FieldInfo("text", "chat", None)}, "wrong_field_kind")):
        with pytest.raises(Problem) as raised:
            kind.check_settings(parsed, DatasetContext(fields))
        assert (raised.value.path, raised.value.reason) == (("field",), expected)


def test_span_answers_are_checked_against_the_text() -> None:
    kind, text = SpanQuestion(), {"text": "Ada in Paris"}
    assert check(kind, SPAN, spans((7, 12, "LOC"), (0, 3, "PER")), fields=text) == spans((0, 3, "PER"), (7, 12, "LOC"))
    assert check(kind, SPAN, [], fields=text) == []
    assert reason(kind, SPAN, spans((0, 500, "PER")), fields={"text": "Hello!"}) == {((0, "end"), "out_of_bounds")}
    assert reason(kind, SPAN, spans((3, 3, "PER"), (0, 2, "ORG")), fields=text) == {
        ((0, "end"), "empty_span"), ((1, "label"), "unknown_label")}
    assert reason(kind, SPAN, spans((0, 5, "PER"), (2, 8, "LOC")), fields=text) == {((1, "start"), "overlap")}
    assert reason(kind, SPAN, spans((0, 3, "PER")), fields={}) == {((0,), "no_text")}
    overlapping = {**SPAN, "allowOverlapping": True}
    assert len(check(kind, overlapping, spans((0, 5, "PER"), (2, 8, "LOC")), fields=text)) == 2
    assert reason(kind, overlapping, spans((0, 5, "PER"), (0, 5, "PER")), fields=text) == {((1,), "duplicate")}


def test_span_unification_and_agreement_coding() -> None:
    kind = SpanQuestion()
    parsed = kind.parse_settings(SPAN)
    answers = [spans((0, 3, "PER"), (7, 12, "LOC")), spans((0, 3, "PER")), spans((0, 3, "PER"), (7, 12, "PER"))]
    unified = kind.unify(parsed, answers, "majority")
    assert (unified.value, unified.tie, unified.disagreement) == (spans((0, 3, "PER")), False, True)
    assert kind.unify(parsed, answers[:2], "majority").tie  # 7-12 LOC: exactly half
    coded = [list(units) for units in kind.record_agreement_units(parsed, answers)]
    assert coded == [[("0:3", "PER"), ("7:12", "LOC")], [("0:3", "PER"), ("7:12", None)],
                     [("0:3", "PER"), ("7:12", "PER")]]
    assert list(kind.agreement_units(parsed, answers[1])) == [("0:3", "PER")]
    assert iob2([(0, "Ada"), (4, "in"), (7, "Paris")], spans((0, 3, "PER"), (4, 12, "LOC"))) == [
        "B-PER", "B-LOC", "I-LOC"]


def alpha_of(units: list[list[Any]], level: Agreement) -> float | None:
    coincidences = Coincidences()
    for values in units:
        coincidences.add_unit([v for v in values if v is not None])
    return coincidences.alpha(level)


def reference(units: list[list[Any]], level: str) -> float:
    coders = max(len(u) for u in units)
    matrix = np.full((coders, len(units)), np.nan)
    for column, values in enumerate(units):
        for row, value in enumerate(values):
            if value is not None:
                matrix[row, column] = value
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


MATRICES = [
    [[1, 1, 2], [2, 2, 2], [3, 3, None], [1, 2, 1], [4, 4, 4]],
    [[1, 2], [2, 3], [3, 3], [4, 1], [5, 5], [2, 2]],
    [[0, 0, 1, 1], [1, 1, 1, None], [0, 1, None, None], [1, 1, 0, 0]],
    # Krippendorff (2011), the example with missing values (four coders, twelve units)
    [[1, 1, None, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2], [1, 2, 3, 4],
     [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [None, 5, 5, 5], [None, None, 1, 1], [None, None, 3, None]],
]


@pytest.mark.parametrize("units", MATRICES)
@pytest.mark.parametrize(("level", "name"), [(Agreement.NOMINAL, "nominal"), (Agreement.ORDINAL, "ordinal"),
                                             (Agreement.INTERVAL, "interval")])
def test_alpha_matches_the_krippendorff_package(units: list[list[Any]], level: Agreement, name: str) -> None:
    assert alpha_of(units, level) == pytest.approx(reference(units, name))


def test_alpha_is_undefined_without_pairs_or_variation() -> None:
    assert alpha_of([[1], [2]], Agreement.NOMINAL) is None  # no unit with two values
    assert alpha_of([[1, 1], [1, 1]], Agreement.INTERVAL) is None  # no variation at all


def test_many_problems_are_reported_within_bounds() -> None:
    errors = [Invalid(f"bad {i}", ["values", i], reason="bad", question=f"q{i}") for i in range(150)]
    combined = all_of(errors)
    assert combined.extensions["path"] == ["values", 0]
    assert (combined.extensions["question"], combined.extensions["reason"]) == ("q0", "bad")
    assert len(combined.extensions["errors"]) == 100
    assert combined.extensions["unreported"] == 50
    assert combined.message.startswith("150 problems: values[0]: bad 0; ")
    assert combined.message.endswith("and 140 more")
    assert all_of(errors[:1]) is errors[0]

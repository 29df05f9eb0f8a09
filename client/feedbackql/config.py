"""Configuration objects mirroring the server's kinds; mistakes the SDK can see are raised
as ``ValidationError`` before anything is sent."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from feedbackql.errors import ValidationError

NAME = re.compile(r"^(?=.*[a-z0-9])[a-z0-9_-]{1,200}$")


def _check_name(name: str, what: str) -> None:
    if not isinstance(name, str) or not NAME.match(name):
        raise ValidationError(f"{what} name {name!r}: use 1-200 lowercase letters, digits, '_' and '-'",
                              ["name"])


def _options(labels: Sequence[str] | Mapping[str, str], what: str, minimum: int = 2) -> list[dict[str, str]]:
    pairs = list(labels.items()) if isinstance(labels, Mapping) else [(label, label) for label in labels]
    values = [value for value, _ in pairs]
    if len(values) < minimum:
        raise ValidationError(f"{what} needs at least {minimum} options", ["settings"])
    if len(set(values)) != len(values):
        raise ValidationError(f"{what} options must be unique", ["settings"])
    return [{"value": value, "text": text} for value, text in pairs]


@dataclass
class Field:
    """A field of any kind, including plugin kinds the SDK does not know."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    required: bool = True

    def __post_init__(self) -> None:
        _check_name(self.name, "field")

    def to_input(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "required": self.required,
                                "settings": {self.kind: self.settings}}
        if self.title is not None:
            data["title"] = self.title
        return data


class TextField(Field):
    def __init__(self, name: str, *, title: str | None = None, required: bool = True,
                 use_markdown: bool = False) -> None:
        super().__init__(name, "text", {"useMarkdown": use_markdown}, title, required)


class ChatField(Field):
    """A conversation: a list of {"role", "content"} messages."""

    def __init__(self, name: str, *, title: str | None = None, required: bool = True,
                 use_markdown: bool = False) -> None:
        super().__init__(name, "chat", {"useMarkdown": use_markdown}, title, required)


@dataclass
class Question:
    """A question of any kind, including plugin kinds the SDK does not know."""

    name: str
    kind: str
    settings: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    description: str | None = None
    required: bool = True

    def __post_init__(self) -> None:
        _check_name(self.name, "question")

    def to_input(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "required": self.required,
                                "settings": {self.kind: self.settings}}
        for key in ("title", "description"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def value_input(self, value: Any) -> dict[str, Any]:
        """An answer or suggestion value as the server's ``ValueInput``."""
        return {self.kind: value}


class TextQuestion(Question):
    def __init__(self, name: str, *, title: str | None = None, description: str | None = None,
                 required: bool = True, use_markdown: bool = False) -> None:
        super().__init__(name, "text", {"useMarkdown": use_markdown}, title, description, required)


class RatingQuestion(Question):
    def __init__(self, name: str, values: Sequence[int], *, title: str | None = None,
                 description: str | None = None, required: bool = True) -> None:
        values = list(values)
        if not 2 <= len(values) <= 11 or len(set(values)) != len(values):
            raise ValidationError("a rating needs 2 to 11 unique values", ["settings", "values"])
        if any(not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 10 for v in values):
            raise ValidationError("rating values are integers from 0 to 10", ["settings", "values"])
        super().__init__(name, "rating", {"values": values}, title, description, required)


class LabelQuestion(Question):
    KIND: ClassVar[str] = "label"

    def __init__(self, name: str, labels: Sequence[str] | Mapping[str, str], *, title: str | None = None,
                 description: str | None = None, required: bool = True) -> None:
        super().__init__(name, self.KIND, {"options": _options(labels, "a label question")},
                         title, description, required)

    @property
    def labels(self) -> list[str]:
        return [option["value"] for option in self.settings["options"]]


class MultiLabelQuestion(LabelQuestion):
    KIND = "multiLabel"


class RankingQuestion(Question):
    """Rank ``values`` (e.g. the names of response fields); 1 is best, ties allowed."""

    def __init__(self, name: str, values: Sequence[str] | Mapping[str, str], *, title: str | None = None,
                 description: str | None = None, required: bool = True) -> None:
        super().__init__(name, "ranking", {"options": _options(values, "a ranking question")},
                         title, description, required)

    @property
    def values(self) -> list[str]:
        return [option["value"] for option in self.settings["options"]]

    def value_input(self, value: Any) -> dict[str, Any]:
        """A ranking as [{"value", "rank"}] or, shorter, the values from best to worst."""
        if isinstance(value, Sequence) and value and all(isinstance(v, str) for v in value):
            value = [{"value": v, "rank": rank} for rank, v in enumerate(value, start=1)]
        return {"ranking": value}


class SpanQuestion(Question):
    """Mark stretches of the text field ``field`` with ``labels``. Answers are lists of
    {"start", "end", "label"} or, shorter, (start, end, label) tuples: offsets in Unicode code
    points of the field's text, ``end`` exclusive; an empty list means nothing to mark."""

    def __init__(self, name: str, field: str, labels: Sequence[str] | Mapping[str, str], *,
                 allow_overlapping: bool = False, title: str | None = None, description: str | None = None,
                 required: bool = True) -> None:
        _check_name(field, "field")
        settings = {"field": field, "labels": _options(labels, "a span question", minimum=1),
                    "allowOverlapping": allow_overlapping}
        super().__init__(name, "span", settings, title, description, required)

    @property
    def labels(self) -> list[str]:
        return [label["value"] for label in self.settings["labels"]]

    def value_input(self, value: Any) -> dict[str, Any]:
        spans = [dict(zip(("start", "end", "label"), span, strict=True)) if isinstance(span, tuple | list) else span
                 for span in value]
        return {"span": spans}


@dataclass
class MetadataProperty:
    """``kind`` is "terms", "integer" or "float"."""

    name: str
    kind: str = "terms"
    values: list[str] | None = None
    min: float | None = None
    max: float | None = None
    title: str | None = None
    visible_for_annotators: bool = True

    def __post_init__(self) -> None:
        _check_name(self.name, "metadata property")
        if self.kind not in ("terms", "integer", "float"):
            raise ValidationError("a metadata property is 'terms', 'integer' or 'float'", ["kind"])

    def to_input(self) -> dict[str, Any]:
        data = {"name": self.name, "kind": self.kind.upper(), "values": self.values, "min": self.min,
                "max": self.max, "title": self.title, "visibleForAnnotators": self.visible_for_annotators}
        return {key: value for key, value in data.items() if value is not None}


_FIELDS = {"text": TextField, "chat": ChatField}


def field_from_server(data: dict[str, Any]) -> Field:
    settings = data["settingsJson"] or {}
    known = _FIELDS.get(data["kind"])
    if known is not None:
        return known(data["name"], title=data["title"], required=data["required"],
                     use_markdown=settings.get("useMarkdown", False))
    return Field(data["name"], data["kind"], settings, data["title"], data["required"])


def question_from_server(data: dict[str, Any]) -> Question:
    settings = data["settingsJson"] or {}
    common = {"title": data["title"], "description": data["description"], "required": data["required"]}
    kind = data["kind"]
    options = {o["value"]: o["text"] for o in settings.get("options", [])}
    if kind == "text":
        return TextQuestion(data["name"], use_markdown=settings.get("useMarkdown", False), **common)
    if kind == "rating":
        return RatingQuestion(data["name"], settings["values"], **common)
    if kind == "label":
        return LabelQuestion(data["name"], options, **common)
    if kind == "multiLabel":
        return MultiLabelQuestion(data["name"], options, **common)
    if kind == "ranking":
        return RankingQuestion(data["name"], options, **common)
    if kind == "span":
        labels = {label["value"]: label["text"] for label in settings["labels"]}
        return SpanQuestion(data["name"], settings["field"], labels,
                            allow_overlapping=settings.get("allowOverlapping", False), **common)
    return Question(data["name"], kind, settings, **common)


def metadata_from_server(data: dict[str, Any]) -> MetadataProperty:
    return MetadataProperty(data["name"], data["kind"].lower(), data["values"], data["min"], data["max"],
                            data["title"], data["visibleForAnnotators"])

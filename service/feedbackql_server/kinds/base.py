"""Base classes for field and question kinds.

A plugin author writes each shape once as a pydantic model (settings) or type annotation
(answer value); the core derives validation, GraphQL types and JSON Schema from them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.alias_generators import to_camel

from feedbackql_server.kinds.context import DatasetContext, RecordContext


def _words(name: str) -> str:
    """``use_markdown`` -> ``Use markdown``, ``RatingQuestionSettings`` -> ``Rating question settings``."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").strip()
    return spaced[:1].upper() + spaced[1:].lower()


class KindModel(BaseModel):
    """Base for settings and nested value models: camelCase on the wire, strict about extras,
    human titles in JSON Schema (a ``Field(title=...)`` wins)."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True,
        field_title_generator=lambda name, _info: _words(name),
        model_title_generator=lambda model: _words(model.__name__),
    )


class Agreement(enum.StrEnum):
    """Which agreement measure fits a question kind's answers."""

    NOMINAL = "nominal"
    ORDINAL = "ordinal"
    INTERVAL = "interval"
    RANKING = "ranking"
    NONE = "none"


class NoSettings(KindModel):
    """This kind has no settings."""


class Kind:
    """What field and question kinds share: a name, a settings model and a value type.

    A kind without settings (a thumbs-up question) leaves ``settings_model`` out: it gets an
    empty model of its own, and its GraphQL settings input is sent as ``{}``.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    settings_model: ClassVar[type[KindModel]]
    value_type: ClassVar[Any]
    ui_hints: ClassVar[dict[str, Any]] = {}
    """JSON hints for user interfaces (e.g. ``{"keyboard": "digits"}``), published as ``uiHints``."""
    widget: ClassVar[str | None] = None
    """An optional JavaScript ES module that renders the kind in a browser: a file path relative
    to the Python module defining the kind (ship it as package data). The service serves it
    at ``widgetUrl``; docs/plugins-overview.md describes what the module exports."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherited = getattr(cls, "settings_model", None)
        if "settings_model" not in vars(cls) and (inherited is None or inherited.__base__ is NoSettings):
            # One model per kind: GraphQL types are derived per model, so two settings-less
            # kinds must not share one.
            cls.settings_model = type(f"{cls.__name__}Settings", (NoSettings,), {"__doc__": NoSettings.__doc__})

    def __init__(self) -> None:
        self.value_adapter: TypeAdapter[Any] = TypeAdapter(self.value_type)

    def parse_settings(self, raw: dict[str, Any]) -> KindModel:
        """Validate raw settings (a dict) into the settings model; pydantic errors propagate."""
        return self.settings_model.model_validate(raw)

    def migrate_settings(self, stored: dict[str, Any], version: str | None) -> dict[str, Any]:
        """Settings stored by ``version`` of this kind's plugin (None: before versions were
        stored), in the shape the installed version reads. Override when a new version
        changes the settings model (e.g. gives a new required setting its old meaning)."""
        return stored

    def migrate_value(self, stored: Any, version: str | None) -> Any:
        """A value (answer or suggestion, stored form) written under ``version`` of the
        plugin, in the shape the installed version reads."""
        return stored

    def check_settings(self, settings: Any, context: DatasetContext) -> None:
        """Check parsed settings against the dataset they are part of (e.g. that a field they
        name exists and is of a usable kind). Called when the dataset is created, when the
        item is added, and when the dataset is published; raise ``ValueError`` (or
        ``Problem``, with a path inside the settings) to refuse. Default: nothing to check."""

    def settings_schema(self) -> dict[str, Any]:
        return self.settings_model.model_json_schema(by_alias=True)

    def value_schema(self) -> dict[str, Any]:
        return self.value_adapter.json_schema(by_alias=True)

    def dump_value(self, value: Any) -> Any:
        """The JSON-compatible form stored in the database and sent to clients."""
        return self.value_adapter.dump_python(value, mode="json", by_alias=True)


class FieldKind(Kind):
    """A kind of record field: what labelers see (a prompt, a chat, a response)."""

    def validate_value(self, settings: Any, value: Any) -> Any:
        """Check a value already shaped by ``value_type``; return it normalized or raise
        ``ValueError`` with a message a person can act on."""
        return value

    def searchable_text(self, value: Any) -> str:
        """The plain text of a value that the record text search looks through."""
        return ""


@dataclass(frozen=True)
class Unified:
    """One record's answers combined into one: ``value`` in the stored (JSON) form, or None
    when there is nothing to combine; ``tie`` when the documented tie rule decided."""

    value: Any
    tie: bool = False
    disagreement: bool = False


class QuestionKind(Kind):
    """A kind of question labelers answer (write a completion, rate, label, rank)."""

    agreement: ClassVar[Agreement] = Agreement.NONE
    strategies: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.agreement in list(Agreement):  # ``agreement = "nominal"`` reads as the member
            cls.agreement = Agreement(cls.agreement)

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """Combine the submitted answers of one record (stored form, oldest first) with one
        of ``strategies``. Ties must be broken by a stated rule, never at random."""
        raise NotImplementedError(f"{self.name} declares no unification")

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        """An answer coded for Krippendorff's alpha: (part, value) pairs. Answers of one
        record are compared part by part (one part for a single value; one per option for
        multi-label or ranking answers) at the kind's ``agreement`` level."""
        return ()

    def record_agreement_units(self, settings: Any, answers: Sequence[Any]) -> list[Iterable[tuple[str, Hashable]]]:
        """The submitted answers of one record (stored form, oldest first) coded together:
        one list of (part, value) pairs per answer, in the same order. Override when a code
        depends on the other answers (a span nobody else marked is coded "absent" in the
        answers without it). Default: ``agreement_units`` of each answer."""
        return [self.agreement_units(settings, answer) for answer in answers]

    def answer_schema(self, settings: Any) -> dict[str, Any]:
        """A JSON Schema of the answers to a question with these settings (e.g. an enum of
        its options). Default: ``value_schema()``, the same for every question."""
        return self.value_schema()

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        """Check an answer already shaped by ``value_type`` against the question settings.

        ``partial`` is true for drafts, which may hold incomplete answers (an unfinished
        ranking). Return the value normalized or raise ``ValueError`` (or ``Problem`` /
        ``Problems`` to point at parts of the value).
        """
        return value

    def validate_answer(self, settings: Any, value: Any, context: RecordContext) -> Any:
        """Check an answer or suggestion with the record it is for (``context.fields``).
        Override this instead of ``validate_value`` when the rules depend on the record (a
        span must lie inside the text it marks). Default: ``validate_value`` with
        ``partial=context.partial``."""
        return self.validate_value(settings, value, partial=context.partial)

"""Base classes for field and question kinds.

A plugin author writes each shape once as a pydantic model (settings) or type annotation
(answer value); the core derives validation, GraphQL types and JSON Schema from them.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, TypeAdapter
from pydantic.alias_generators import to_camel


class KindModel(BaseModel):
    """Base for settings and nested value models: camelCase on the wire, strict about extras."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class Agreement(enum.StrEnum):
    """Which agreement measure fits a question kind's answers."""

    NOMINAL = "nominal"
    ORDINAL = "ordinal"
    INTERVAL = "interval"
    RANKING = "ranking"
    NONE = "none"


class Kind:
    """What field and question kinds share: a name, a settings model and a value type."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    settings_model: ClassVar[type[KindModel]]
    value_type: ClassVar[Any]
    ui_hints: ClassVar[dict[str, Any]] = {}
    """JSON hints for user interfaces (e.g. ``{"keyboard": "digits"}``), published as ``uiHints``."""
    widget: ClassVar[str | None] = None
    """An optional JavaScript ES module that renders the kind in a browser: a file path relative
    to the Python module defining the kind (ship it as package data). The service serves it
    at ``widgetUrl``; the README describes what the module exports."""

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

    def unify(self, settings: Any, answers: Sequence[Any], strategy: str) -> Unified:
        """Combine the submitted answers of one record (stored form, oldest first) with one
        of ``strategies``. Ties must be broken by a stated rule, never at random."""
        raise NotImplementedError(f"{self.name} declares no unification")

    def agreement_units(self, settings: Any, answer: Any) -> Iterable[tuple[str, Hashable]]:
        """An answer coded for Krippendorff's alpha: (part, value) pairs. Answers of one
        record are compared part by part (one part for a single value; one per option for
        multi-label or ranking answers) at the kind's ``agreement`` level."""
        return ()

    def validate_value(self, settings: Any, value: Any, *, partial: bool = False) -> Any:
        """Check an answer already shaped by ``value_type`` against the question settings.

        ``partial`` is true for drafts, which may hold incomplete answers (an unfinished
        ranking). Return the value normalized or raise ``ValueError``.
        """
        return value

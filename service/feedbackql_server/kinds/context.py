"""What a kind sees besides a value: the record it belongs to, or the dataset its settings
are part of."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldInfo:
    """A field of the dataset: its kind's name and parsed settings."""

    name: str
    kind: str
    settings: Any
    required: bool = True


@dataclass(frozen=True)
class DatasetContext:
    """The dataset whose configuration settings are checked against: its fields by name, in
    order (only fields of installed kinds)."""

    fields: Mapping[str, FieldInfo] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordContext:
    """The record an answer or suggestion is for: its field values by name (stored form,
    e.g. the text of a text field). ``partial`` is true for drafts; ``suggestion`` for a
    suggestion rather than a person's answer."""

    fields: Mapping[str, Any] = field(default_factory=dict)
    partial: bool = False
    suggestion: bool = False

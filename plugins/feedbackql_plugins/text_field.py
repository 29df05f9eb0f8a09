"""The `text` field kind: a plain or markdown text shown to labelers."""

from __future__ import annotations

from typing import Any

from feedbackql_plugins._common import MarkdownSettings
from feedbackql_server.kinds import FieldKind, Problem, hookimpl


class TextFieldSettings(MarkdownSettings):
    """How a text field is shown."""


class TextField(FieldKind):
    name = "text"
    description = "A text (a prompt, a model response), optionally rendered as markdown."
    settings_model = TextFieldSettings
    value_type = str

    def validate_value(self, settings: Any, value: Any) -> Any:
        if not value.strip():
            raise Problem("text must not be empty", reason="empty")
        return value

    def searchable_text(self, value: Any) -> str:
        return str(value)


@hookimpl
def feedbackql_field_types() -> list[type[FieldKind]]:
    return [TextField]

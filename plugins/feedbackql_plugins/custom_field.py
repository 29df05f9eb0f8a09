"""The `custom` field kind: record data shown through an HTML template of the dataset.

The field's settings hold the template; each record gives the field an object of named values
(``{"title": "...", "score": 3}``), and the server renders ``{{ name }}`` placeholders with them.
Values are HTML-escaped when substituted, and both the template (when the dataset is
configured) and the rendered HTML are sanitized with the allow-list of ``_html``.
"""

from __future__ import annotations

import html
import re
from typing import Annotated, Any

from pydantic import Field, field_validator

from feedbackql_plugins._html import sanitize
from feedbackql_server.kinds import FieldKind, KindModel, hookimpl

MAX_TEMPLATE_CHARS = 20_000
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,99})\s*\}\}")
Scalar = str | int | float | bool | None


class CustomFieldSettings(KindModel):
    """An HTML template; `{{ name }}` is replaced by the record's value `name` (escaped)."""

    template: Annotated[str, Field(min_length=1, max_length=MAX_TEMPLATE_CHARS)]

    @field_validator("template")
    @classmethod
    def _sanitized(cls, template: str) -> str:
        cleaned = sanitize(template)
        if not PLACEHOLDER.search(cleaned):
            raise ValueError("the template shows no record value: use {{ name }} placeholders "
                             "(inside allowed HTML)")
        return cleaned


class CustomFieldValue(KindModel):
    """The record's values for the template, and the HTML the server rendered from them."""

    values: Annotated[dict[Annotated[str, Field(max_length=100)], Scalar], Field(max_length=100)]
    html: str = Field("", description="Rendered by the server; what a client sends is replaced.")


def render(template: str, values: dict[str, Scalar]) -> str:
    missing = sorted({m.group(1) for m in PLACEHOLDER.finditer(template)} - set(values))
    if missing:
        raise ValueError(f"the template needs value(s) {missing}")

    def substitute(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return "" if value is None else html.escape(str(value).lower() if isinstance(value, bool) else str(value))

    return sanitize(PLACEHOLDER.sub(substitute, template))


class CustomField(FieldKind):
    name = "custom"
    description = "Record values shown through a sanitized HTML template of the dataset."
    settings_model = CustomFieldSettings
    value_type = CustomFieldValue

    def validate_value(self, settings: Any, value: Any) -> Any:
        return value.model_copy(update={"html": render(settings.template, value.values)})

    def searchable_text(self, value: Any) -> str:
        return " ".join(str(v) for v in value.values.values() if isinstance(v, str))


@hookimpl
def feedbackql_field_types() -> list[type[FieldKind]]:
    return [CustomField]

"""The `chat` field kind: a conversation of role/content messages."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from feedbackql_plugins._common import MarkdownSettings
from feedbackql_server.kinds import FieldKind, KindModel, hookimpl


class ChatFieldSettings(MarkdownSettings):
    """How a chat field is shown."""


class ChatMessage(KindModel):
    """One turn of a conversation."""

    role: Annotated[str, Field(min_length=1, max_length=100)]
    content: str


class ChatField(FieldKind):
    name = "chat"
    description = "A conversation: a list of {role, content} messages."
    settings_model = ChatFieldSettings
    value_type = Annotated[list[ChatMessage], Field(min_length=1)]

    def searchable_text(self, value: Any) -> str:
        return "\n".join(message.content for message in value)


@hookimpl
def feedbackql_field_types() -> list[type[FieldKind]]:
    return [ChatField]

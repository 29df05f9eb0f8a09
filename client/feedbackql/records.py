"""Records to add, and records read back with their responses and suggestions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Suggestion:
    question: str
    value: Any
    score: float | None = None
    agent: str | None = None


@dataclass
class Response:
    user: str
    status: str  # "submitted" | "draft" | "discarded"
    values: dict[str, Any]


@dataclass
class Record:
    """A record to add. Re-added by ``external_id``: suggestions of questions it does not name
    are kept, and its metadata when ``metadata`` is None. ``responses`` (owners and admins)
    bring existing answers in, each by an existing user's username."""

    fields: dict[str, Any]
    metadata: dict[str, Any] | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    external_id: str | None = None
    responses: list[Response] = field(default_factory=list)
    vectors: dict[str, Any] = field(default_factory=dict)
    """Vector space name -> a sequence of numbers (``add_vector_space`` first)."""


@dataclass
class RemoteRecord:
    """A record as the server holds it."""

    id: str
    external_id: str | None
    status: str  # "pending" | "completed"
    fields: dict[str, Any]
    metadata: dict[str, Any]
    suggestions: list[Suggestion]
    responses: list[Response]

    @classmethod
    def from_server(cls, node: dict[str, Any]) -> RemoteRecord:
        return cls(
            id=node["id"], external_id=node["externalId"], status=node["status"].lower(),
            fields=node["fields"], metadata=node["metadata"] or {},
            suggestions=[Suggestion(s["question"], s["json"], s["score"], s["agent"]) for s in node["suggestions"]],
            responses=[Response(r["user"]["username"], r["status"].lower(),
                                {v["question"]: v["json"] for v in r["values"]}) for r in node["responses"]],
        )


@dataclass
class RecordError:
    index: int
    code: str
    message: str
    record: Record


@dataclass
class AddRecordsReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    responses: int = 0
    errors: list[RecordError] = field(default_factory=list)

    @property
    def refused(self) -> int:
        return len(self.errors)

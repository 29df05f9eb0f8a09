"""What the dataset's methods return, as typed objects rather than the server's dictionaries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SubmittedResponse:
    """A response as written: send ``version`` as ``expected_version`` to change it safely."""

    id: str
    status: str  # "submitted" | "draft" | "discarded"
    version: int

    @classmethod
    def from_server(cls, data: dict[str, Any]) -> SubmittedResponse:
        return cls(data["id"], data["status"].lower(), data["version"])


@dataclass(frozen=True)
class UnifiedAnswer:
    record_id: str
    external_id: str | None
    value: Any  # in the question kind's value form; None when no answer could be unified
    tie: bool
    disagreement: bool
    submitted: int

    @classmethod
    def from_server(cls, node: dict[str, Any]) -> UnifiedAnswer:
        return cls(node["recordId"], node["externalId"], node["value"], node["tie"], node["disagreement"],
                   node["submitted"])


@dataclass(frozen=True)
class Agreement:
    question: str
    level: str  # "nominal" | "ordinal" | "interval" | "ranking" | "none"
    alpha: float | None  # Krippendorff's alpha; None when undefined
    records: int  # records with at least two submitted answers
    pairs: int

    @classmethod
    def from_server(cls, data: dict[str, Any]) -> Agreement:
        return cls(data["question"], data["level"].lower(), data["alpha"], data["records"], data["pairs"])


@dataclass(frozen=True)
class Progress:
    total: int
    pending: int
    completed: int
    submitted: int  # responses
    draft: int
    discarded: int

    @classmethod
    def from_server(cls, data: dict[str, Any]) -> Progress:
        responses = data["responses"]
        return cls(data["total"], data["pending"], data["completed"], responses["submitted"], responses["draft"],
                   responses["discarded"])


@dataclass(frozen=True)
class DownloadedFile:
    """An export written to disk as it arrived (never held whole in memory)."""

    path: Path
    bytes: int

"""Turning record inputs into stored documents, checked by the field kinds."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from pydantic import ValidationError

from feedbackql_server.documents import MetadataPropertyDoc
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.plugin_failures import plugin_failed
from feedbackql_server.domain.responses import AnswerSpec
from feedbackql_server.domain.values import TypedValue, check_answer
from feedbackql_server.errors import Invalid, all_of, invalid_from_problems, invalid_from_pydantic
from feedbackql_server.kinds.context import RecordContext
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.safety import check_storable, check_text
from feedbackql_server.size_limits import (
    MAX_FIELD_VALUE_BYTES,
    MAX_METADATA_VALUE_BYTES,
    MAX_RECORD_BYTES,
    bson_bytes,
    check_size,
    json_bytes,
)
from feedbackql_server.storage.search_words import words

MAX_EXTERNAL_ID = 1000
Path = Sequence[str | int]


@dataclass(frozen=True)
class SuggestionSpec:
    question: str
    value: TypedValue
    score: float | None = None
    agent: str | None = None


@dataclass(frozen=True)
class ImportedResponseSpec:
    """An existing answer that comes in with its record (a migration, a re-imported export):
    by the user's name, written through the same path as an answer given in the service."""

    user: str
    status: str
    values: Sequence[AnswerSpec] = ()


@dataclass(frozen=True)
class RecordSpec:
    fields: Any
    external_id: str | None = None
    metadata: Any = None
    """None keeps a re-added record's metadata; an object (even empty) replaces it."""
    suggestions: Sequence[SuggestionSpec] = field(default_factory=tuple)
    """A re-add replaces the suggestions of the questions it names and keeps the others."""
    responses: Sequence[ImportedResponseSpec] = field(default_factory=tuple)
    vectors: Any = None
    """Space name -> list of numbers (``domain/vectors.py``); stored apart from the record."""


def build_record(
    registry: KindRegistry, config: DatasetConfig, dataset_id: ObjectId, spec: RecordSpec
) -> dict[str, Any]:
    """The record document for ``spec`` (without bookkeeping), or ``Invalid`` with every
    problem found in its fields and suggestions."""
    fields, search_text = _fields(registry, config, spec.fields)
    context = RecordContext(fields=fields, suggestion=True)
    suggestions, errors = [], []
    for index, suggestion in enumerate(spec.suggestions):
        try:
            suggestions.append(_suggestion(registry, config, suggestion, ["suggestions", index], context))
        except Invalid as error:
            errors.append(error)
    if errors:
        raise all_of(errors)
    doc: dict[str, Any] = {
        "dataset_id": dataset_id,
        "fields": fields,
        "metadata": _metadata(config, spec.metadata),
        "suggestions": suggestions,
        "search_tokens": words(search_text),
    }
    _check_one_suggestion_per_question(doc["suggestions"])
    doc["content_hash"] = content_hash(doc)
    if spec.external_id is not None:
        if not 1 <= len(spec.external_id) <= MAX_EXTERNAL_ID:
            raise Invalid(f"externalId is 1 to {MAX_EXTERNAL_ID} characters", ["externalId"])
        check_text(spec.external_id, ["externalId"])
        doc["external_id"] = spec.external_id
    _check_record_size(doc)
    return doc


def _check_record_size(doc: dict[str, Any]) -> None:
    """The whole record within its cap: what a bucket read carries of it (the packed fields
    and suggestions, the metadata, the external id)."""
    size = (json_bytes({"fields": doc["fields"], "suggestions": doc["suggestions"]})
            + bson_bytes(doc["metadata"]) + len(doc.get("external_id", "").encode("utf-8")))
    check_size(size, MAX_RECORD_BYTES, "the record (fields, suggestions and metadata)", [])


def content_hash(doc: Mapping[str, Any]) -> str:
    """A digest of what a record says — fields, metadata, suggestions (in question order;
    without the plugin version, which says how a value was checked, not what it is) — stored
    with the record, so that a re-add of an unchanged record is recognised from a small
    indexed read instead of a read and a comparison of its whole content."""
    suggestions = sorted(({k: s.get(k) for k in ("question", "kind", "value", "score", "agent")}
                          for s in doc["suggestions"]), key=lambda s: str(s["question"]))
    canonical = json.dumps({"fields": doc["fields"], "metadata": doc["metadata"], "suggestions": suggestions},
                           sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def storable_external_id(external_id: str | None) -> bool:
    """Whether ``external_id`` may be looked up at all (``build_record`` refuses the others with
    the reason): a lookup of a lone surrogate or a NUL would fail inside the driver."""
    if external_id is None or not 1 <= len(external_id) <= MAX_EXTERNAL_ID:
        return False
    try:
        check_text(external_id, ["externalId"])
    except Invalid:
        return False
    return True


def input_hash(spec: RecordSpec) -> str:
    """A digest of a record as it was sent (before any checks), stored with the record: a
    record sent again exactly so is known unchanged without checking it again (the checks
    are most of the cost of an add)."""
    suggestions = [[s.question, s.value.kind, s.value.value, s.score, s.agent] for s in spec.suggestions]
    sent = json.dumps({"fields": spec.fields, "metadata": spec.metadata, "suggestions": suggestions},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=repr)
    return hashlib.sha256(sent.encode()).hexdigest()


def _fields(
    registry: KindRegistry, config: DatasetConfig, raw: Any
) -> tuple[dict[str, Any], str]:
    if not isinstance(raw, dict):
        raise Invalid("fields must be an object of field name to value", ["fields"])
    for name, problem in config.field_problems.items():
        if problem.required or raw.get(name) is not None:
            raise problem.error(["fields", name])
    unknown = sorted(set(raw) - set(config.fields))
    if unknown:
        raise Invalid(f"unknown field(s) {unknown}; fields: {sorted(config.fields)}", ["fields"],
                      reason="unknown_field")
    out: dict[str, Any] = {}
    texts: list[str] = []
    errors: list[Invalid] = []
    for name, (definition, settings) in config.fields.items():
        value = raw.get(name)
        if value is None:
            if definition["required"]:
                errors.append(Invalid(f"field {name!r} is required", ["fields", name], reason="required"))
            continue
        kind = registry.field_kind(definition["kind"])
        assert kind is not None  # DatasetConfig keeps only fields of installed kinds
        try:
            parsed = kind.validate_value(settings, kind.value_adapter.validate_python(value))
            stored = kind.dump_value(parsed)
            texts.append(kind.searchable_text(parsed))
        except ValidationError as exc:
            errors.append(invalid_from_pydantic(exc, ["fields", name]))
            continue
        except ValueError as exc:
            errors.append(invalid_from_problems(exc, ["fields", name]))
            continue
        except Exception as exc:  # the plugin's own code failed: name it, never an anonymous INTERNAL
            entry = registry.fields[definition["kind"]]
            raise plugin_failed(f"on the value of field {name!r}", exc, kind=definition["kind"],
                                plugin=entry.plugin, version=entry.version, path=["fields", name]) from exc
        try:
            check_storable(stored, ["fields", name])
            check_size(json_bytes(stored), MAX_FIELD_VALUE_BYTES, f"field {name!r}", ["fields", name])
        except Invalid as error:
            errors.append(error)
            continue
        out[name] = stored
    if errors:
        raise all_of(errors)
    return out, "\n".join(texts)


def _metadata(config: DatasetConfig, raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Invalid("metadata must be an object", ["metadata"])
    check_storable(raw, ["metadata"])
    for name, value in raw.items():
        prop = config.metadata.get(name)
        if prop is None:
            if not config.allow_extra_metadata:
                raise Invalid(
                    f"metadata {name!r} is not a metadata property of the dataset "
                    "(set allowExtraMetadata to accept any)", ["metadata", name])
            continue
        if value is not None:
            _check_metadata_value(prop, value, ["metadata", name])
    for name, value in raw.items():
        check_size(bson_bytes({name: value}), MAX_METADATA_VALUE_BYTES, f"metadata {name!r}", ["metadata", name])
    return raw


def _check_metadata_value(prop: MetadataPropertyDoc, value: Any, path: Path) -> None:
    kind = prop["kind"]
    if kind == "terms":
        terms = value if isinstance(value, list) else [value]
        if not all(isinstance(t, str) for t in terms):
            raise Invalid("terms metadata is a string or a list of strings", path)
        allowed = prop.get("values")
        if allowed is not None and any(t not in allowed for t in terms):
            raise Invalid(f"value must be one of {allowed}", path)
        return
    numeric_ok = isinstance(value, int) if kind == "integer" else isinstance(value, int | float)
    if isinstance(value, bool) or not numeric_ok:
        raise Invalid(f"{kind} metadata must be a number of that kind", path)
    if prop.get("min") is not None and value < prop["min"]:
        raise Invalid(f"value is below the minimum {prop['min']}", path)
    if prop.get("max") is not None and value > prop["max"]:
        raise Invalid(f"value is above the maximum {prop['max']}", path)


def _suggestion(
    registry: KindRegistry, config: DatasetConfig, spec: SuggestionSpec, path: Path, context: RecordContext
) -> dict[str, Any]:
    value = check_answer(registry, config, spec.question, spec.value, path, context)
    if spec.score is not None and not (math.isfinite(spec.score) and 0 <= spec.score <= 1):
        raise Invalid("score is between 0 and 1", [*path, "score"])
    if spec.agent is not None:
        if len(spec.agent) > 200:
            raise Invalid("agent is at most 200 characters", [*path, "agent"])
        check_text(spec.agent, [*path, "agent"])
    return {"question": spec.question, "kind": spec.value.kind, "value": value,
            "score": spec.score, "agent": spec.agent,
            "plugin_version": registry.questions[spec.value.kind].version}


def _check_one_suggestion_per_question(suggestions: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for index, suggestion in enumerate(suggestions):
        if suggestion["question"] in seen:
            raise Invalid("one suggestion per question", ["suggestions", index, "question"])
        seen.add(suggestion["question"])

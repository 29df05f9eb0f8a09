"""Dataset configuration: fields, questions, metadata properties, checked against the rules.

Names follow Argilla's rules: lowercase letters, digits, ``_`` and ``-`` (at least one letter
or digit), at most 200 characters; titles 1-500 characters; descriptions up to 1,000.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from feedbackql_server.documents import DatasetDoc, DistributionDoc, KindItem, MetadataPropertyDoc
from feedbackql_server.domain.plugin_failures import log_read_failure
from feedbackql_server.errors import Invalid, PluginUnavailable, invalid_from_pydantic
from feedbackql_server.kinds.base import Kind
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.safety import check_storable, check_text

NAME = re.compile(r"^(?=.*[a-z0-9])[a-z0-9_-]+$")
MAX_NAME, MAX_TITLE, MAX_DESCRIPTION, MAX_GUIDELINES = 200, 500, 1000, 100_000
METADATA_KINDS = ("terms", "integer", "float")
Path = Sequence[str | int]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str
    settings: dict[str, Any]
    title: str | None = None
    required: bool = True


@dataclass(frozen=True)
class QuestionSpec:
    name: str
    kind: str
    settings: dict[str, Any]
    title: str | None = None
    description: str | None = None
    required: bool = True


@dataclass(frozen=True)
class MetadataPropertySpec:
    name: str
    kind: str
    title: str | None = None
    values: list[str] | None = None
    min: float | None = None
    max: float | None = None
    visible_for_annotators: bool = True


def check_name(name: str, path: Path) -> None:
    if len(name) > MAX_NAME:
        raise Invalid(f"names are at most {MAX_NAME} characters", path)
    if not NAME.match(name):
        raise Invalid(
            f"{name!r} is not a valid name: use lowercase letters, digits, '_' and '-'", path
        )


def check_title(title: str | None, fallback: str, path: Path) -> str:
    title = fallback if title is None else title
    if not 1 <= len(title) <= MAX_TITLE:
        raise Invalid(f"titles are 1 to {MAX_TITLE} characters", path)
    check_text(title, path)
    return title


def check_guidelines(guidelines: str | None, path: Path) -> str | None:
    if guidelines is None:
        return None
    if len(guidelines) > MAX_GUIDELINES:
        raise Invalid(f"guidelines are at most {MAX_GUIDELINES} characters", path)
    check_text(guidelines, path)
    return guidelines


def check_distribution(min_submitted: int, path: Path) -> DistributionDoc:
    if not 1 <= min_submitted <= 50:
        raise Invalid("minSubmitted is between 1 and 50", [*path, "minSubmitted"])
    return {"min_submitted": min_submitted}


def _provenance(registry: KindRegistry, category: str, kind: str) -> tuple[str, str | None]:
    """Which plugin (and version) wrote an item's settings: kept with them, so that a later
    version can migrate them and a missing plugin can be named."""
    entry = (registry.fields if category == "field" else registry.questions)[kind]
    return entry.plugin, entry.version


def parse_settings(kind: Kind, raw: dict[str, Any], path: Path, question: str | None = None) -> dict[str, Any]:
    try:
        settings = kind.parse_settings(raw)
    except ValidationError as exc:
        raise invalid_from_pydantic(exc, [*path, "settings", kind.name], question=question) from None
    stored: dict[str, Any] = settings.model_dump(mode="json", by_alias=True)
    check_storable(stored, [*path, "settings", kind.name])
    return stored


def build_field(registry: KindRegistry, spec: FieldSpec, path: Path) -> KindItem:
    check_name(spec.name, [*path, "name"])
    kind = registry.field_kind(spec.kind)
    if kind is None:
        raise Invalid(f"unknown field kind {spec.kind!r}", [*path, "settings"])
    plugin, version = _provenance(registry, "field", spec.kind)
    return {
        "name": spec.name,
        "title": check_title(spec.title, spec.name, [*path, "title"]),
        "required": spec.required,
        "kind": spec.kind,
        "settings": parse_settings(kind, spec.settings, path),
        "plugin": plugin,
        "plugin_version": version,
    }


def build_question(registry: KindRegistry, spec: QuestionSpec, path: Path) -> KindItem:
    check_name(spec.name, [*path, "name"])
    kind = registry.question_kind(spec.kind)
    if kind is None:
        raise Invalid(f"unknown question kind {spec.kind!r}", [*path, "settings"])
    description = spec.description
    if description is not None:
        if len(description) > MAX_DESCRIPTION:
            raise Invalid(f"descriptions are at most {MAX_DESCRIPTION} characters",
                          [*path, "description"])
        check_text(description, [*path, "description"])
    plugin, version = _provenance(registry, "question", spec.kind)
    return {
        "name": spec.name,
        "title": check_title(spec.title, spec.name, [*path, "title"]),
        "description": description,
        "required": spec.required,
        "kind": spec.kind,
        "settings": parse_settings(kind, spec.settings, path, question=spec.name),
        "plugin": plugin,
        "plugin_version": version,
    }


def build_metadata_property(spec: MetadataPropertySpec, path: Path) -> MetadataPropertyDoc:
    check_name(spec.name, [*path, "name"])
    if spec.kind not in METADATA_KINDS:
        raise Invalid(f"metadata kind is one of {list(METADATA_KINDS)}", [*path, "kind"])
    doc: MetadataPropertyDoc = {
        "name": spec.name,
        "title": check_title(spec.title, spec.name, [*path, "title"]),
        "kind": spec.kind,
        "visible_for_annotators": spec.visible_for_annotators,
        "values": None,
        "min": None,
        "max": None,
    }
    if spec.kind == "terms":
        if spec.values is not None:
            if not spec.values:
                raise Invalid("terms need at least one value when values are given",
                              [*path, "values"])
            for index, value in enumerate(spec.values):
                check_text(value, [*path, "values", index])
        doc["values"] = spec.values
    else:
        if spec.min is not None and spec.max is not None and spec.min > spec.max:
            raise Invalid("min must not be greater than max", [*path, "min"])
        doc["min"], doc["max"] = spec.min, spec.max
    return doc


def check_unique_names(items: Sequence[KindItem] | Sequence[MetadataPropertyDoc], what: str, path: Path) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item["name"] in seen:
            raise Invalid(f"{what} names must be unique; {item['name']!r} is repeated",
                          [*path, index, "name"])
        seen.add(item["name"])


@dataclass(frozen=True)
class KindProblem:
    """Why a field or question cannot be used now: its kind is not installed, or the
    installed version cannot read the settings an earlier version stored."""

    item: str
    kind: str
    plugin: str
    stored_version: str | None
    reason: str
    required: bool = True
    cause: BaseException | None = field(default=None, compare=False)
    """What the installed kind raised reading the settings (None: the kind is not installed)."""

    def error(self, path: Path = ()) -> PluginUnavailable:
        written = f" (written by {self.plugin} {self.stored_version})" if self.stored_version else ""
        return PluginUnavailable(f"{self.item!r} is a {self.kind} item{written}: {self.reason}",
                                 path=list(path), kind=self.kind, plugin=self.plugin,
                                 storedVersion=self.stored_version)

    def unanswerable(self, dataset: str) -> PluginUnavailable:
        """Why no record of ``dataset`` can be handed out: this required question cannot be answered."""
        return PluginUnavailable(f"the records of dataset {dataset!r} cannot be answered now: its required "
                                 f"question {self.item!r} ({self.kind}) is unavailable: {self.reason}; no "
                                 "records are handed out until it is available again",
                                 reason="required_question_unavailable", question=self.item, kind=self.kind,
                                 plugin=self.plugin, storedVersion=self.stored_version)


def read_item(kind: Kind | None, item: KindItem, installed: str | None) -> tuple[Any, KindProblem | None]:
    """An item's parsed settings (migrated from the version that stored them), or why not."""
    plugin = item.get("plugin", "an unknown plugin")
    stored, required = item.get("plugin_version"), item.get("required", True)
    if kind is None:
        return None, KindProblem(item["name"], item["kind"], plugin, stored,
                                 f"no installed plugin provides the {item['kind']!r} kind; install "
                                 f"{plugin} again to use it", required)
    try:
        return kind.parse_settings(kind.migrate_settings(item["settings"], item.get("plugin_version"))), None
    except Exception as exc:  # a plugin's own code: any failure is that plugin's
        log_read_failure(exc, kind=item["kind"], plugin=plugin, version=installed,
                         item=f"the settings of {item['name']!r}")
        reason = (f"the installed version ({installed}) cannot read its stored settings: "
                  f"{_first_line(exc)}")
        return None, KindProblem(item["name"], item["kind"], plugin, stored, reason, required, exc)


def _first_line(exc: Exception) -> str:
    """A validation message is the plugin's word to people; any other exception's text may
    hold internals, so only its type is shown (its traceback is in the server log)."""
    if not isinstance(exc, ValueError):
        return f"{type(exc).__name__} (see the server log)"
    text = str(exc).strip().splitlines()
    return " ".join(text[:3])[:500] if text else type(exc).__name__


@dataclass
class DatasetConfig:
    """The parts of a dataset document that records and responses are checked against,
    with settings parsed once per request. Items whose kind cannot be used now are left out
    of ``fields``/``questions`` and described in ``problems``."""

    fields: dict[str, tuple[KindItem, Any]] = field(default_factory=dict)
    questions: dict[str, tuple[KindItem, Any]] = field(default_factory=dict)
    problems: dict[str, KindProblem] = field(default_factory=dict)
    """Questions whose kind is unavailable, by name."""
    field_problems: dict[str, KindProblem] = field(default_factory=dict)
    metadata: dict[str, MetadataPropertyDoc] = field(default_factory=dict)
    allow_extra_metadata: bool = True
    min_submitted: int = 1

    def blocking_problem(self) -> KindProblem | None:
        """A required question no one can answer now, which makes every record unanswerable."""
        return next((problem for problem in self.problems.values() if problem.required), None)

    @classmethod
    def of(cls, dataset: DatasetDoc, registry: KindRegistry) -> DatasetConfig:
        config = cls(
            allow_extra_metadata=dataset.get("allow_extra_metadata", True),
            min_submitted=dataset["distribution"]["min_submitted"],
        )
        for item in dataset["fields"]:
            entry = registry.fields.get(item["kind"])
            settings, problem = read_item(entry.kind if entry else None, item, entry.version if entry else None)
            if problem is None:
                config.fields[item["name"]] = (item, settings)
            else:
                config.field_problems[item["name"]] = problem
        for item in dataset["questions"]:
            question_entry = registry.questions.get(item["kind"])
            settings, problem = read_item(question_entry.kind if question_entry else None, item,
                                          question_entry.version if question_entry else None)
            if problem is None:
                config.questions[item["name"]] = (item, settings)
            else:
                config.problems[item["name"]] = problem
        config.metadata = {p["name"]: p for p in dataset.get("metadata_properties", [])}
        return config

"""GraphQL types for datasets: their configuration, the installed kinds, and progress."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON

from feedbackql_server.api import resolvers
from feedbackql_server.api.context import Context, Info
from feedbackql_server.api.distribution import AnnotatorProgress, DatasetProgress
from feedbackql_server.api.enums import Agreement, DatasetStatus, MetadataPropertyKind
from feedbackql_server.api.inputs import RecordFilter, RecordSort
from feedbackql_server.api.kind_interfaces import FieldSettings, QuestionSettings, UnavailableKindSettings
from feedbackql_server.api.kind_types import KindFamily, KindTypes
from feedbackql_server.api.records import RecordConnection, records_page
from feedbackql_server.api.training import VERSION_NOTE
from feedbackql_server.api.users import Workspace
from feedbackql_server.documents import DatasetDoc, KindItem, MetadataPropertyDoc
from feedbackql_server.domain.config import DatasetConfig, KindProblem, read_item
from feedbackql_server.domain.kind_checks import answer_schema
from feedbackql_server.kinds.registry import RegisteredKind, widget_url


@strawberry.type
class Distribution:
    min_submitted: int


@strawberry.type
class MetadataProperty:
    name: str
    title: str
    kind: MetadataPropertyKind
    values: list[str] | None
    min: float | None
    max: float | None
    visible_for_annotators: bool

    @classmethod
    def of(cls, doc: MetadataPropertyDoc) -> MetadataProperty:
        return cls(name=doc["name"], title=doc["title"], kind=MetadataPropertyKind(doc["kind"]),
                   values=doc.get("values"), min=doc.get("min"), max=doc.get("max"),
                   visible_for_annotators=doc.get("visible_for_annotators", True))


SETTINGS_JSON = ("The settings as JSON, for clients that do not know the kind (widgets, the SDK): as the "
                 "installed plugin reads them (migrated from the version that stored them), or as stored "
                 "when it cannot read them (available: false).")


@strawberry.type(description="An installed field kind.")
class FieldType:
    name: str
    description: str
    plugin: str
    version: str | None = strawberry.field(description=VERSION_NOTE)
    settings_schema: JSON
    value_schema: JSON
    ui_hints: JSON = strawberry.field(description="Hints the kind gives user interfaces ({} when none).")
    widget_url: str | None = strawberry.field(
        description="Same-origin URL of the kind's own JavaScript widget module (null when it has none).")

    @classmethod
    def of(cls, entry: RegisteredKind[Any], family: str = "field") -> FieldType:
        kind = entry.kind
        return cls(name=kind.name, description=kind.description, plugin=entry.plugin,
                   version=entry.version, settings_schema=kind.settings_schema(),
                   value_schema=kind.value_schema(), ui_hints=cast(JSON, dict(kind.ui_hints)),
                   widget_url=widget_url(family, entry))


@strawberry.type(description="An installed question kind.")
class QuestionType(FieldType):
    agreement: Agreement
    strategies: list[str]

    @classmethod
    def of(cls, entry: RegisteredKind[Any], family: str = "question") -> QuestionType:
        base = FieldType.of(entry, family)
        return cls(**vars(base), agreement=entry.kind.agreement,
                   strategies=list(entry.kind.strategies))


@strawberry.type
class Field:
    name: str
    title: str
    required: bool
    kind: str
    settings: FieldSettings
    settings_json: JSON = strawberry.field(description=SETTINGS_JSON)
    available: bool = strawberry.field(description="False when the kind's plugin is not installed or "
                                                   "cannot read the stored settings.")

    @classmethod
    def of(cls, doc: KindItem, kinds: KindTypes) -> Field:
        settings, settings_json, available = _settings(kinds.field_settings, kinds.registry.fields.get(doc["kind"]),
                                                       doc)
        return cls(name=doc["name"], title=doc["title"], required=doc["required"], kind=doc["kind"],
                   settings=settings, settings_json=settings_json, available=available)


@strawberry.type
class Question:
    name: str
    title: str
    description: str | None
    required: bool
    kind: str
    settings: QuestionSettings
    settings_json: JSON = strawberry.field(description=SETTINGS_JSON)
    available: bool = strawberry.field(description="False when the kind's plugin is not installed or "
                                                   "cannot read the stored settings: it is then read-only, "
                                                   "and answers to it are kept.")
    answer_schema: JSON | None = strawberry.field(description=(
        "A JSON Schema of this question's answers (the ValueInput member of its kind), with its "
        "settings applied: e.g. an enum of its options. Null when the kind is unavailable."))

    @classmethod
    def of(cls, doc: KindItem, kinds: KindTypes) -> Question:
        entry = kinds.registry.questions.get(doc["kind"])
        settings, settings_json, available = _settings(kinds.question_settings, entry, doc)
        return cls(name=doc["name"], title=doc["title"], description=doc.get("description"),
                   required=doc["required"], kind=doc["kind"], settings=settings,
                   settings_json=settings_json, available=available,
                   answer_schema=cast(JSON, answer_schema(kinds.registry.questions.get(doc["kind"]), doc)))


@strawberry.type(description="A field or question of the dataset that cannot be used now, and why.")
class DatasetProblem:
    item: str = strawberry.field(description="The field's or question's name.")
    family: str = strawberry.field(description="`field` or `question`.")
    kind: str
    plugin: str = strawberry.field(description="The plugin that stored the item.")
    stored_version: str | None = strawberry.field(description="The plugin version that stored it.")
    reason: str
    required: bool
    blocks_labeling: bool = strawberry.field(description=(
        "True for a required question: no one can answer the records, so nextRecords hands out none "
        "(PLUGIN_UNAVAILABLE) until its kind is available again."))

    @classmethod
    def of(cls, family: str, problem: KindProblem) -> DatasetProblem:
        return cls(item=problem.item, family=family, kind=problem.kind, plugin=problem.plugin,
                   stored_version=problem.stored_version, reason=problem.reason, required=problem.required,
                   blocks_labeling=family == "question" and problem.required)


@strawberry.type
class Dataset:
    id: strawberry.ID
    name: str
    guidelines: str | None
    status: DatasetStatus
    fields: list[Field]
    questions: list[Question]
    metadata_properties: list[MetadataProperty] = strawberry.field(
        description="For annotators, without the properties hidden from them.")
    distribution: Distribution
    allow_extra_metadata: bool
    created_at: datetime
    updated_at: datetime
    workspace_id: strawberry.Private[Any]
    stored: strawberry.Private[DatasetDoc]

    @strawberry.field
    async def workspace(self, info: Info) -> Workspace:
        return Workspace.of(await info.context.session.workspace_of(self.workspace_id))

    @resolvers.field(description="The dataset's records, a page at a time (first <= 1000).")
    async def records(self, info: Info, filter: RecordFilter | None = None, sort: RecordSort | None = None,
                      first: int = 50, after: str | None = None) -> RecordConnection:
        return await records_page(info, self.id, filter, sort, first, after)

    @resolvers.field(description="Its fields and questions that cannot be used now (their plugin is not "
                                 "installed, or cannot read what is stored), and why; empty when all can.")
    def problems(self, info: Info) -> list[DatasetProblem]:
        config = DatasetConfig.of(self.stored, info.context.kinds.registry)
        return [*(DatasetProblem.of("field", p) for p in config.field_problems.values()),
                *(DatasetProblem.of("question", p) for p in config.problems.values())]

    @resolvers.field(description="The dataset's progress (read from its counters: cheap on a list of "
                                  "datasets).")
    async def progress(self, info: Info) -> DatasetProgress:
        return DatasetProgress.of(await info.context.session.dataset_progress(self.stored))

    @resolvers.field(description="Your own answers to the dataset and what is left for you.")
    async def my_progress(self, info: Info) -> AnnotatorProgress:
        return AnnotatorProgress.of(await info.context.session.own_progress(self.stored))

    @classmethod
    def seen_by(cls, doc: DatasetDoc, ctx: Context) -> Dataset:
        """The dataset as the caller may see it (hidden metadata properties left out)."""
        return cls.of(doc, ctx.kinds, ctx.session.hidden_metadata(doc))

    @classmethod
    def of(cls, doc: DatasetDoc, kinds: KindTypes, hidden: frozenset[str]) -> Dataset:
        return cls(
            id=strawberry.ID(str(doc["_id"])), name=doc["name"], guidelines=doc.get("guidelines"),
            status=DatasetStatus(doc["status"]),
            fields=[Field.of(f, kinds) for f in doc["fields"]],
            questions=[Question.of(q, kinds) for q in doc["questions"]],
            metadata_properties=[MetadataProperty.of(p) for p in doc["metadata_properties"]
                                 if p["name"] not in hidden],
            distribution=Distribution(min_submitted=doc["distribution"]["min_submitted"]),
            allow_extra_metadata=doc.get("allow_extra_metadata", True),
            created_at=doc["created_at"], updated_at=doc["updated_at"],
            workspace_id=doc["workspace_id"], stored=doc,
        )


async def datasets_in(info: Info, workspace_ref: str) -> list[Dataset]:
    """The datasets of a workspace that the caller may see."""
    return [Dataset.seen_by(doc, info.context) for doc in await info.context.session.datasets_in(workspace_ref)]


def _settings(family: KindFamily, entry: RegisteredKind[Any] | None, item: KindItem) -> tuple[Any, JSON, bool]:
    """The settings output of a field or question, read (and migrated) by its installed kind,
    their JSON in that migrated shape, and whether they could be read; when they cannot, an
    ``UnavailableKindSettings`` and the JSON as stored."""
    installed = entry.version if entry is not None else None
    parsed, problem = read_item(entry.kind if entry is not None else None, item, installed)
    if problem is not None:
        return UnavailableKindSettings(kind=item["kind"], reason=problem.reason), cast(JSON, item["settings"]), False
    migrated = parsed.model_dump(mode="json", by_alias=True)
    return family.to_output(item["kind"], migrated), cast(JSON, migrated), True

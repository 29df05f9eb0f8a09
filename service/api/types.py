"""Output types. Built per schema because they embed the plugin-dependent unions.

Plain data is carried as plain attributes (constructed from documents in one step); only
relations resolve lazily, through the request's DataLoaders.
"""

# No `from __future__ import annotations`: the class bodies below refer to local variables.

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import strawberry
from bson import ObjectId
from strawberry.scalars import JSON

from feedbackql.api.context import Context
from feedbackql.api.distribution import AnnotatorProgress, DatasetProgress
from feedbackql.api.enums import (
    AgreementLevel,
    DatasetStatus,
    MetadataPropertyKind,
    RecordStatus,
    ResponseStatus,
    Role,
)
from feedbackql.api.inputs import RecordFilter, RecordSort
from feedbackql.api.kind_types import KindFamily, KindTypes, UnavailableKindSettings
from feedbackql.api.records import PageInfo, records_page
from feedbackql.domain import progress
from feedbackql.domain.config import read_item
from feedbackql.errors import NotFound
from feedbackql.kinds.registry import RegisteredKind
from feedbackql.policy import Caller
from feedbackql.policy import datasets as policy_datasets
from feedbackql.policy import records as policy_records
from feedbackql.policy import responses as policy_responses
from feedbackql.webui import widget_url

Doc = dict[str, Any]
Info = strawberry.Info[Context, None]


@strawberry.type(description="A record that could not be added, by its index in the batch.")
class RecordError:
    index: int
    code: str
    message: str


@strawberry.type
class AddRecordsPayload:
    created: int
    updated: int
    errors: list[RecordError]


@strawberry.type
class DeleteRecordsPayload:
    deleted: int
    ids: list[strawberry.ID]


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
    def of(cls, doc: Doc) -> "MetadataProperty":
        return cls(name=doc["name"], title=doc["title"], kind=MetadataPropertyKind(doc["kind"]),
                   values=doc.get("values"), min=doc.get("min"), max=doc.get("max"),
                   visible_for_annotators=doc.get("visible_for_annotators", True))


@strawberry.type(description="An installed field kind.")
class FieldType:
    name: str
    description: str
    plugin: str
    version: str
    settings_schema: JSON
    value_schema: JSON
    ui_hints: JSON = strawberry.field(description="Hints the kind gives user interfaces ({} when none).")
    widget_url: str | None = strawberry.field(
        description="Same-origin URL of the kind's own JavaScript widget module (null when it has none).")

    @classmethod
    def of(cls, entry: RegisteredKind[Any], family: str = "field") -> "FieldType":
        kind = entry.kind
        return cls(name=kind.name, description=kind.description, plugin=entry.plugin,
                   version=entry.version, settings_schema=kind.settings_schema(),
                   value_schema=kind.value_schema(), ui_hints=cast(JSON, dict(kind.ui_hints)),
                   widget_url=widget_url(family, entry))


@strawberry.type(description="An installed question kind.")
class QuestionType(FieldType):
    agreement: AgreementLevel
    strategies: list[str]

    @classmethod
    def of(cls, entry: RegisteredKind[Any], family: str = "question") -> "QuestionType":
        base = FieldType.of(entry, family)
        return cls(**vars(base), agreement=AgreementLevel(entry.kind.agreement.value),
                   strategies=list(entry.kind.strategies))


@dataclass(frozen=True)
class OutputTypes:
    """The per-schema types, with constructors from documents."""

    User: type
    Workspace: type
    Dataset: type
    Record: type
    Response: type
    RecordEdge: type
    RecordConnection: type
    UserWithApiKey: type
    kinds: KindTypes

    def user(self, doc: Doc) -> Any:
        return self.User(id=strawberry.ID(str(doc["_id"])), username=doc["username"],
                         role=Role(doc["role"]), workspace_ids=doc.get("workspace_ids", []))

    def workspace(self, doc: Doc) -> Any:
        return self.Workspace(id=strawberry.ID(str(doc["_id"])), name=doc["name"])

    def dataset(self, doc: Doc, caller: Caller) -> Any:
        """The dataset as ``caller`` may see it (hidden metadata properties left out)."""
        return self.Dataset.of(doc, self.kinds, policy_datasets.hidden_metadata(caller, doc))  # type: ignore[attr-defined]

    def record(self, doc: Doc, hidden_metadata: frozenset[str]) -> Any:
        return self.Record.of(doc, self.kinds, hidden_metadata)  # type: ignore[attr-defined]

    def response(self, doc: Doc) -> Any:
        return self.Response.of(doc, self.kinds)  # type: ignore[attr-defined]


def build_output_types(kinds: KindTypes) -> OutputTypes:
    field_settings = kinds.field_settings.output
    question_settings = kinds.question_settings.output
    value_union = kinds.values.output

    class Workspace:
        id: strawberry.ID
        name: str

    @strawberry.type
    class Field:
        name: str
        title: str
        required: bool
        kind: str
        settings: field_settings  # type: ignore[valid-type]
        settings_json: JSON = strawberry.field(description="The settings as stored: for clients "
                                                           "that do not know the kind.")
        available: bool = strawberry.field(description="False when the kind's plugin is not "
                                                       "installed or cannot read the stored settings.")

    @strawberry.type
    class Question:
        name: str
        title: str
        description: str | None
        required: bool
        kind: str
        settings: question_settings  # type: ignore[valid-type]
        settings_json: JSON = strawberry.field(description="The settings as stored: for clients "
                                                           "that do not know the kind.")
        available: bool = strawberry.field(description="False when the kind's plugin is not installed "
                                                       "or cannot read the stored settings: it is then "
                                                       "read-only, and answers to it are kept.")

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
        stored: strawberry.Private[Doc]

        @strawberry.field
        async def workspace(self, info: Info) -> Workspace:  # type: ignore[valid-type]
            doc = await info.context.loaders.workspaces.load(self.workspace_id)
            return types.workspace(_present(doc, "workspace"))

        @strawberry.field(description="The dataset's progress (read from its counters: cheap on a "
                                      "list of datasets).")
        async def progress(self, info: Info) -> DatasetProgress:
            return DatasetProgress.of(await progress.dataset_progress(info.context.storage, self.stored))

        @strawberry.field(description="Your own answers to the dataset and what is left for you.")
        async def my_progress(self, info: Info) -> AnnotatorProgress:
            figures = await progress.own_progress(info.context.storage, info.context.caller, self.stored)
            figures.username = info.context.user["username"]
            return AnnotatorProgress.of(figures)

        @classmethod
        def of(cls, doc: Doc, kinds: KindTypes, hidden: frozenset[str]) -> "Dataset":
            return cls(  # type: ignore[call-arg]  # mypy cannot see the deferred strawberry.type
                id=strawberry.ID(str(doc["_id"])), name=doc["name"],
                guidelines=doc.get("guidelines"), status=DatasetStatus(doc["status"]),
                fields=[Field(name=f["name"], title=f["title"], required=f["required"],
                              kind=f["kind"], settings_json=f["settings"], **_settings(
                                  kinds.field_settings, kinds.registry.fields.get(f["kind"]), f))
                        for f in doc["fields"]],
                questions=[Question(name=q["name"], title=q["title"],
                                    description=q.get("description"), required=q["required"],
                                    kind=q["kind"], settings_json=q["settings"], **_settings(
                                        kinds.question_settings, kinds.registry.questions.get(q["kind"]), q))
                           for q in doc["questions"]],
                metadata_properties=[MetadataProperty.of(p) for p in doc["metadata_properties"]
                                     if p["name"] not in hidden],
                distribution=Distribution(min_submitted=doc["distribution"]["min_submitted"]),
                allow_extra_metadata=doc.get("allow_extra_metadata", True),
                created_at=doc["created_at"], updated_at=doc["updated_at"],
                workspace_id=doc["workspace_id"], stored=doc,
            )

    async def workspace_datasets(root: Any, info: Info) -> list[Any]:
        docs = await info.context.storage.datasets.in_workspaces([_oid(root.id)])
        caller = info.context.caller
        return [types.dataset(doc, caller) for doc in docs if policy_datasets.visible(caller, doc)]

    Workspace.datasets = strawberry.field(  # type: ignore[attr-defined]
        resolver=workspace_datasets, graphql_type=list[Dataset]
    )
    Workspace = strawberry.type(Workspace)  # type: ignore[misc]

    @strawberry.type
    class User:
        id: strawberry.ID
        username: str
        role: Role
        workspace_ids: strawberry.Private[list[Any]]

        @strawberry.field(description="Workspaces of this user that you can see.")
        async def workspaces(self, info: Info) -> list[Workspace]:  # type: ignore[valid-type]
            caller = info.context.caller
            ids = [w for w in self.workspace_ids if caller.member_of(w)]
            docs = await info.context.loaders.workspaces.load_many(ids)
            return [types.workspace(doc) for doc in docs if doc is not None]

    @strawberry.type
    class Suggestion:
        question: str
        value: value_union  # type: ignore[valid-type]
        json: JSON = strawberry.field(description="The value as stored: for clients that do not "
                                                  "know the kind.")
        score: float | None
        agent: str | None

    @strawberry.type
    class ResponseValue:
        question: str
        value: value_union  # type: ignore[valid-type]
        json: JSON = strawberry.field(description="The value as stored: for clients that do not "
                                                  "know the kind.")

    @strawberry.type
    class Response:
        id: strawberry.ID
        status: ResponseStatus
        values: list[ResponseValue]
        version: int
        created_at: datetime
        updated_at: datetime
        user_id: strawberry.Private[Any]

        @strawberry.field
        async def user(self, info: Info) -> User:
            return types.user(_present(await info.context.loaders.users.load(self.user_id), "user"))

        @classmethod
        def of(cls, doc: Doc, kinds: KindTypes) -> "Response":
            return cls(
                id=strawberry.ID(str(doc["_id"])), status=ResponseStatus(doc["status"]),
                values=[ResponseValue(question=q, value=kinds.values.stored_to_output(v), json=v["value"])
                        for q, v in doc["values"].items()],
                version=doc["version"], created_at=doc["created_at"],
                updated_at=doc["updated_at"], user_id=doc["user_id"],
            )

    @strawberry.type
    class Record:
        id: strawberry.ID
        external_id: str | None
        fields: JSON
        metadata: JSON
        status: RecordStatus
        suggestions: list[Suggestion]
        created_at: datetime
        updated_at: datetime
        dataset_id: strawberry.Private[Any]
        leases: strawberry.Private[list[Doc]]

        @strawberry.field(description="When your lease on this record (from nextRecords) ends.")
        def my_lease_expires_at(self, info: Info) -> datetime | None:
            user_key = str(info.context.caller.id)
            return next((lease["until"] for lease in self.leases
                         if lease["user"] == user_key and lease["until"] > datetime.now(UTC)), None)

        @strawberry.field(description="All responses for owners and admins; annotators see their own.")
        async def responses(self, info: Info) -> list[Response]:
            docs = await info.context.loaders.responses.load(_oid(self.id))
            return [Response.of(doc, kinds) for doc in policy_responses.visible(info.context.caller, docs)]

        @strawberry.field
        async def dataset(self, info: Info) -> Dataset:
            doc = await info.context.loaders.datasets.load(self.dataset_id)
            return types.dataset(_present(doc, "dataset"), info.context.caller)

        @classmethod
        def of(cls, doc: Doc, kinds: KindTypes, hidden_metadata: frozenset[str]) -> "Record":
            metadata = policy_records.visible_metadata(doc.get("metadata") or {}, hidden_metadata)
            return cls(
                id=strawberry.ID(str(doc["_id"])), external_id=doc.get("external_id"),
                fields=doc["fields"], metadata=cast(JSON, metadata),
                status=RecordStatus(doc["status"]),
                suggestions=[Suggestion(question=s["question"], json=s["value"],
                                        value=kinds.values.stored_to_output(s),
                                        score=s.get("score"), agent=s.get("agent"))
                             for s in doc.get("suggestions", [])],
                created_at=doc["created_at"], updated_at=doc["updated_at"],
                dataset_id=doc["dataset_id"], leases=doc.get("leases", []),
            )

    @strawberry.type
    class RecordEdge:
        cursor: str
        node: Record

    @strawberry.type
    class RecordConnection:
        edges: list[RecordEdge]
        page_info: PageInfo
        count: strawberry.Private[Any]

        @strawberry.field(description="Records matching the filter, over all pages.")
        async def total_count(self) -> int:
            result: int = await self.count()
            return result

    async def dataset_records(
        root: Any, info: Info, filter: RecordFilter | None = None,
        sort: RecordSort | None = None, first: int = 50, after: str | None = None,
    ) -> Any:
        return await records_page(info.context, types, root.id, filter, sort, first, after)

    Dataset.records = strawberry.field(  # type: ignore[attr-defined]
        resolver=dataset_records, graphql_type=RecordConnection,
        description="The dataset's records, a page at a time (first <= 1000).",
    )
    Dataset = strawberry.type(Dataset)  # type: ignore[misc]

    @strawberry.type(description="A user with a new API key, shown only this once.")
    class UserWithApiKey:
        user: User
        api_key: str = strawberry.field(description="Shown once; only its hash is stored.")

    types = OutputTypes(
        User=User, Workspace=Workspace, Dataset=Dataset, Record=Record, Response=Response,
        RecordEdge=RecordEdge, RecordConnection=RecordConnection,
        UserWithApiKey=UserWithApiKey, kinds=kinds,
    )
    return types


def _settings(family: KindFamily, entry: RegisteredKind[Any] | None, item: Doc) -> dict[str, Any]:
    """The settings output of a field or question, read (and migrated) by its installed kind;
    an ``UnavailableKindSettings`` when it cannot be."""
    installed = entry.version if entry is not None else None
    parsed, problem = read_item(entry.kind if entry is not None else None, item, installed)
    if problem is not None:
        return {"settings": UnavailableKindSettings(kind=item["kind"], reason=problem.reason), "available": False}
    settings = parsed.model_dump(mode="json", by_alias=True)
    return {"settings": family.to_output(item["kind"], settings), "available": True}


def _present(doc: Doc | None, what: str) -> Doc:
    """A related document; it may vanish between two reads when its parent is deleted."""
    if doc is None:
        raise NotFound(f"the {what} was deleted")
    return doc


def _oid(value: Any) -> ObjectId:
    return ObjectId(str(value))

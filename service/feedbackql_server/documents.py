"""The stored documents, one ``TypedDict`` per collection: the keys every layer may read.

Storage returns these; the domain and the API read them by these names, so a renamed or
misspelt key is a type error, not a ``KeyError`` in production. Keys marked ``NotRequired`` are
absent from documents written by older versions or set only later in a document's life. They
live outside ``storage/`` so the layers above the domain name them without reaching storage
(``tests/test_structure.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, NotRequired, TypedDict

from bson import ObjectId

ResponseStatus = Literal["submitted", "draft", "discarded"]
RESPONSE_STATUSES: tuple[ResponseStatus, ...] = ("submitted", "draft", "discarded")
"""Every status a stored response can have, in the order counters list them."""


class UserDoc(TypedDict):
    _id: NotRequired[ObjectId]
    username: str
    role: str
    api_key_hash: str
    workspace_ids: list[ObjectId]
    created_at: datetime
    deleted: NotRequired[bool]


class WorkspaceDoc(TypedDict):
    _id: NotRequired[ObjectId]
    name: str
    created_at: datetime
    closing: NotRequired[bool]


class KindItem(TypedDict):
    """A field or question of a dataset, with the plugin that wrote its settings."""

    name: str
    title: str
    kind: str
    required: bool
    settings: dict[str, Any]
    description: NotRequired[str | None]
    plugin: NotRequired[str]
    plugin_version: NotRequired[str | None]


class MetadataPropertyDoc(TypedDict):
    name: str
    title: str
    kind: str
    values: NotRequired[list[str] | None]
    min: NotRequired[float | None]
    max: NotRequired[float | None]
    visible_for_annotators: NotRequired[bool]


class DistributionDoc(TypedDict):
    min_submitted: int


class VectorSpaceDoc(TypedDict):
    """A named vector space of a dataset (``domain/vectors.py``); ``key`` names its stored
    vectors, so a space removed and added again under its name starts empty."""

    name: str
    dimension: int
    metric: str
    key: str


class DatasetDoc(TypedDict):
    _id: NotRequired[ObjectId]
    workspace_id: ObjectId
    name: str
    guidelines: str | None
    status: str
    fields: list[KindItem]
    questions: list[KindItem]
    metadata_properties: list[MetadataPropertyDoc]
    distribution: DistributionDoc
    allow_extra_metadata: NotRequired[bool]
    created_at: datetime
    updated_at: datetime
    revision: NotRequired[int]
    next_seq: NotRequired[int]
    tally: NotRequired[dict[str, Any]]
    deleting: NotRequired[bool]
    """Set while the dataset is being deleted: its records and responses take no more writes."""
    vector_spaces: NotRequired[list[VectorSpaceDoc]]
    vector_revision: NotRequired[int]


class StoredValue(TypedDict):
    """An answer or suggestion value as stored: with its kind and the plugin that wrote it."""

    kind: str
    value: Any
    plugin: NotRequired[str]
    plugin_version: NotRequired[str | None]


class SuggestionDoc(StoredValue):
    question: str
    score: NotRequired[float | None]
    agent: NotRequired[str | None]


class Lease(TypedDict):
    user: str
    until: datetime


class RecordDoc(TypedDict, total=False):
    """A record; reads that project a few keys (the work state) give a part of it."""

    _id: ObjectId
    dataset_id: ObjectId
    external_id: str | None
    ext_key: str
    fields: dict[str, Any]
    metadata: dict[str, Any] | None
    suggestions: list[SuggestionDoc]
    search_tokens: list[str]
    search_text: str
    """Before layout 5: the lower-cased text that searches scanned (now ``search_tokens``)."""
    content_hash: str
    """``records.content_hash`` of fields, metadata and suggestions (absent before it existed)."""
    input_hash: str
    """``records.input_hash`` of the record as last sent."""
    status: str
    seq: int
    bucket: str
    submitted_by: list[str]
    draft_by: list[str]
    discarded_by: list[str]
    response_versions: dict[str, int]
    submitted_count: int
    leases: list[Lease]
    skips: list[Lease]
    """Labelers who skipped the record, until when: the queue offers it to them last till then."""
    saturated_until: datetime
    state_version: int
    counted_min: int
    """The ``minSubmitted`` the record's status (and its part of the counters) was derived
    with: the counters move from what it counted then (``domain/tally.py``)."""
    created_at: datetime
    updated_at: datetime
    read_error: str
    """Set on read, never stored: why the record's content could not be read (``content.unpack``)."""


class ResponseDoc(TypedDict):
    _id: NotRequired[ObjectId]
    record_id: ObjectId
    dataset_id: ObjectId
    bucket: NotRequired[str]
    user_id: ObjectId
    status: str
    values: dict[str, StoredValue]
    version: int
    created_at: datetime
    updated_at: datetime


def answered_by(record: RecordDoc, status: ResponseStatus) -> list[str]:
    """The users (id strings) with a response of ``status`` to the record."""
    if status == "submitted":
        return record.get("submitted_by", [])
    if status == "draft":
        return record.get("draft_by", [])
    return record.get("discarded_by", [])

"""``FeedbackDataset``: configure a dataset in Python, push it, pull it back, add records,
read them and get training rows. Bound to a ``Client`` the methods block; bound to an
``AsyncClient`` they return awaitables (and ``records`` an async iterator)."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from tqdm import tqdm

from feedbackql import operations as ops
from feedbackql.batches import batches, json_size
from feedbackql.client import AsyncClient, Client
from feedbackql.config import (
    Field,
    MetadataProperty,
    Question,
    field_from_server,
    metadata_from_server,
    question_from_server,
)
from feedbackql.errors import NotFoundError, ValidationError
from feedbackql.records import AddRecordsReport, Record, RecordError, RemoteRecord, Response

T = TypeVar("T")
AnyClient = Client | AsyncClient


def _asynchronous(client: AnyClient) -> AsyncClient:
    return client.aio if isinstance(client, Client) else client


def _complete(client: AnyClient, coroutine: Coroutine[Any, Any, T]) -> Any:
    """The result now (``Client``) or the awaitable (``AsyncClient``)."""
    return client.run(coroutine) if isinstance(client, Client) else coroutine


class FeedbackDataset:
    def __init__(self, *, fields: Sequence[Field], questions: Sequence[Question], guidelines: str | None = None,
                 metadata_properties: Sequence[MetadataProperty] = (), min_submitted: int = 1,
                 allow_extra_metadata: bool = True) -> None:
        for what, items in (("field", fields), ("question", questions), ("metadata property", metadata_properties)):
            names = [item.name for item in items]
            if len(set(names)) != len(names):
                raise ValidationError(f"{what} names must be unique: {names}", [f"{what}s"])
        if not fields:
            raise ValidationError("a dataset needs at least one field", ["fields"])
        if not 1 <= min_submitted <= 50:
            raise ValidationError("min_submitted is between 1 and 50", ["min_submitted"])
        self.fields = list(fields)
        self.questions = list(questions)
        self.guidelines = guidelines
        self.metadata_properties = list(metadata_properties)
        self.min_submitted = min_submitted
        self.allow_extra_metadata = allow_extra_metadata
        self.id: str | None = None
        self.name: str | None = None
        self.workspace: str | None = None
        self._client: AnyClient | None = None

    def __repr__(self) -> str:
        return (f"FeedbackDataset(name={self.name!r}, fields={[f.name for f in self.fields]}, "
                f"questions={[q.name for q in self.questions]})")

    # Creating and finding -------------------------------------------------------------

    def push(self, client: AnyClient, *, name: str, workspace: str) -> Any:
        """Create (and publish) the dataset in ``workspace``, which is created if missing."""
        return _complete(client, self._push(client, name, workspace))

    async def _push(self, client: AnyClient, name: str, workspace: str) -> FeedbackDataset:
        aio = _asynchronous(client)
        try:
            target = await aio.workspace(workspace)
        except NotFoundError:
            target = await aio.create_workspace(workspace)
        created = (await aio.execute(ops.CREATE_DATASET, {"input": {
            "workspaceId": target.id, "name": name, "guidelines": self.guidelines,
            "fields": [f.to_input() for f in self.fields],
            "questions": [q.to_input() for q in self.questions],
            "metadataProperties": [p.to_input() for p in self.metadata_properties],
            "distribution": {"minSubmitted": self.min_submitted},
            "allowExtraMetadata": self.allow_extra_metadata,
        }}))["createDataset"]
        await aio.execute(ops.PUBLISH, {"id": created["id"]})
        self._bind(created, client)
        return self

    @classmethod
    def pull(cls, client: AnyClient, *, name: str, workspace: str) -> Any:
        """The dataset ``name`` of ``workspace``, with its configuration objects in order."""
        return _complete(client, cls._pull(client, name, workspace))

    @classmethod
    async def _pull(cls, client: AnyClient, name: str, workspace: str) -> FeedbackDataset:
        aio = _asynchronous(client)
        target = await aio.workspace(workspace)
        for data in (await aio.execute(ops.DATASETS, {"ws": target.id}))["datasets"]:
            if data["name"] == name:
                dataset = cls(fields=[field_from_server(f) for f in data["fields"]],
                              questions=[question_from_server(q) for q in data["questions"]],
                              guidelines=data["guidelines"],
                              metadata_properties=[metadata_from_server(p) for p in data["metadataProperties"]],
                              min_submitted=data["distribution"]["minSubmitted"],
                              allow_extra_metadata=data["allowExtraMetadata"])
                dataset._bind(data, client)
                return dataset
        raise NotFoundError(f"no dataset {name!r} in workspace {workspace!r}")

    def _bind(self, data: dict[str, Any], client: AnyClient) -> None:
        self.id, self.name, self.workspace = data["id"], data["name"], data["workspace"]["name"]
        self._client = client

    def _bound(self) -> tuple[AnyClient, str]:
        if self._client is None or self.id is None:
            raise ValidationError("push or pull the dataset first")
        return self._client, self.id

    # Records ---------------------------------------------------------------------------

    def record_input(self, record: Record) -> dict[str, Any]:
        """A record as the server's ``RecordInput``; suggestions are typed by their question."""
        questions = {q.name: q for q in self.questions}
        suggestions = []
        for index, suggestion in enumerate(record.suggestions):
            question = questions.get(suggestion.question)
            if question is None:
                raise ValidationError(f"no question {suggestion.question!r} in this dataset",
                                      ["suggestions", index, "question"])
            suggestions.append({"question": suggestion.question, "value": question.value_input(suggestion.value),
                                "score": suggestion.score, "agent": suggestion.agent})
        data: dict[str, Any] = {"fields": record.fields, "suggestions": suggestions}
        if record.responses:
            data["responses"] = [self._response_input(response, questions, ["responses", index])
                                 for index, response in enumerate(record.responses)]
        if record.metadata is not None:
            data["metadata"] = record.metadata
        if record.external_id is not None:
            data["externalId"] = record.external_id
        return data

    @staticmethod
    def _response_input(response: Response, questions: dict[str, Any], path: list[str | int]) -> dict[str, Any]:
        values = []
        for question_name, value in response.values.items():
            question = questions.get(question_name)
            if question is None:
                raise ValidationError(f"no question {question_name!r} in this dataset", [*path, "values"])
            values.append({"question": question_name, "value": question.value_input(value)})
        return {"user": response.user, "status": response.status.upper(), "values": values}

    def add_records(self, records: Iterable[Record], *, batch_size: int = 500, show_progress: bool = True,
                    raise_on_error: bool = False, on_conflict: str = "refuse") -> Any:
        """Add or update (by external id) records in batches (of ``batch_size`` records, fewer
        when they are large: ``batches``); an ``AddRecordsReport``.
        ``on_conflict`` says what a re-add that changes the fields of an answered record does:
        ``refuse`` (reported in the errors), ``keep_responses`` or ``discard_responses``."""
        client, _ = self._bound()
        return _complete(client, self._add_records(list(records), batch_size, show_progress, raise_on_error,
                                                   on_conflict.upper()))

    async def _add_records(self, records: list[Record], batch_size: int, show_progress: bool,
                           raise_on_error: bool, on_conflict: str) -> AddRecordsReport:
        client, dataset_id = self._bound()
        inputs = [self.record_input(record) for record in records]
        report = AddRecordsReport()
        start = 0
        with tqdm(total=len(records), unit="records", disable=not show_progress) as progress:
            for batch in batches(inputs, batch_size, json_size):
                result = (await _asynchronous(client).execute(ops.ADD_RECORDS, {
                    "id": dataset_id, "records": batch, "onConflict": on_conflict,
                }))["addRecords"]
                report.created += result["created"]
                report.updated += result["updated"]
                report.unchanged += result["unchanged"]
                report.responses += result["responses"]
                report.errors += [RecordError(start + e["index"], e["code"], e["message"], records[start + e["index"]])
                                  for e in result["errors"]]
                progress.update(len(batch))
                start += len(batch)
                if raise_on_error and report.errors:
                    first = report.errors[0]
                    raise ValidationError(f"record {first.index}: {first.message}", ["records", first.index])
        return report

    def records(self, *, status: str | None = None, response_status: Sequence[str] | None = None,
                metadata: dict[str, Any] | None = None, page_size: int = 200) -> Any:
        """Records read lazily, a page at a time: an iterator (``Client``) or an async iterator
        (``AsyncClient``). ``metadata`` maps a property to a value, a list of values, or a
        (low, high) tuple."""
        client, _ = self._bound()
        pages = self._pages(_record_filter(status, response_status, metadata), page_size)
        return _blocking(client, pages) if isinstance(client, Client) else _flatten(pages)

    async def _pages(self, filter_: dict[str, Any], page_size: int) -> AsyncIterator[list[RemoteRecord]]:
        client, dataset_id = self._bound()
        after: str | None = None
        while True:
            page = (await _asynchronous(client).execute(ops.RECORDS, {
                "id": dataset_id, "filter": filter_, "first": page_size, "after": after}))["records"]
            yield [RemoteRecord.from_server(edge["node"]) for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    def submit(self, record_id: str, values: dict[str, Any], *, status: str = "submitted") -> Any:
        """Answer a record as the client's user: ``values`` maps question names to answers."""
        client, _ = self._bound()
        questions = {q.name: q for q in self.questions}
        unknown = [name for name in values if name not in questions]
        if unknown:
            raise ValidationError(f"no question(s) {unknown} in this dataset", ["values"])
        answer = {"recordId": record_id, "status": status.upper(),
                  "values": [{"question": name, "value": questions[name].value_input(value)}
                             for name, value in values.items()]}
        return _complete(client, _asynchronous(client).execute(ops.SUBMIT, {"input": answer}))

    # Training data --------------------------------------------------------------------

    def export(self, task: str, **options: Any) -> Any:
        """Training rows from the server's export (``sft``, ``reward_modeling``, ``dpo``,
        ``rating_selection``, ``token_classification`` or a task a plugin adds), e.g.
        ``export("dpo", question="preference", best_vs_worst=True)``. Filters (default: every
        record): ``completed_only=True``, ``min_submitted=2``, ``min_agreement=0.5``,
        ``metadata={"source": "web", "length": (10, 100)}``."""
        client, _ = self._bound()
        return _complete(client, self._export(task, options))

    async def _export(self, task: str, options: dict[str, Any]) -> list[dict[str, Any]]:
        client, dataset_id = self._bound()
        if isinstance(options.get("metadata"), dict):  # the shorthand of ``records(metadata=...)``
            options = {**options, "metadata": _record_filter(None, None, options["metadata"])["metadata"] or []}
        params = {key: str(value).lower() if isinstance(value, bool)
                  else json.dumps(value) if isinstance(value, list | dict) else value
                  for key, value in options.items()}
        body = b"".join([chunk async for chunk in _asynchronous(client).transport.stream(
            f"/datasets/{dataset_id}/training/{task}", {"format": "jsonl", **params})])
        return [json.loads(line) for line in body.splitlines() if line]


def to_datasets(rows: list[dict[str, Any]]) -> Any:
    """Rows as a Hugging Face ``datasets.Dataset`` (needs ``pip install 'feedbackql[datasets]'``),
    e.g. to ``save_to_disk``. Nothing is fetched from the Hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import datasets
    except ImportError:
        raise ImportError("to_datasets needs the datasets package: pip install 'feedbackql[datasets]'") from None
    return datasets.Dataset.from_list(rows)


def _record_filter(status: str | None, response_status: Sequence[str] | None,
                   metadata: dict[str, Any] | None) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = []
    for name, wanted in (metadata or {}).items():
        if isinstance(wanted, tuple):
            conditions.append({"name": name, "ge": wanted[0], "le": wanted[1]})
        else:
            conditions.append({"name": name, "values": wanted if isinstance(wanted, list) else [wanted]})
    data: dict[str, Any] = {"metadata": conditions or None}
    if status is not None:
        data["status"] = status.upper()
    if response_status is not None:
        data["responseStatus"] = [s.upper() for s in response_status]
    return data


def _blocking(client: Client, pages: AsyncIterator[list[RemoteRecord]]) -> Iterator[RemoteRecord]:
    async def next_page() -> list[RemoteRecord] | None:
        return await anext(pages, None)

    while (page := client.run(next_page())) is not None:
        yield from page


async def _flatten(pages: AsyncIterator[list[RemoteRecord]]) -> AsyncIterator[RemoteRecord]:
    async for page in pages:
        for record in page:
            yield record

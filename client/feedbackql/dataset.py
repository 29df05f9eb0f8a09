"""``FeedbackDataset``: configure a dataset in Python, push it, pull it back, add records,
read them and get training rows. Bound to a ``Client`` the methods block; bound to an
``AsyncClient`` they return awaitables (and ``records`` an async iterator)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from typing import Any, overload

from tqdm import tqdm

from feedbackql import operations as ops
from feedbackql import vectors
from feedbackql.batches import batches, json_size
from feedbackql.binding import AnyClient, C, Later, asynchronous, complete
from feedbackql.client import AsyncClient, Client
from feedbackql.config import (
    Field,
    MetadataProperty,
    Question,
    field_from_server,
    metadata_from_server,
    question_from_server,
)
from feedbackql.errors import FeedbackQLError, NotFoundError, ValidationError
from feedbackql.inputs import answer_value, record_input
from feedbackql.labeling import DatasetWork, export_params, metadata_conditions
from feedbackql.records import AddRecordsReport, Record, RecordError, RemoteRecord
from feedbackql.results import SubmittedResponse


class FeedbackDataset(DatasetWork[C]):
    """A dataset's configuration, and once pushed or pulled, the dataset on the service.

    Its type parameter is the client it is bound to: ``fb.FeedbackDataset(...)`` is typed for
    ``fb.Client`` (each method returns its result); write ``fb.FeedbackDataset[fb.AsyncClient](...)``
    for one pushed with an ``AsyncClient`` (each method returns an awaitable). ``pull`` returns
    the right one for the client it is given."""

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

    @overload
    def push(self: FeedbackDataset[Client], client: Client, *, name: str, workspace: str) -> FeedbackDataset[Client]:
        ...
    @overload
    def push(self: FeedbackDataset[AsyncClient], client: AsyncClient, *, name: str,
             workspace: str) -> Later[FeedbackDataset[AsyncClient]]: ...

    def push(self, client: AnyClient, *, name: str, workspace: str
             ) -> FeedbackDataset[Any] | Later[FeedbackDataset[Any]]:
        """Create (and publish) the dataset in ``workspace``, which is created if missing.
        When a step fails, what this push created is deleted again: a failed push leaves
        nothing behind, and the fixed dataset can be pushed under the same name."""
        return complete(client, self._push(client, name, workspace))

    async def _push(self, client: AnyClient, name: str, workspace: str) -> FeedbackDataset[C]:
        aio = asynchronous(client)
        created: list[tuple[str, str]] = []  # (delete operation, id), undone last first on failure
        try:
            try:
                target = await aio.workspace(workspace)
            except NotFoundError:
                target = await aio.create_workspace(workspace)
                created.append((ops.DELETE_WORKSPACE, target.id))
            data = (await aio.execute(ops.CREATE_DATASET, {"input": self._create_input(target.id, name)}))[
                "createDataset"]
            created.append((ops.DELETE_DATASET, data["id"]))
            await aio.execute(ops.PUBLISH, {"id": data["id"]})
        except Exception as exc:
            await _undo(aio, created, exc)
            raise
        self._bind(data, client)
        return self

    def _create_input(self, workspace_id: str, name: str) -> dict[str, Any]:
        return {"workspaceId": workspace_id, "name": name, "guidelines": self.guidelines,
                "fields": [f.to_input() for f in self.fields],
                "questions": [q.to_input() for q in self.questions],
                "metadataProperties": [p.to_input() for p in self.metadata_properties],
                "distribution": {"minSubmitted": self.min_submitted},
                "allowExtraMetadata": self.allow_extra_metadata}

    @overload
    def delete(self: FeedbackDataset[Client]) -> None: ...
    @overload
    def delete(self: FeedbackDataset[AsyncClient]) -> Later[None]: ...

    def delete(self) -> Later[None] | None:
        """Delete the dataset on the service, with its records and answers (owners and the
        workspace's admins). The object keeps its configuration and can be pushed again."""
        client, dataset_id = self._bound()
        return complete(client, self._delete(client, dataset_id))

    async def _delete(self, client: AnyClient, dataset_id: str) -> None:
        await asynchronous(client).execute(ops.DELETE_DATASET, {"id": dataset_id})
        self.id = self.name = self.workspace = None
        self._client = None

    @overload
    @classmethod
    def pull(cls, client: Client, *, name: str, workspace: str) -> FeedbackDataset[Client]: ...
    @overload
    @classmethod
    def pull(cls, client: AsyncClient, *, name: str, workspace: str) -> Later[FeedbackDataset[AsyncClient]]: ...

    @classmethod
    def pull(cls, client: AnyClient, *, name: str, workspace: str
             ) -> FeedbackDataset[Any] | Later[FeedbackDataset[Any]]:
        """The dataset ``name`` of ``workspace``, with its configuration objects in order."""
        return complete(client, cls._pull(client, name, workspace))

    @classmethod
    async def _pull(cls, client: AnyClient, name: str, workspace: str) -> FeedbackDataset[Any]:
        aio = asynchronous(client)
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
        """A record as the server's ``RecordInput`` (inputs.py); ``ValidationError`` for a value
        that cannot be sent."""
        return record_input(record, {q.name: q for q in self.questions})

    @overload
    def add_records(self: FeedbackDataset[Client], records: Iterable[Record], *, batch_size: int = 500,
                    show_progress: bool = True, raise_on_error: bool = False,
                    on_conflict: str = "refuse") -> AddRecordsReport: ...
    @overload
    def add_records(self: FeedbackDataset[AsyncClient], records: Iterable[Record], *, batch_size: int = 500,
                    show_progress: bool = True, raise_on_error: bool = False,
                    on_conflict: str = "refuse") -> Later[AddRecordsReport]: ...

    def add_records(self, records: Iterable[Record], *, batch_size: int = 500, show_progress: bool = True,
                    raise_on_error: bool = False, on_conflict: str = "refuse"
                    ) -> AddRecordsReport | Later[AddRecordsReport]:
        """Add or update (by external id) records in batches (of ``batch_size`` records, fewer
        when they are large: ``batches``); an ``AddRecordsReport``. A record that cannot be sent
        or is refused is listed in its ``errors`` (with its index and the reason); the others go
        in. ``raise_on_error`` raises after the first batch with one. ``on_conflict`` says what a
        re-add that changes the fields of an answered record does: ``refuse`` (reported in the
        errors), ``keep_responses`` or ``discard_responses``."""
        client, _ = self._bound()
        return complete(client, self._add_records(list(records), batch_size, show_progress, raise_on_error,
                                                  on_conflict.upper()))

    async def _add_records(self, records: list[Record], batch_size: int, show_progress: bool,
                           raise_on_error: bool, on_conflict: str) -> AddRecordsReport:
        report = AddRecordsReport()
        with tqdm(total=len(records), unit="records", disable=not show_progress) as progress:
            sendable = self._inputs(records, report, progress)
            for batch in batches(sendable, batch_size, lambda item: json_size(item[1])):
                await self._add_batch(batch, records, report, on_conflict)
                progress.update(len(batch))
                if raise_on_error and report.errors:
                    first = min(report.errors, key=lambda error: error.index)
                    raise ValidationError(f"record {first.index}: {first.message}", ["records", first.index])
        report.errors.sort(key=lambda error: error.index)
        return report

    def _inputs(self, records: list[Record], report: AddRecordsReport,
                progress: tqdm[Any]) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each record that can be sent, as its input, by index; the others go to the report."""
        for index, record in enumerate(records):
            try:
                yield index, self.record_input(record)
            except ValidationError as exc:
                report.errors.append(RecordError(index, exc.code, exc.message, record))
                progress.update(1)

    async def _add_batch(self, batch: list[tuple[int, dict[str, Any]]], records: list[Record],
                         report: AddRecordsReport, on_conflict: str) -> None:
        client, dataset_id = self._bound()
        result = (await asynchronous(client).execute(ops.ADD_RECORDS, {
            "id": dataset_id, "records": [data for _, data in batch], "onConflict": on_conflict}))["addRecords"]
        report.created += result["created"]
        report.updated += result["updated"]
        report.unchanged += result["unchanged"]
        report.responses += result["responses"]
        for error in result["errors"]:
            index = batch[error["index"]][0]
            report.errors.append(RecordError(index, error["code"], error["message"], records[index]))

    @overload
    def records(self: FeedbackDataset[Client], *, status: str | None = None,
                response_status: Sequence[str] | None = None, metadata: dict[str, Any] | None = None,
                external_ids: Sequence[str] | None = None, text: str | None = None,
                page_size: int = 200) -> Iterator[RemoteRecord]: ...
    @overload
    def records(self: FeedbackDataset[AsyncClient], *, status: str | None = None,
                response_status: Sequence[str] | None = None, metadata: dict[str, Any] | None = None,
                external_ids: Sequence[str] | None = None, text: str | None = None,
                page_size: int = 200) -> AsyncIterator[RemoteRecord]: ...

    def records(self, *, status: str | None = None, response_status: Sequence[str] | None = None,
                metadata: dict[str, Any] | None = None, external_ids: Sequence[str] | None = None,
                text: str | None = None, page_size: int = 200) -> Iterator[RemoteRecord] | AsyncIterator[RemoteRecord]:
        """Records (``RemoteRecord``) read lazily, a page at a time: an iterator (``Client``) or
        an async iterator (``AsyncClient``). ``metadata`` maps a property to a value, a list of
        values, or a (low, high) tuple; ``external_ids`` finds records by their external ids,
        ``text`` by a case-insensitive piece of their field texts."""
        client, _ = self._bound()
        filter_ = _record_filter(status, response_status, metadata)
        if external_ids is not None:
            filter_["externalIds"] = list(external_ids)
        if text is not None:
            filter_["text"] = text
        pages = self._pages(filter_, page_size)
        return _blocking(client, pages) if isinstance(client, Client) else _flatten(pages)

    async def _pages(self, filter_: dict[str, Any], page_size: int) -> AsyncIterator[list[RemoteRecord]]:
        client, dataset_id = self._bound()
        after: str | None = None
        while True:
            page = (await asynchronous(client).execute(ops.RECORDS, {
                "id": dataset_id, "filter": filter_, "first": page_size, "after": after}))["records"]
            yield [RemoteRecord.from_server(edge["node"]) for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return
            after = page["pageInfo"]["endCursor"]

    @overload
    def submit(self: FeedbackDataset[Client], record_id: str, values: dict[str, Any], *, status: str = "submitted",
               expected_version: int | None = None) -> SubmittedResponse: ...
    @overload
    def submit(self: FeedbackDataset[AsyncClient], record_id: str, values: dict[str, Any], *,
               status: str = "submitted", expected_version: int | None = None) -> Later[SubmittedResponse]: ...

    def submit(self, record_id: str, values: dict[str, Any], *, status: str = "submitted",
               expected_version: int | None = None) -> SubmittedResponse | Later[SubmittedResponse]:
        """Answer a record as the client's user: ``values`` maps question names to answers; a
        ``SubmittedResponse``. With ``expected_version`` (0: no response yet) the answer is
        written only over that version, else ``ConflictError`` with ``current_version``."""
        client, _ = self._bound()
        questions = {q.name: q for q in self.questions}
        unknown = [name for name in values if name not in questions]
        if unknown:
            raise ValidationError(f"no question(s) {unknown} in this dataset", ["values"])
        answer: dict[str, Any] = {
            "recordId": record_id, "status": status.upper(),
            "values": [{"question": name, "value": answer_value(questions[name], value)}
                       for name, value in values.items()]}
        if expected_version is not None:
            answer["expectedVersion"] = expected_version
        return complete(client, _submit(client, answer))

    # Vectors ---------------------------------------------------------------------------

    def add_vector_space(self, name: str, dimension: int, metric: str = "cosine") -> Any:
        """Declare a vector space (``cosine``, ``dot`` or ``l2``); published datasets too."""
        client, dataset_id = self._bound()
        return complete(client, vectors.add_space(client, dataset_id, name, dimension, metric))

    def remove_vector_space(self, name: str) -> Any:
        client, dataset_id = self._bound()
        return complete(client, vectors.remove_space(client, dataset_id, name))

    def set_vectors(self, by_record: dict[str, dict[str, Any]]) -> Any:
        """Set vectors of existing records (record id -> space -> vector), fields and answers
        untouched; the refused ones as (record id, reason)."""
        client, dataset_id = self._bound()
        return complete(client, vectors.set_vectors(client, dataset_id, by_record))

    def similar(self, space: str, *, record_id: str | None = None, vector: Sequence[float] | None = None,
                first: int = 10, status: str | None = None, metadata: dict[str, Any] | None = None,
                text: str | None = None, least: bool = False) -> Any:
        """The records nearest a record or a vector (``SimilarRecord``: record and score), the
        filter applied before the top ``first`` is chosen."""
        client, dataset_id = self._bound()
        near: dict[str, Any]
        if record_id is not None and vector is None:
            near = {"recordId": record_id}
        elif vector is not None and record_id is None:  # a numpy array has no truth value: not `vector or`
            near = {"vector": vectors.vector_list(vector, ["vector"])}
            if not near["vector"]:
                raise ValidationError("a vector has at least one value", ["vector"])
        else:
            raise ValidationError("give record_id or vector", ["near"])
        filter_ = _record_filter(status, None, metadata)
        if text is not None:
            filter_["text"] = text
        return complete(client, vectors.similar(client, dataset_id, space, near, first, filter_ or None, least))

    def near_duplicates(self, space: str, threshold: float, *, page_size: int = 200) -> Any:
        """Every pair of records whose vectors in ``space`` are at least ``threshold`` similar
        (L2: at most ``threshold`` apart), each once (``NearDuplicate``: first, second, score),
        for cleaning a dataset before labelling. Owners and admins."""
        client, dataset_id = self._bound()
        return complete(client, vectors.near_duplicates(client, dataset_id, space, threshold, page_size))

    # Training data --------------------------------------------------------------------

    @overload
    def export(self: FeedbackDataset[Client], task: str, **options: Any) -> list[dict[str, Any]]: ...
    @overload
    def export(self: FeedbackDataset[AsyncClient], task: str, **options: Any) -> Later[list[dict[str, Any]]]: ...

    def export(self, task: str, **options: Any) -> list[dict[str, Any]] | Later[list[dict[str, Any]]]:
        """Training rows from the server's export (``sft``, ``reward_modeling``, ``dpo``,
        ``rating_selection``, ``token_classification`` or a task a plugin adds), e.g.
        ``export("dpo", question="preference", best_vs_worst=True)``. Filters (default: every
        record): ``completed_only=True``, ``min_submitted=2``, ``min_agreement=0.5``,
        ``metadata={"source": "web", "length": (10, 100)}``."""
        client, _ = self._bound()
        return complete(client, self._export(task, options))

    async def _export(self, task: str, options: dict[str, Any]) -> list[dict[str, Any]]:
        client, dataset_id = self._bound()
        rows: list[dict[str, Any]] = []
        rest = b""
        async for chunk in asynchronous(client).transport.stream(
                f"/datasets/{dataset_id}/training/{task}", {"format": "jsonl", **export_params(options)}):
            *lines, rest = (rest + chunk).split(b"\n")
            rows += [json.loads(line) for line in lines if line.strip()]
        return rows + ([json.loads(rest)] if rest.strip() else [])


def to_datasets(rows: Iterable[dict[str, Any] | RemoteRecord]) -> Any:
    """Training rows or records as a Hugging Face ``datasets.Dataset`` (needs
    ``pip install 'feedbackql[datasets]'``), e.g. to ``save_to_disk``. Nothing is fetched from the Hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    try:
        import datasets
    except ImportError:
        raise ImportError("to_datasets needs the datasets package: pip install 'feedbackql[datasets]'") from None
    return datasets.Dataset.from_list([dataclasses.asdict(row) if isinstance(row, RemoteRecord) else row
                                       for row in rows])


async def _submit(client: AnyClient, answer: dict[str, Any]) -> SubmittedResponse:
    data = await asynchronous(client).execute(ops.SUBMIT, {"input": answer})
    return SubmittedResponse.from_server(data["submitResponse"])


async def _undo(aio: AsyncClient, created: list[tuple[str, str]], failure: Exception) -> None:
    """Delete what a failed push created, newest first; what cannot be deleted is named on
    ``failure`` so that the person can delete it."""
    for operation, made in reversed(created):
        try:
            await aio.execute(operation, {"id": made})
        except FeedbackQLError as exc:
            failure.add_note(f"feedbackql: could not delete {made} that the failed push created: {exc}")


def _record_filter(status: str | None, response_status: Sequence[str] | None,
                   metadata: dict[str, Any] | None) -> dict[str, Any]:
    data: dict[str, Any] = {"metadata": metadata_conditions(metadata or {}) or None}
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

"""What the ML engineer used to write GraphQL for: the labeling queue, unified answers,
agreement, progress, deleting records, and downloads streamed to a file. A mixin of
``FeedbackDataset``; each method works bound to either client (binding.py)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

from feedbackql import operations as ops
from feedbackql.binding import AnyClient, C, Later, asynchronous, complete
from feedbackql.client import AsyncClient, Client
from feedbackql.records import RemoteRecord
from feedbackql.results import Agreement, DownloadedFile, Progress, UnifiedAnswer

T = TypeVar("T")


class DatasetWork(Generic[C]):
    def _bound(self) -> tuple[AnyClient, str]:
        raise NotImplementedError

    def _execute(self, query: str, variables: dict[str, Any], result: Callable[[Any], T]) -> T | Later[T]:
        """Run ``query`` with the dataset's id as ``$id``; ``result`` shapes the data."""
        client, dataset_id = self._bound()

        async def run() -> T:
            return result(await asynchronous(client).execute(query, {"id": dataset_id, **variables}))

        return complete(client, run())

    # The queue --------------------------------------------------------------------------

    @overload
    def next_records(self: DatasetWork[Client], first: int = 1, *, near: str | None = None,
                     space: str | None = None) -> list[RemoteRecord]: ...
    @overload
    def next_records(self: DatasetWork[AsyncClient], first: int = 1, *, near: str | None = None,
                     space: str | None = None) -> Later[list[RemoteRecord]]: ...

    def next_records(self, first: int = 1, *, near: str | None = None,
                     space: str | None = None) -> list[RemoteRecord] | Later[list[RemoteRecord]]:
        """Up to ``first`` pending records the client's user has not answered, leased to them
        (``list[RemoteRecord]``): no one else gets them until they answer, skip or the lease ends.
        ``near`` (a record id) with ``space``: the pending records nearest it come first."""
        return self._execute(ops.NEXT_RECORDS, {"first": first, "near": near, "space": space},
                             lambda data: [RemoteRecord.from_server(r) for r in data["nextRecords"]])

    @overload
    def release(self: DatasetWork[Client], record_id: str) -> bool: ...
    @overload
    def release(self: DatasetWork[AsyncClient], record_id: str) -> Later[bool]: ...

    def release(self, record_id: str) -> bool | Later[bool]:
        """Skip a record: give the lease back (``True`` when the user held one)."""
        client, _ = self._bound()
        return complete(client, _release(client, record_id))

    # Results ----------------------------------------------------------------------------

    @overload
    def unified_answers(self: DatasetWork[Client], question: str, strategy: str | None = None, *,
                        page_size: int = 500) -> list[UnifiedAnswer]: ...
    @overload
    def unified_answers(self: DatasetWork[AsyncClient], question: str, strategy: str | None = None, *,
                        page_size: int = 500) -> Later[list[UnifiedAnswer]]: ...

    def unified_answers(self, question: str, strategy: str | None = None, *,
                        page_size: int = 500) -> list[UnifiedAnswer] | Later[list[UnifiedAnswer]]:
        """Every record's unified answer to ``question`` (``list[UnifiedAnswer]``), with the
        question kind's default strategy unless ``strategy`` names another."""
        client, dataset_id = self._bound()
        return complete(client, _unified(client, dataset_id, question, strategy, page_size))

    @overload
    def agreement(self: DatasetWork[Client], question: str) -> Agreement: ...
    @overload
    def agreement(self: DatasetWork[AsyncClient], question: str) -> Later[Agreement]: ...

    def agreement(self, question: str) -> Agreement | Later[Agreement]:
        """Inter-annotator agreement on ``question`` (``Agreement``)."""
        return self._execute(ops.AGREEMENT, {"question": question},
                             lambda data: Agreement.from_server(data["agreement"]))

    @overload
    def progress(self: DatasetWork[Client]) -> Progress: ...
    @overload
    def progress(self: DatasetWork[AsyncClient]) -> Later[Progress]: ...

    def progress(self) -> Progress | Later[Progress]:
        """Records and responses counted (``Progress``)."""
        return self._execute(ops.PROGRESS, {}, lambda data: Progress.from_server(data["dataset"]["progress"]))

    @overload
    def delete_records(self: DatasetWork[Client], ids: Sequence[str]) -> int: ...
    @overload
    def delete_records(self: DatasetWork[AsyncClient], ids: Sequence[str]) -> Later[int]: ...

    def delete_records(self, ids: Sequence[str]) -> int | Later[int]:
        """Delete records (with their answers) by id; the number deleted (``int``)."""
        return self._execute(ops.DELETE_RECORDS, {"ids": list(ids)},
                             lambda data: int(data["deleteRecords"]["deleted"]))

    # Files ------------------------------------------------------------------------------

    @overload
    def download(self: DatasetWork[Client], path: str | Path, task: str | None = None, *,
                 file_format: str = "jsonl", **options: Any) -> DownloadedFile: ...
    @overload
    def download(self: DatasetWork[AsyncClient], path: str | Path, task: str | None = None, *,
                 file_format: str = "jsonl", **options: Any) -> Later[DownloadedFile]: ...

    def download(self, path: str | Path, task: str | None = None, *, file_format: str = "jsonl",
                 **options: Any) -> DownloadedFile | Later[DownloadedFile]:
        """Write the record export (or ``task``'s training rows) in ``file_format`` (jsonl, csv,
        parquet) to ``path`` chunk by chunk as it arrives (``DownloadedFile``)."""
        client, dataset_id = self._bound()
        route = f"/datasets/{dataset_id}/training/{task}" if task else f"/datasets/{dataset_id}/export"
        params = {"format": file_format, **export_params(options)}
        return complete(client, _download(client, route, params, Path(path)))


async def _release(client: AnyClient, record_id: str) -> bool:
    return bool((await asynchronous(client).execute(ops.RELEASE_RECORD, {"id": record_id}))["releaseRecord"])


async def _unified(client: AnyClient, dataset_id: str, question: str, strategy: str | None,
                   page_size: int) -> list[UnifiedAnswer]:
    answers: list[UnifiedAnswer] = []
    after: str | None = None
    while True:
        page = (await asynchronous(client).execute(ops.UNIFIED_ANSWERS, {
            "id": dataset_id, "question": question, "strategy": strategy, "first": page_size,
            "after": after}))["unifiedAnswers"]
        answers += [UnifiedAnswer.from_server(edge["node"]) for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return answers
        after = page["pageInfo"]["endCursor"]


async def _download(client: AnyClient, route: str, params: dict[str, Any], path: Path) -> DownloadedFile:
    written = 0
    partial = path.with_name(path.name + ".part")  # a failed download never looks like a whole file
    try:
        with partial.open("wb") as output:
            async for chunk in asynchronous(client).transport.stream(route, params):
                output.write(chunk)
                written += len(chunk)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return DownloadedFile(path, written)


def export_params(options: dict[str, Any]) -> dict[str, Any]:
    """Export options as the route's query parameters: booleans as ``true``/``false``, lists and
    objects as JSON, and ``metadata={"source": "web", "length": (10, 100)}`` as the conditions
    the service reads (``[{"name": ..., "values": [...]}, {"name": ..., "ge": .., "le": ..}]``)."""
    if isinstance(options.get("metadata"), dict):
        options = {**options, "metadata": metadata_conditions(options["metadata"])}
    return {key: str(value).lower() if isinstance(value, bool)
            else json.dumps(value) if isinstance(value, list | dict) else value
            for key, value in options.items()}


def metadata_conditions(wanted: dict[str, Any]) -> list[dict[str, Any]]:
    """``{name: value | [values] | (low, high)}`` as metadata conditions."""
    conditions: list[dict[str, Any]] = []
    for name, value in wanted.items():
        if isinstance(value, tuple):
            conditions.append({"name": name, "ge": value[0], "le": value[1]})
        else:
            conditions.append({"name": name, "values": value if isinstance(value, list) else [value]})
    return conditions

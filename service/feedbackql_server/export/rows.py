"""A dataset's records with their responses, as plain rows, read a page at a time."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc, ResponseDoc
from feedbackql_server.domain.vectors import VectorSpace, spaces_of
from feedbackql_server.kinds.columns import FLOAT32, JSON, TEXT, Column, list_of, struct
from feedbackql_server.storage import Storage

Doc = dict[str, Any]
Float32s = np.ndarray[Any, np.dtype[np.float32]]
PAGE = 500
RECORD_COLUMNS = {"id": TEXT, "external_id": TEXT, "status": TEXT, "fields": JSON, "metadata": JSON,
                  "suggestions": JSON, "responses": JSON}


def record_columns(dataset: DatasetDoc) -> dict[str, Column]:
    """The record export's columns: with vector spaces, ``vectors`` too, a struct with one
    fixed-size float32 list per space (Argilla's ``datasets`` rows carry a ``vectors`` struct
    the same way)."""
    spaces = spaces_of(dataset)
    if not spaces:
        return dict(RECORD_COLUMNS)
    return {**RECORD_COLUMNS, "vectors": struct(**{s.name: list_of(FLOAT32, s.dimension) for s in spaces})}


def page_vectors(page: list[RecordDoc], stored: dict[ObjectId, dict[str, bytes]],
                 spaces: list[VectorSpace]) -> list[dict[str, Float32s | None]]:
    """Each record's vectors by space name: rows of one float32 matrix per space (decoded
    from the page's bytes at once, no Python float per value), None where it has none."""
    by_record: list[dict[str, Float32s | None]] = [{} for _ in page]
    for space in spaces:
        size = 4 * space.dimension
        held = {i: stored_bytes for i, record in enumerate(page)
                if len(stored_bytes := stored.get(record["_id"], {}).get(space.key) or b"") == size}
        matrix = np.frombuffer(b"".join(held.values()), dtype="<f4").reshape(-1, space.dimension)
        for row in by_record:
            row[space.name] = None
        for i, vector in zip(held, matrix, strict=True):
            by_record[i][space.name] = vector
    return by_record


async def record_pages(storage: Storage, dataset: DatasetDoc) -> AsyncIterator[list[RecordDoc]]:
    """Pages of records in insertion order, read a bucket at a time: memory holds one page
    whatever the size of the dataset."""
    page: list[RecordDoc] = []
    async for records in storage.records.stream(dataset["_id"], dataset.get("next_seq", 0)):
        page.extend(records)
        if len(page) >= PAGE:
            yield page
            page = []
    if page:
        yield page


class Usernames:
    """User names by id, looked up once per export (bounded by the number of users)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.names: dict[ObjectId, str] = {}

    async def resolve(self, ids: set[ObjectId]) -> dict[ObjectId, str]:
        missing = [i for i in ids if i not in self.names]
        if missing:
            for user in await self.storage.users.by_ids(missing):
                self.names[user["_id"]] = user["username"]
        return self.names


async def record_rows(storage: Storage, dataset: DatasetDoc) -> AsyncIterator[Doc]:
    """Every record with fields, metadata, suggestions, status and live responses, and its
    vectors by space name when the dataset has spaces, read a page at a time: a page's vectors
    and responses are read while the page before it is encoded (never cancelled: a consumer
    that stops early waits for the reads in flight, as ``buckets.scan`` does)."""
    usernames = Usernames(storage)
    spaces = spaces_of(dataset)
    ahead: list[tuple[list[RecordDoc], asyncio.Future[PageReads]]] = []
    try:
        async for page in record_pages(storage, dataset):
            ahead.append((page, asyncio.ensure_future(_page_reads(storage, page, spaces))))
            if len(ahead) > 1:
                for row in await _page_rows(*ahead.pop(0), usernames, spaces):
                    yield row
        while ahead:
            for row in await _page_rows(*ahead.pop(0), usernames, spaces):
                yield row
    finally:
        await asyncio.gather(*(reads for _, reads in ahead), return_exceptions=True)


PageReads = tuple[dict[ObjectId, dict[str, bytes]], list[ResponseDoc]]


async def _page_reads(storage: Storage, page: list[RecordDoc], spaces: list[VectorSpace]) -> PageReads:
    """The page's vectors (a bucket at a time) and live responses, read at once."""
    if not spaces:
        return {}, await storage.responses.in_buckets(page)
    buckets = list(dict.fromkeys(record["bucket"] for record in page))
    largest = max(space.dimension for space in spaces)
    stored, responses = await asyncio.gather(storage.vectors.of_buckets(buckets, largest),
                                             storage.responses.in_buckets(page))
    return stored, responses


async def _page_rows(page: list[RecordDoc], reads: asyncio.Future[PageReads], usernames: Usernames,
                     spaces: list[VectorSpace]) -> list[Doc]:
    stored, responses = await reads
    vectors = page_vectors(page, stored, spaces) if spaces else []
    names = await usernames.resolve({r["user_id"] for r in responses})
    by_record: dict[ObjectId, list[Doc]] = {}
    for response in responses:
        by_record.setdefault(response["record_id"], []).append({
            "user": names.get(response["user_id"], ""), "user_id": str(response["user_id"]),
            "status": response["status"],
            "values": {q: v["value"] for q, v in response["values"].items()},
            "updated_at": response["updated_at"].isoformat(),
        })
    rows = []
    for index, record in enumerate(page):
        row = {
            "id": str(record["_id"]), "external_id": record.get("external_id"),
            "status": record["status"], "fields": record["fields"],
            "metadata": record.get("metadata") or {},
            "suggestions": [{k: s.get(k) for k in ("question", "value", "score", "agent")}
                            for s in record.get("suggestions", [])],
            "responses": by_record.get(record["_id"], []),
        }
        if spaces:
            row["vectors"] = vectors[index]
        rows.append(row)
    return rows

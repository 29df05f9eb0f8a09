"""A dataset's records with their responses, as plain rows, read a page at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bson import ObjectId

from feedbackql_server.documents import DatasetDoc, RecordDoc
from feedbackql_server.storage import Storage

Doc = dict[str, Any]
PAGE = 500


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
    """Every record with fields, metadata, suggestions, status and live responses."""
    usernames = Usernames(storage)
    async for page in record_pages(storage, dataset):
        responses = await storage.responses.in_buckets(page)
        names = await usernames.resolve({r["user_id"] for r in responses})
        by_record: dict[ObjectId, list[Doc]] = {}
        for response in responses:
            by_record.setdefault(response["record_id"], []).append({
                "user": names.get(response["user_id"], ""), "user_id": str(response["user_id"]),
                "status": response["status"],
                "values": {q: v["value"] for q, v in response["values"].items()},
                "updated_at": response["updated_at"].isoformat(),
            })
        for record in page:
            yield {
                "id": str(record["_id"]), "external_id": record.get("external_id"),
                "status": record["status"], "fields": record["fields"],
                "metadata": record.get("metadata") or {},
                "suggestions": [{k: s.get(k) for k in ("question", "value", "score", "agent")}
                                for s in record.get("suggestions", [])],
                "responses": by_record.get(record["_id"], []),
            }

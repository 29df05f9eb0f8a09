"""Idempotency keys: the first answer to a keyed request, kept so that its retry gets it again.

One document per (user, key) — the unique index ``key_unique`` makes claiming a key atomic: of
two requests with one key exactly one inserts. It holds the SHA-256 of the request, ``state``
(``pending`` while the first request runs, then ``done`` with the answer's status, media type
and body) and ``created_at`` for expiry. A claim is removed by its own ``_id`` (each claim has
a new one), so removing a stale claim can never remove the claim that replaced it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Doc = dict[str, Any]
PENDING = "pending"
DONE = "done"


class IdempotencyRepo:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def claim(self, user_id: ObjectId, key: str, digest: str, now: datetime) -> ObjectId | None:
        """The new claim's id, or None when the user's key is already claimed."""
        claim_id = ObjectId()
        try:
            await self.collection.insert_one({"_id": claim_id, "user_id": user_id, "key": key, "digest": digest,
                                              "state": PENDING, "created_at": now})
        except DuplicateKeyError:
            return None
        return claim_id

    async def find(self, user_id: ObjectId, key: str) -> Doc | None:
        return await self.collection.find_one({"user_id": user_id, "key": key})

    async def finish(self, claim_id: ObjectId, status: int, media_type: str, body: str | None, size: int) -> None:
        """``body`` None: the answer (``size`` bytes) was too large to keep."""
        await self.collection.update_one({"_id": claim_id}, {"$set": {
            "state": DONE, "status": status, "media_type": media_type, "body": body, "size": size}})

    async def release(self, claim_id: ObjectId) -> None:
        await self.collection.delete_one({"_id": claim_id})

    async def sweep(self, created_before: datetime) -> int:
        """Remove every key older than the window; the number removed."""
        result = await self.collection.delete_many({"created_at": {"$lt": created_before}})
        return result.deleted_count

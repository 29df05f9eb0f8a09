"""Users (with hashed API keys) and workspaces."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from feedbackql_server.documents import UserDoc, WorkspaceDoc
from feedbackql_server.errors import Conflict
from feedbackql_server.storage.duplicates import is_duplicate_key
from feedbackql_server.storage.lookups import find_each

Doc = dict[str, Any]


class UserRepo:
    def __init__(self, collection: AsyncCollection[UserDoc]) -> None:
        self.collection = collection

    async def create(
        self, username: str, role: str, key_hash: str, workspace_ids: list[ObjectId]
    ) -> UserDoc:
        doc: UserDoc = {
            "username": username,
            "role": role,
            "api_key_hash": key_hash,
            "workspace_ids": workspace_ids,
            "created_at": datetime.now(UTC),
        }
        try:
            await self.collection.insert_one(doc)
        except OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise
            raise Conflict(f"a user named {username!r} already exists") from None
        return doc

    async def ensure(self, username: str, role: str, key_hash: str) -> UserDoc:
        """Create the user unless it exists: how the first owner is bootstrapped. An existing
        user keeps its key (a rotation must survive restarts) and its role."""
        doc = await self.collection.find_one_and_update(
            {"username": username},
            {
                "$setOnInsert": {"role": role, "api_key_hash": key_hash, "workspace_ids": [],
                                 "created_at": datetime.now(UTC)},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        return doc

    async def by_key_hash(self, key_hash: str) -> UserDoc | None:
        return await self.collection.find_one({"api_key_hash": key_hash, "deleted": {"$ne": True}})

    async def by_usernames(self, usernames: Sequence[str]) -> dict[str, UserDoc]:
        """Users that are not deleted, by name (one indexed lookup per name)."""
        found = await find_each(self.collection, "username", usernames, also={"deleted": {"$ne": True}})
        return {user["username"]: user for user in found}

    async def get(self, user_id: ObjectId) -> UserDoc | None:
        return await self.collection.find_one({"_id": user_id})

    async def by_ids(self, ids: list[ObjectId]) -> list[UserDoc]:
        """One indexed lookup per id (``storage/lookups.py``: an ``$in`` reads every user on FerretDB)."""
        return await find_each(self.collection, "_id", ids)

    async def listed(self, workspace_ids: list[ObjectId] | None) -> list[UserDoc]:
        """Users that are not deleted; in any of ``workspace_ids`` unless it is None."""
        query: Doc = {"deleted": {"$ne": True}}
        if workspace_ids is not None:
            query["workspace_ids"] = {"$in": workspace_ids}
        return await self.collection.find(query).sort("_id", 1).to_list()

    async def add_workspace(self, user_id: ObjectId, workspace_id: ObjectId) -> UserDoc | None:
        return await self._update(user_id, {"$addToSet": {"workspace_ids": workspace_id}})

    async def remove_workspace(self, user_id: ObjectId, workspace_id: ObjectId) -> UserDoc | None:
        return await self._update(user_id, {"$pull": {"workspace_ids": workspace_id}})

    async def forget_workspace(self, workspace_id: ObjectId) -> None:
        await self.collection.update_many({"workspace_ids": workspace_id},
                                          {"$pull": {"workspace_ids": workspace_id}})

    async def set_key_hash(self, user_id: ObjectId, key_hash: str) -> UserDoc | None:
        return await self._update(user_id, {"$set": {"api_key_hash": key_hash}})

    async def mark_deleted(self, user_id: ObjectId, unusable_key_hash: str) -> UserDoc | None:
        """Keep the document (their answers still name them) but end every access."""
        return await self._update(user_id, {"$set": {
            "deleted": True, "api_key_hash": unusable_key_hash, "workspace_ids": [],
            "deleted_at": datetime.now(UTC),
        }})

    async def _update(self, user_id: ObjectId, update: Doc) -> UserDoc | None:
        return await self.collection.find_one_and_update(
            {"_id": user_id, "deleted": {"$ne": True}}, update,
            return_document=ReturnDocument.AFTER,
        )


class WorkspaceRepo:
    def __init__(self, collection: AsyncCollection[WorkspaceDoc]) -> None:
        self.collection = collection

    async def create(self, name: str) -> WorkspaceDoc:
        doc: WorkspaceDoc = {"name": name, "created_at": datetime.now(UTC)}
        try:
            await self.collection.insert_one(doc)
        except OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise
            raise Conflict(f"a workspace named {name!r} already exists") from None
        return doc

    async def get(self, workspace_id: ObjectId) -> WorkspaceDoc | None:
        return await self.collection.find_one({"_id": workspace_id})

    async def by_ids(self, ids: list[ObjectId]) -> list[WorkspaceDoc]:
        return await find_each(self.collection, "_id", ids)

    async def listed(self, ids: list[ObjectId] | None) -> list[WorkspaceDoc]:
        """Workspaces in ``ids``, or all of them when it is None, oldest first."""
        if ids is None:
            return await self.collection.find({}).sort("_id", 1).to_list()
        return sorted(await find_each(self.collection, "_id", ids), key=lambda w: w["_id"])

    async def set_closing(self, workspace_id: ObjectId, closing: bool) -> None:
        """Mark (or unmark) a workspace as being deleted: datasets created meanwhile withdraw."""
        change = {"$set": {"closing": True}} if closing else {"$unset": {"closing": ""}}
        await self.collection.update_one({"_id": workspace_id}, change)

    async def delete(self, workspace_id: ObjectId) -> bool:
        result = await self.collection.delete_one({"_id": workspace_id})
        return result.deleted_count == 1

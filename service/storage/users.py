"""Users (with hashed API keys) and workspaces."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from feedbackql.errors import Conflict
from feedbackql.storage.duplicates import is_duplicate_key

Doc = dict[str, Any]


class UserRepo:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create(
        self, username: str, role: str, key_hash: str, workspace_ids: list[ObjectId]
    ) -> Doc:
        doc: Doc = {
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

    async def ensure(self, username: str, role: str, key_hash: str) -> Doc:
        """Create the user or reset its role and key: how the owner is bootstrapped."""
        doc = await self.collection.find_one_and_update(
            {"username": username},
            {
                "$set": {"role": role, "api_key_hash": key_hash},
                "$setOnInsert": {"workspace_ids": [], "created_at": datetime.now(UTC)},
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None
        return doc

    async def by_key_hash(self, key_hash: str) -> Doc | None:
        return await self.collection.find_one({"api_key_hash": key_hash})

    async def by_ids(self, ids: list[ObjectId]) -> list[Doc]:
        return await self.collection.find({"_id": {"$in": ids}}).to_list()

    async def add_workspace(self, user_id: ObjectId, workspace_id: ObjectId) -> Doc | None:
        return await self.collection.find_one_and_update(
            {"_id": user_id},
            {"$addToSet": {"workspace_ids": workspace_id}},
            return_document=ReturnDocument.AFTER,
        )


class WorkspaceRepo:
    def __init__(self, collection: AsyncCollection[Doc]) -> None:
        self.collection = collection

    async def create(self, name: str) -> Doc:
        doc: Doc = {"name": name, "created_at": datetime.now(UTC)}
        try:
            await self.collection.insert_one(doc)
        except OperationFailure as exc:
            if not is_duplicate_key(exc):
                raise
            raise Conflict(f"a workspace named {name!r} already exists") from None
        return doc

    async def get(self, workspace_id: ObjectId) -> Doc | None:
        return await self.collection.find_one({"_id": workspace_id})

    async def by_ids(self, ids: list[ObjectId]) -> list[Doc]:
        return await self.collection.find({"_id": {"$in": ids}}).to_list()

    async def all(self) -> list[Doc]:
        return await self.collection.find().sort("_id", 1).to_list()

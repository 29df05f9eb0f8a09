"""The database handle and one repository per collection."""

from __future__ import annotations

from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from feedbackql.storage.datasets import DatasetRepo
from feedbackql.storage.indexes import ensure_indexes
from feedbackql.storage.intents import IntentRepo
from feedbackql.storage.layout import migrate
from feedbackql.storage.locks import RecordLocks
from feedbackql.storage.queue import QueueRepo
from feedbackql.storage.records import RecordRepo
from feedbackql.storage.responses import ResponseRepo
from feedbackql.storage.uncancellable import Uncancellable
from feedbackql.storage.users import UserRepo, WorkspaceRepo


class Storage:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
        self.users = UserRepo(db["users"])
        self.workspaces = WorkspaceRepo(db["workspaces"])
        self.datasets = DatasetRepo(db["datasets"])
        self.record_locks = RecordLocks()
        self.records = RecordRepo(db["records"], self.record_locks)
        self.queue = QueueRepo(db["records"])
        self.responses = ResponseRepo(db["responses"])
        self.intents = IntentRepo(db["intents"])
        self.uncancellable = Uncancellable()

    async def prepare(self) -> None:
        build = await self.db.client.admin.command("buildInfo")
        ferretdb = "ferretdbVersion" in build
        await ensure_indexes(self.db, unique_only=ferretdb)
        await migrate(self.db)
        self.queue.compare_and_set = not ferretdb

    async def close(self) -> None:
        """Let writes that must finish do so; the caller then closes the client."""
        await self.uncancellable.drain()

    async def ping(self) -> bool:
        try:
            await self.db.command("ping")
        except Exception:
            return False
        return True

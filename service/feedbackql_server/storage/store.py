"""The database handle and one repository per collection."""

from __future__ import annotations

from typing import Any, cast

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from feedbackql_server.documents import DatasetDoc, RecordDoc, ResponseDoc, UserDoc, WorkspaceDoc
from feedbackql_server.storage.datasets import DatasetRepo
from feedbackql_server.storage.idempotency import IdempotencyRepo
from feedbackql_server.storage.indexes import ensure_indexes
from feedbackql_server.storage.intents import IntentRepo
from feedbackql_server.storage.layout import migrate
from feedbackql_server.storage.locks import KeyedLocks, RecordLocks
from feedbackql_server.storage.paths import MONGODB, Forced, StoragePaths, choose
from feedbackql_server.storage.queue import QueueRepo
from feedbackql_server.storage.records import RecordRepo
from feedbackql_server.storage.responses import ResponseRepo
from feedbackql_server.storage.tallies import TallyRepo
from feedbackql_server.storage.uncancellable import Uncancellable
from feedbackql_server.storage.users import UserRepo, WorkspaceRepo
from feedbackql_server.storage.vectors import VectorRepo


class Storage:
    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db
        # Each collection holds one kind of document (documents.py).
        self.users = UserRepo(cast(AsyncCollection[UserDoc], db["users"]))
        self.workspaces = WorkspaceRepo(cast(AsyncCollection[WorkspaceDoc], db["workspaces"]))
        self.dataset_locks = KeyedLocks()
        """Held by every write of a dataset document, counters included (``storage/datasets.py``)."""
        self.datasets = DatasetRepo(cast(AsyncCollection[DatasetDoc], db["datasets"]), self.dataset_locks)
        self.tallies = TallyRepo(cast(AsyncCollection[DatasetDoc], db["datasets"]), db["user_tallies"],
                                 self.dataset_locks)
        self.record_locks = RecordLocks()
        self.records = RecordRepo(db["records"])
        self.queue = QueueRepo(cast(AsyncCollection[RecordDoc], db["records"]))
        self.responses = ResponseRepo(cast(AsyncCollection[ResponseDoc], db["responses"]))
        self.intents = IntentRepo(db["intents"])
        self.idempotency = IdempotencyRepo(db["idempotency_keys"])
        self.vectors = VectorRepo(db)
        self.uncancellable = Uncancellable()
        self.paths = MONGODB
        """What differs between MongoDB and FerretDB, chosen by ``prepare`` (``storage/paths.py``)."""

    async def prepare(self, *, paths: Forced = "auto") -> None:
        """Which code paths suit the server (``storage/paths.py``; ``paths="mongodb"`` forces
        MongoDB's), then the indexes they want and the migrations."""
        self.use(await choose(self.db, paths))
        await ensure_indexes(self.db, self.paths)
        await migrate(self.db)
        await self.vectors.prepare(every_index=self.paths.every_index)

    def use(self, paths: StoragePaths) -> None:
        """Take ``paths`` from now on (at start-up; a test may force MongoDB's)."""
        self.paths = paths
        self.queue.paths = paths
        self.vectors.paths = paths

    async def close(self) -> None:
        """Let writes that must finish do so; the caller then closes the client."""
        await self.uncancellable.drain()
        self.intents.close()

    async def ping(self) -> bool:
        try:
            await self.db.command("ping")
        except Exception:
            return False
        return True

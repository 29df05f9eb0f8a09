"""How vector documents are written: new ones in one insert (an upsert each costs FerretDB
about 20 ms, which made an ingest with vectors 40 times slower than one without), those already
there updated, each write taking its numbers from the dataset's sequence."""

from __future__ import annotations

from typing import Any

import numpy as np
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from feedbackql_server.storage.vector_search import COLLECTION
from feedbackql_server.storage.vectors import VectorRepo


class Commands(CommandListener):
    """The commands sent to the vector documents' collection (the sequence's own updates, which
    mark numbers pending and then settled, are not counted)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def started(self, event: CommandStartedEvent) -> None:
        if event.command.get(event.command_name) == COLLECTION:
            self.names.append(event.command_name)

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def _bytes(*values: float) -> bytes:
    return np.asarray(values, dtype=np.float32).tobytes()


async def test_new_vectors_are_inserted_at_once_and_existing_ones_updated(mongodb_uri: str,
                                                                          database_name: str) -> None:
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, event_listeners=[commands])
    try:
        repo = VectorRepo(client[database_name])
        dataset_id, records = ObjectId(), [ObjectId() for _ in range(3)]
        assert await repo.write(dataset_id, "k1", [(r, _bytes(i, 1), "b") for i, r in enumerate(records)]) == 3
        assert "insert" in commands.names
        assert "update" not in commands.names
        commands.names.clear()
        newcomer = ObjectId()
        assert await repo.write(dataset_id, "k1", [(records[1], _bytes(7, 7), "b"), (newcomer, _bytes(5, 5), "b")]) == 5
        assert commands.names.count("update") == 1
        stored = await repo.since(dataset_id, "k1", 0, 2)
        assert {(s.record_id, s.values, s.seq) for s in stored} == {
            (records[0], _bytes(0, 1), 1), (records[2], _bytes(2, 1), 3),
            (records[1], _bytes(7, 7), 4), (newcomer, _bytes(5, 5), 5)}
        assert {s.record_id for s in await repo.since(dataset_id, "k1", 3, 2)} == {records[1], newcomer}
    finally:
        await client.close()

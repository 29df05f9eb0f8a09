"""Every command on the vector documents is one the embedded database serves from an index, or a
read of a whole space: FerretDB evaluates whatever is not a top-level equality (a range, ``$in``)
after reading every document the equalities select, and an equality on a key without its GIN
index (``database/equality_indexes.py``) reads the whole table. Unindexed, a vector's lookup by
``_id`` took 350 ms at 60,000 vectors (0.7 ms indexed), and a search's catch-up after one
``setRecordVectors`` read every vector of the dataset (3 s at 20,000)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from feedbackql_server.database.equality_indexes import EQUALITY_KEYS
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage
from feedbackql_server.storage.vector_search import COLLECTION

Doc = dict[str, Any]


class Filters(CommandListener):
    """The filter of every read, update and delete sent to the vector documents."""

    def __init__(self) -> None:
        self.seen: list[Doc] = []

    def started(self, event: CommandStartedEvent) -> None:
        command = event.command
        if command.get(event.command_name) != COLLECTION:
            return
        if event.command_name == "find":
            self.seen.append(command.get("filter", {}))
        elif event.command_name in ("update", "delete"):
            self.seen += [statement["q"] for statement in command[f"{event.command_name}s"]]

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


def served(selector: Doc, ranges_by_index: bool) -> bool:
    """Whether the database serves ``selector`` without reading documents it does not return
    (beyond a whole space or dataset, which a first load or a deletion reads anyway)."""
    conditions = {key for key, value in selector.items()
                  if isinstance(value, dict) and any(str(op).startswith("$") for op in value)}
    equalities = set(selector) - conditions
    if equalities & set(EQUALITY_KEYS[COLLECTION]):
        return True
    return "dataset_id" in equalities and (not conditions or ranges_by_index)


def _bytes(*values: float) -> bytes:
    return np.asarray(values, dtype=np.float32).tobytes()


async def test_every_command_on_vectors_is_an_indexed_lookup_or_a_whole_space(settings: Settings) -> None:
    filters = Filters()
    client: AsyncMongoClient[Doc] = AsyncMongoClient(settings.mongodb_uri, event_listeners=[filters])
    try:
        storage = Storage(client[settings.database_name])
        await storage.prepare(paths=settings.storage_paths)
        repo = storage.vectors
        dataset_id, records = ObjectId(), [ObjectId() for _ in range(200)]
        await repo.write(dataset_id, "k", [(r, _bytes(i, 1), f"b{i % 4}") for i, r in enumerate(records)])
        assert len(await repo.since(dataset_id, "k", 0, 2, upto=200)) == 200  # a first load: the space
        newcomer = ObjectId()
        await repo.write(dataset_id, "k", [(records[5], _bytes(9, 9), "b1"), (newcomer, _bytes(3, 3), "b2")])
        caught_up = await repo.since(dataset_id, "k", 200, 2, upto=202, held=200)
        assert {(s.record_id, s.values, s.seq) for s in caught_up} == {
            (records[5], _bytes(9, 9), 201), (newcomer, _bytes(3, 3), 202)}
        assert await repo.of_record(records[5], "k") == _bytes(9, 9)
        assert set(await repo.of_buckets(["b2"], 2)) == {*records[2::4], newcomer}
        await repo.delete_of_records(dataset_id, records[:3], ["k"])
        assert await repo.of_record(records[0], "k") is None
        unserved = [f for f in filters.seen if not served(f, storage.paths.ranges_by_index)]
        assert unserved == [], f"read or written without an index on {storage.paths.server}'s paths"
    finally:
        await client.close()

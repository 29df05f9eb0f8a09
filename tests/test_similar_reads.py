"""What a ``similarRecords`` search reads from the database: an unfiltered top-k looks up only
the records it returns; a filtered one reads on until ``first`` match."""

from __future__ import annotations

from typing import Any

import numpy as np
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from feedbackql_server.domain import similar
from feedbackql_server.domain.vector_index import VectorIndexes
from feedbackql_server.domain.vectors import spaces_of
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage
from feedbackql_server.storage.records import MetadataCondition, RecordQuery
from tests.conftest import GraphQLClient
from tests.helpers import add_records, sft_dataset

ADD_SPACE = """mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "emb", dimension: 4}) { name } }"""


class RecordReads(CommandListener):
    def __init__(self) -> None:
        self.count = 0

    def started(self, event: CommandStartedEvent) -> None:
        self.count += event.command_name == "find" and event.command.get("find") == "records"

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


async def test_an_unfiltered_search_looks_up_only_the_records_it_returns(gql: GraphQLClient,
                                                                         settings: Settings) -> None:
    dataset_id = await sft_dataset(gql, metadataProperties=[{"name": "group", "kind": "INTEGER"}])
    await gql(ADD_SPACE, {"id": dataset_id})
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(100, 4)).astype(np.float32)
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                         "metadata": {"group": i % 10}, "vectors": {"emb": vectors[i].tolist()}}
                                        for i in range(100)])
    reads = RecordReads()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, event_listeners=[reads])
    try:
        storage = Storage(client[settings.database_name])
        dataset = await storage.datasets.get(ObjectId(dataset_id))
        assert dataset is not None
        index = await VectorIndexes().ready(storage, dataset["_id"], spaces_of(dataset)[0])
        query = vectors[0] + 0.01
        found = await similar.search(storage, index, RecordQuery(dataset["_id"]), query, 10, True, None)
        assert len(found.items) == 10
        assert reads.count == 10
        reads.count = 0
        group = RecordQuery(dataset["_id"], metadata=[MetadataCondition("group", values=[3])])
        filtered = await similar.search(storage, index, group, query, 5, True, None)
        assert [item.record["metadata"]["group"] for item in filtered.items] == [3] * 5
        assert reads.count > 10
    finally:
        await client.close()

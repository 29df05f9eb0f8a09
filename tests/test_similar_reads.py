"""What a ``similarRecords`` search reads from the database: an unfiltered top-k looks up only
the records it returns; one filtered by a key reads the key's matches once; another filtered
one reads on until ``first`` match."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.domain import similar
from feedbackql_server.domain.vector_index import SpaceIndex, VectorIndexes
from feedbackql_server.domain.vectors import spaces_of
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage
from feedbackql_server.storage.records import MetadataCondition, RecordQuery
from tests.conftest import GraphQLClient
from tests.helpers import SUBMIT, add_records, sft_dataset
from tests.record_reads import RecordReads

ADD_SPACE = """mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "emb", dimension: 4}) { name } }"""


@contextlib.asynccontextmanager
async def watched(settings: Settings, dataset_id: str) -> AsyncIterator[tuple[Storage, SpaceIndex, RecordReads]]:
    """The dataset's space loaded in this process, on a client that counts reads of records."""
    reads = RecordReads()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, event_listeners=[reads])
    try:
        storage = Storage(client[settings.database_name])
        dataset = await storage.datasets.get(ObjectId(dataset_id))
        assert dataset is not None
        index = await VectorIndexes().ready(storage, dataset["_id"], spaces_of(dataset)[0])
        reads.count = 0
        yield storage, index, reads
    finally:
        await client.close()


async def test_an_unfiltered_search_looks_up_only_the_records_it_returns(gql: GraphQLClient,
                                                                         settings: Settings) -> None:
    dataset_id = await sft_dataset(gql, metadataProperties=[{"name": "group", "kind": "INTEGER"}])
    await gql(ADD_SPACE, {"id": dataset_id})
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(100, 4)).astype(np.float32)
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                         "metadata": {"group": i % 10}, "vectors": {"emb": vectors[i].tolist()}}
                                        for i in range(100)])
    async with watched(settings, dataset_id) as (storage, index, reads):
        query = vectors[0] + 0.01
        found = await similar.search(storage, index, RecordQuery(ObjectId(dataset_id)), query, 10, True, None, 100)
        assert len(found.items) == 10
        assert reads.count == 10
        reads.count = 0
        group = RecordQuery(ObjectId(dataset_id), metadata=[MetadataCondition("group", values=[3])])
        filtered = await similar.search(storage, index, group, query, 5, True, None, 100)
        assert [item.record["metadata"]["group"] for item in filtered.items] == [3] * 5
        # The first step of the walk found few; then the value's key read its 10 matches at once,
        # and the best 5 were read.
        assert reads.count == similar.FIRST_BATCH + 1 + 5
        reads.count = 0
        pending = RecordQuery(ObjectId(dataset_id), statuses=["pending"])
        dense = await similar.search(storage, index, pending, query, 5, True, None, 100)
        assert [item.record["_id"] for item in dense.items] == [item.record["_id"] for item in found.items[:5]]
        assert reads.count == similar.FIRST_BATCH  # every record matches: the key's 100 are not read
        reads.count = 0
        ranged = RecordQuery(ObjectId(dataset_id), metadata=[MetadataCondition("group", ge=3, le=3)])
        banded = await similar.search(storage, index, ranged, query, 5, True, None, 100)
        assert [item.record["_id"] for item in banded.items] == [item.record["_id"] for item in filtered.items]
        assert reads.count == similar.FIRST_BATCH + 1 + 5  # the range's one band, read as the value's key
        reads.count = 0
        several = RecordQuery(ObjectId(dataset_id), metadata=[MetadataCondition("group", ge=2.5, le=5)])
        found_several = await similar.search(storage, index, several, query, 5, True, None, 100)
        within = np.flatnonzero(np.isin(np.arange(100) % 10, [3, 4, 5]))
        cosine = vectors[within] @ query / np.linalg.norm(vectors[within], axis=1)
        assert [item.record["external_id"] for item in found_several.items] == \
            [f"r{within[at]}" for at in np.argsort(-cosine)[:5]]
        reads.count = 0
        keyed = await storage.records.keyed_ids(await storage.records.banded(several), 100)
        assert reads.count == 3  # the bands of 3, of 4 and of 5 (in 2.5..5): one read each, by its key
        assert keyed is not None
        assert sorted(r["external_id"] for r in await storage.records.by_ids(list(keyed))) == \
            sorted(f"r{at}" for at in within.tolist())
        reads.count = 0
        beyond = RecordQuery(ObjectId(dataset_id), metadata=[MetadataCondition("group", ge=10)])
        assert (await similar.search(storage, index, beyond, query, 5, True, None, 100)).items == []
        assert reads.count == 0  # no record has a group of 10 or more: nothing is read


async def test_a_search_filtered_by_a_rare_word_reads_its_matches_not_the_candidates(gql: GraphQLClient,
                                                                                     settings: Settings) -> None:
    """The word index reads the few records with the word (as for a records page): they are
    ranked alone, not looked up one candidate at a time."""
    dataset_id = await sft_dataset(gql)
    await gql(ADD_SPACE, {"id": dataset_id})
    vectors = np.random.default_rng(7).normal(size=(100, 4)).astype(np.float32)
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "vectors": {"emb": vectors[i].tolist()},
                                         "fields": {"prompt": f"p{i} zebra" if i % 25 == 3 else f"p{i}"}}
                                        for i in range(100)])
    async with watched(settings, dataset_id) as (storage, index, reads):
        query = vectors[50]
        with_word = RecordQuery(ObjectId(dataset_id), words=["zebra"])
        found = await similar.search(storage, index, with_word, query, 3, True, None, 100)
        having = [3, 28, 53, 78]
        cosine = vectors[having] @ query / np.linalg.norm(vectors[having], axis=1)
        assert [item.record["external_id"] for item in found.items] == \
            [f"r{having[at]}" for at in np.argsort(-cosine)[:3]]
        assert found.exact
        # The word's probe, its records, then the 3 best: not a lookup per candidate (64 were).
        assert reads.count <= 5
        best = found.items[0].record["_id"]
        near_best = await similar.search(storage, index, with_word, index.matrix[index.position[best]], 3, True, best, 100)
        assert best not in {item.record["_id"] for item in near_best.items}  # the record searched near
        assert len(near_best.items) == 3


async def test_a_search_among_my_answers_reads_them_not_the_candidates(gql: GraphQLClient, settings: Settings) -> None:
    """The caller's own responses name the records ``myResponseStatus`` can match: ranked alone."""
    dataset_id = await sft_dataset(gql)
    await gql(ADD_SPACE, {"id": dataset_id})
    vectors = np.random.default_rng(9).normal(size=(100, 4)).astype(np.float32)
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                         "vectors": {"emb": vectors[i].tolist()}} for i in range(100)])
    page = await gql("query($id: ID!) { records(datasetId: $id, first: 100) { edges { node { id externalId } } } }",
                     {"id": dataset_id})
    ids = {edge["node"]["externalId"]: edge["node"]["id"] for edge in page["records"]["edges"]}
    answered = [5, 40, 77]
    for number in answered:
        await gql(SUBMIT, {"input": {"recordId": ids[f"r{number}"], "status": "SUBMITTED",
                                     "values": [{"question": "completion", "value": {"text": "ok"}}]}})
    me = (await gql("{ me { id } }"))["me"]["id"]
    async with watched(settings, dataset_id) as (storage, index, reads):
        mine = RecordQuery(ObjectId(dataset_id), answered_as=(("submitted",), me))
        found = await similar.search(storage, index, mine, vectors[0], 2, True, None, 100)
        cosine = vectors[answered] @ vectors[0] / np.linalg.norm(vectors[answered], axis=1)
        assert [item.record["external_id"] for item in found.items] == \
            [f"r{answered[at]}" for at in np.argsort(-cosine)[:2]]
        assert reads.count <= 2  # the 2 best (the responses are read by user): not ~32 candidates

"""The record export's vectors: read a bucket of records at a time (not one read per record),
and written in JSON Lines and CSV as the shortest numbers that read back to their float32."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import numpy as np
import pyarrow.parquet as pq
from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.export.rows import record_rows
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from feedbackql_server.storage import Storage
from tests.conftest import GraphQLClient, serve
from tests.helpers import add_records, sft_dataset
from tests.test_vector_writes import Commands
from tests.test_vectors import ADD_SPACE, SET_VECTORS

EDGES = [0.1, -1 / 3, 1e-7, -0.0, 3.0, 1e38, 1e-45, 16777216.0, 2.5e-5]
SHORTEST = "[0.1,-0.33333334,1e-7,-0.0,3.0,1e+38,1e-45,16777216.0,0.000025]"


async def _with_space(gql: GraphQLClient, dimension: int) -> str:
    dataset_id = await sft_dataset(gql)
    await gql(ADD_SPACE, {"id": dataset_id, "space": {"name": "emb", "dimension": dimension, "metric": "DOT"}})
    return dataset_id


async def _export(gql: GraphQLClient, dataset_id: str, file_format: str) -> str:
    response = await gql.http.get(f"/datasets/{dataset_id}/export", params={"format": file_format},
                                  headers={"Authorization": f"Bearer {gql.api_key}"})
    assert response.status_code == 200, response.text
    return response.text


def _bits(values: list[float]) -> bytes:
    return np.asarray(values, dtype=np.float64).astype(np.float32).tobytes()


async def test_vectors_are_written_as_the_shortest_numbers_that_read_back(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, len(EDGES))
    added = await add_records(gql, dataset_id, [{"externalId": "v", "fields": {"prompt": "v"}, "vectors": {"emb": EDGES}},
                                                {"externalId": "none", "fields": {"prompt": "none"}}])
    assert added["created"] == 2, added
    lines = {json.loads(line)["external_id"]: line for line in (await _export(gql, dataset_id, "jsonl")).splitlines()}
    assert f'"vectors":{{"emb":{SHORTEST}}}' in lines["v"]
    read = {name: json.loads(line)["vectors"]["emb"] for name, line in lines.items()}
    assert read["none"] is None
    assert _bits(read["v"]) == _bits(EDGES)
    assert all(isinstance(value, float) for value in read["v"])  # 3.0, not 3: a float column
    cells = {row["external_id"]: row["vectors"]
             for row in csv.DictReader(io.StringIO(await _export(gql, dataset_id, "csv")))}
    assert cells == {"v": f'{{"emb":{SHORTEST}}}', "none": '{"emb":null}'}


async def test_an_export_reads_vectors_a_bucket_at_a_time(gql: GraphQLClient, settings: Settings) -> None:
    """250 records are three buckets: three reads of vector documents, whatever the records'
    number; a vector set later (setRecordVectors) is found in its record's bucket too."""
    dataset_id = await _with_space(gql, 4)
    vectors = np.random.default_rng(3).normal(size=(250, 4)).astype(np.float32)
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                         "vectors": {"emb": vectors[i].tolist()} if i % 5 else {}}
                                        for i in range(250)])
    first = json.loads((await _export(gql, dataset_id, "jsonl")).splitlines()[0])
    vectors[0] = [1.5, 2.5, 3.5, 4.5]
    assert (await gql(SET_VECTORS, {"id": dataset_id, "records": [
        {"recordId": first["id"], "vectors": {"emb": vectors[0].tolist()}}]}))["setRecordVectors"]["refused"] == 0
    commands = Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri, event_listeners=[commands])
    try:
        storage = Storage(client[settings.database_name])
        dataset = await storage.datasets.get(ObjectId(dataset_id))
        assert dataset is not None
        rows = [row async for row in record_rows(storage, dataset)]
    finally:
        await client.close()
    assert commands.names.count("find") == 3
    assert [None if row["vectors"]["emb"] is None else row["vectors"]["emb"].tobytes() for row in rows] == [
        vector.tobytes() if i == 0 or i % 5 else None for i, vector in enumerate(vectors)]


async def test_vectors_stored_before_layout_8_get_their_record_bucket(settings: Settings,
                                                                      builtin_registry: KindRegistry) -> None:
    """Vector documents written before they kept their record's bucket get it at start-up,
    and the export (which reads them by bucket) has them."""
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await _with_space(gql, 2)
        await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                             "vectors": {"emb": [i, 0.5]}} for i in range(3)])
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    db = client[settings.database_name]
    try:
        for doc in await db["record_vectors"].find({}, {"_id": 1}).to_list():
            await db["record_vectors"].update_one({"_id": doc["_id"]}, {"$unset": {"bucket": ""}})
        await db["meta"].update_one({"_id": "layout"}, {"$set": {"version": 6}})
        async with serve(settings, builtin_registry) as gql:
            rows = [json.loads(line) for line in (await _export(gql, dataset_id, "jsonl")).splitlines()]
        buckets = {doc["_id"]: doc["bucket"] for doc in await db["records"].find({}, {"bucket": 1}).to_list()}
        stored = await db["record_vectors"].find({}, {"record_id": 1, "bucket": 1}).to_list()
    finally:
        await client.close()
    assert [row["vectors"] for row in rows] == [{"emb": [float(i), 0.5]} for i in range(3)]
    assert len(stored) == 3
    assert all(doc.get("bucket") == buckets[doc["record_id"]] for doc in stored)


async def test_parquet_keeps_dictionary_encoding_off_the_vectors(gql: GraphQLClient) -> None:
    """Embedding values seldom repeat: a dictionary of them costs time and grows the file.
    The other columns keep theirs."""
    dataset_id = await _with_space(gql, 8)
    vectors = np.random.default_rng(4).normal(size=(20, 8)).astype(np.float32)
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": "same"},
                                         "vectors": {"emb": vectors[i].tolist()}} for i in range(20)])
    response = await gql.http.get(f"/datasets/{dataset_id}/export", params={"format": "parquet"},
                                  headers={"Authorization": f"Bearer {gql.api_key}"})
    metadata = pq.read_metadata(io.BytesIO(response.content))
    columns = {metadata.schema.column(i).path: metadata.row_group(0).column(i).encodings
               for i in range(metadata.num_columns)}
    assert not any("DICTIONARY" in encoding for encoding in columns["vectors.emb.list.element"])
    assert any("DICTIONARY" in encoding for encoding in columns["fields"])
    exported = pq.read_table(io.BytesIO(response.content)).to_pylist()
    assert {row["external_id"]: _bits(row["vectors"]["emb"]) for row in exported} == {
        f"r{i}": vectors[i].tobytes() for i in range(20)}

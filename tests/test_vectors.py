"""Vector spaces, record vectors and ``similarRecords`` against the real server and database:
per-record checks, the filter before the top-k (checked against a brute-force ranking),
visibility, vectors changed later, an index that follows writes it did not make."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from bson import Binary, ObjectId
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from feedbackql_server.settings import Settings
from feedbackql_server.storage.vectors import VectorRepo
from tests.conftest import GraphQLClient, serve
from tests.helpers import ADD_RECORDS, RECORDS, SUBMIT, add_records, new_user, sft_dataset, workspace_of

ADD_SPACE = """mutation($id: ID!, $space: VectorSpaceInput!) {
  addVectorSpace(datasetId: $id, space: $space) { name dimension metric } }"""
REMOVE_SPACE = "mutation($id: ID!, $name: String!) { removeVectorSpace(datasetId: $id, name: $name) { name } }"
SET_VECTORS = """mutation($id: ID!, $records: [RecordVectorsInput!]!) {
  setRecordVectors(datasetId: $id, records: $records) { updated refused errors { index code message } } }"""
SIMILAR = """query($id: ID!, $space: String!, $near: NearInput!, $first: Int!, $filter: RecordFilter,
                  $order: SimilarityOrder) {
  similarRecords(datasetId: $id, space: $space, near: $near, first: $first, filter: $filter, order: $order) {
    exact searched items { score record { id externalId metadata } } } }"""
ADD_RECORDS_WITH_ERRORS = """mutation($id: ID!, $records: [RecordInput!]!) {
  addRecords(datasetId: $id, records: $records) { created errors { index code message problems } } }"""


async def _with_space(gql: GraphQLClient, dimension: int, metric: str = "COSINE", **dataset: Any) -> str:
    dataset_id = await sft_dataset(gql, **dataset)
    await gql(ADD_SPACE, {"id": dataset_id, "space": {"name": "emb", "dimension": dimension, "metric": metric}})
    return dataset_id


async def _similar(gql: GraphQLClient, dataset_id: str, near: dict[str, Any], first: int,
                   filter: dict[str, Any] | None = None, order: str = "MOST_SIMILAR") -> dict[str, Any]:
    data = await gql(SIMILAR, {"id": dataset_id, "space": "emb", "near": near, "first": first,
                               "filter": filter, "order": order})
    result: dict[str, Any] = data["similarRecords"]
    return result


def _cosine_ranking(vectors: dict[str, np.ndarray[Any, Any]], query: np.ndarray[Any, Any],
                    among: set[str]) -> list[tuple[str, float]]:
    unit = query / np.linalg.norm(query)
    scores = {key: float(vector @ unit / np.linalg.norm(vector)) for key, vector in vectors.items() if key in among}
    return sorted(scores.items(), key=lambda item: -item[1])


async def test_each_vector_is_checked_with_its_record_alone(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 3)
    records = [
        {"externalId": "good", "fields": {"prompt": "a"}, "vectors": {"emb": [1, 0, 0.5]}},
        {"externalId": "short", "fields": {"prompt": "b"}, "vectors": {"emb": [1, 0]}},
        {"externalId": "huge", "fields": {"prompt": "c"}, "vectors": {"emb": [1, 0, 1e39]}},
        {"externalId": "unknown", "fields": {"prompt": "d"}, "vectors": {"other": [1, 0, 0]}},
        {"externalId": "zero", "fields": {"prompt": "e"}, "vectors": {"emb": [0, 0, 0]}},
        {"externalId": "beyond-any-float", "fields": {"prompt": "f"}, "vectors": {"emb": [10**400, 0, 0]}},
        {"externalId": "yes", "fields": {"prompt": "g"}, "vectors": {"emb": [True, 1, 1]}},
        {"externalId": "text", "fields": {"prompt": "h"}, "vectors": {"emb": ["1", 1, 1]}},
    ]
    result = (await gql(ADD_RECORDS_WITH_ERRORS, {"id": dataset_id, "records": records}))["addRecords"]
    assert result["created"] == 1
    assert [(e["index"], e["code"]) for e in result["errors"]] == [(i, "VALIDATION") for i in range(1, 8)]
    assert "finite" in result["errors"][4]["message"]
    assert "dimension 3" in result["errors"][0]["message"]
    assert "finite" in result["errors"][1]["message"]
    assert "no vector space 'other'" in result["errors"][2]["message"]
    # NaN is not JSON, but Python's parser (and so the server's) takes it: refused all the same.
    body = json.dumps({"query": ADD_RECORDS_WITH_ERRORS, "variables": {"id": dataset_id, "records": [
        {"fields": {"prompt": "n"}, "vectors": {"emb": [float("nan"), 1, 1]}}]}})
    response = await gql.http.post("/graphql", content=body, headers={
        "Authorization": f"Bearer {gql.api_key}", "Content-Type": "application/json"})
    added = response.json()["data"]["addRecords"]
    assert added["created"] == 0
    assert added["errors"][0]["code"] == "VALIDATION"
    assert "finite" in added["errors"][0]["message"]
    found = await _similar(gql, dataset_id, {"vector": [1, 0, 0]}, 10)
    assert [item["record"]["externalId"] for item in found["items"]] == ["good"]
    error = await gql.error(SIMILAR, {"id": dataset_id, "space": "emb", "near": {"vector": [1, 2]}, "first": 5})
    assert error["extensions"]["code"] == "VALIDATION"


async def test_a_filter_applies_before_the_top_k(gql: GraphQLClient) -> None:
    """300 records, a filter that keeps 1%: still ``first`` results, all matching, the same a
    brute-force ranking of the matching records gives."""
    dataset_id = await _with_space(gql, 8, metadataProperties=[
        {"name": "group", "kind": "INTEGER"}])
    rng = np.random.default_rng(7)
    vectors = {f"r{i}": rng.normal(size=8).astype(np.float32) for i in range(300)}
    groups = {f"r{i}": i % 100 for i in range(300)}
    for start in range(0, 300, 100):
        chunk = [{"externalId": key, "fields": {"prompt": f"text {key}"}, "metadata": {"group": groups[key]},
                  "vectors": {"emb": [float(x) for x in vectors[key]]}} for key in list(vectors)[start:start + 100]]
        assert (await add_records(gql, dataset_id, chunk))["created"] == 100
    query = rng.normal(size=8).astype(np.float32)
    everything = await _similar(gql, dataset_id, {"vector": [float(x) for x in query]}, 10)
    expected = _cosine_ranking(vectors, query, set(vectors))[:10]
    assert [i["record"]["externalId"] for i in everything["items"]] == [key for key, _ in expected]
    assert np.allclose([i["score"] for i in everything["items"]], [s for _, s in expected], atol=1e-5)
    assert everything["exact"] is True
    assert everything["searched"] == 300
    one_percent = {"metadata": [{"name": "group", "values": [7]}]}
    filtered = await _similar(gql, dataset_id, {"vector": [float(x) for x in query]}, 3, one_percent)
    matching = {key for key, group in groups.items() if group == 7}
    assert [i["record"]["externalId"] for i in filtered["items"]] == [
        key for key, _ in _cosine_ranking(vectors, query, matching)]
    least = await _similar(gql, dataset_id, {"vector": [float(x) for x in query]}, 5, order="LEAST_SIMILAR")
    assert [i["record"]["externalId"] for i in least["items"]] == [
        key for key, _ in _cosine_ranking(vectors, query, set(vectors))[::-1][:5]]


async def test_near_a_record_leaves_it_out_and_follows_the_status_filter(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 2, "L2")
    points = {f"p{i}": [float(i), 0.0] for i in range(6)}
    await add_records(gql, dataset_id, [{"externalId": k, "fields": {"prompt": k}, "vectors": {"emb": v}}
                                        for k, v in points.items()])
    ids = await _ids(gql, dataset_id)
    found = await _similar(gql, dataset_id, {"recordId": ids["p2"]}, 3)
    assert [i["record"]["externalId"] for i in found["items"]][:1] in (["p1"], ["p3"])
    assert {i["record"]["externalId"] for i in found["items"]} <= {"p1", "p3", "p0", "p4"}
    assert [i["score"] for i in found["items"]] == [1.0, 1.0, 2.0]
    await gql(SUBMIT, {"input": {"recordId": ids["p3"], "status": "SUBMITTED",
                                 "values": [{"question": "completion", "value": {"text": "ok"}}]}})
    done = await _similar(gql, dataset_id, {"recordId": ids["p2"]}, 3, {"status": "COMPLETED"})
    assert [i["record"]["externalId"] for i in done["items"]] == ["p3"]
    mine = await _similar(gql, dataset_id, {"recordId": ids["p2"]}, 5, {"myResponseStatus": ["SUBMITTED"]})
    assert [i["record"]["externalId"] for i in mine["items"]] == ["p3"]


async def _ids(gql: GraphQLClient, dataset_id: str) -> dict[str, str]:
    data = await gql("query($id: ID!) { records(datasetId: $id, first: 1000) { edges { node { id externalId } } } }",
                     {"id": dataset_id})
    return {edge["node"]["externalId"]: edge["node"]["id"] for edge in data["records"]["edges"]}


async def test_vectors_set_later_leave_fields_and_answers_alone(gql: GraphQLClient) -> None:
    dataset_id = await sft_dataset(gql)  # published, no space yet
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}} for i in range(3)])
    ids = await _ids(gql, dataset_id)
    await gql(SUBMIT, {"input": {"recordId": ids["r0"], "status": "SUBMITTED",
                                 "values": [{"question": "completion", "value": {"text": "kept"}}]}})
    await gql(ADD_SPACE, {"id": dataset_id, "space": {"name": "emb", "dimension": 2}})
    result = (await gql(SET_VECTORS, {"id": dataset_id, "records": [
        {"recordId": ids["r0"], "vectors": {"emb": [1, 0]}},
        {"recordId": ids["r1"], "vectors": {"emb": [0, 1]}},
        {"recordId": ids["r2"], "vectors": {"emb": [1, 2, 3]}},
        {"recordId": "not-an-id", "vectors": {"emb": [1, 1]}},
    ]}))["setRecordVectors"]
    assert (result["updated"], result["refused"]) == (2, 2)
    assert [(e["index"], e["code"]) for e in result["errors"]] == [(2, "VALIDATION"), (3, "NOT_FOUND")]
    first = await _similar(gql, dataset_id, {"vector": [1, 0.1]}, 1)
    assert first["items"][0]["record"]["externalId"] == "r0"
    await gql(SET_VECTORS, {"id": dataset_id, "records": [{"recordId": ids["r0"], "vectors": {"emb": [0, 1]}},
                                                          {"recordId": ids["r1"], "vectors": {"emb": [1, 0]}}]})
    moved = await _similar(gql, dataset_id, {"vector": [1, 0.1]}, 1)
    assert moved["items"][0]["record"]["externalId"] == "r1"
    record = await gql("query($id: ID!) { record(id: $id) { fields status responses { values { question } } } }",
                       {"id": ids["r0"]})
    assert record["record"]["fields"] == {"prompt": "p0"}
    assert record["record"]["status"] == "COMPLETED"
    assert len(record["record"]["responses"]) == 1
    await gql(REMOVE_SPACE, {"id": dataset_id, "name": "emb"})
    gone = await gql.error(SIMILAR, {"id": dataset_id, "space": "emb", "near": {"vector": [1, 0]}, "first": 1})
    assert gone["extensions"]["code"] == "VALIDATION"
    await gql(ADD_SPACE, {"id": dataset_id, "space": {"name": "emb", "dimension": 3}})
    assert (await _similar(gql, dataset_id, {"vector": [1, 0, 0]}, 5))["items"] == []


async def test_annotators_see_only_what_they_may(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 2, metadataProperties=[
        {"name": "secret", "kind": "TERMS", "visibleForAnnotators": False}])
    await add_records(gql, dataset_id, [
        {"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}, "metadata": {"secret": "ab"[i % 2]},
         "vectors": {"emb": [1.0, float(i)]}} for i in range(4)])
    workspace_id = await workspace_of(gql, dataset_id)
    outsider = await new_user(gql, "outsider")
    member = await new_user(gql, "member", workspaces=[workspace_id])
    error = await outsider.error(SIMILAR, {"id": dataset_id, "space": "emb", "near": {"vector": [1, 0]},
                                           "first": 2})
    assert error["extensions"]["code"] == "NOT_FOUND"
    seen = await _similar(member, dataset_id, {"vector": [1, 0]}, 4)
    assert len(seen["items"]) == 4
    assert all("secret" not in item["record"]["metadata"] for item in seen["items"])
    hidden = await _similar(member, dataset_id, {"vector": [1, 0]}, 4,
                            {"metadata": [{"name": "secret", "values": ["a"]}]})
    assert hidden["items"] == []
    denied = await member.error(ADD_SPACE, {"id": dataset_id, "space": {"name": "x", "dimension": 2}})
    assert denied["extensions"]["code"] in ("FORBIDDEN", "NOT_FOUND")


@dataclass
class Straight:
    """Records ``a`` [1, 0] and ``b`` [0, 1] in a space ``emb``, and the database under the
    service, for writes made straight into it (as another replica would)."""

    dataset_id: str
    ids: dict[str, str]
    db: AsyncDatabase[dict[str, Any]]
    dataset: ObjectId
    key: str

    async def take_number(self) -> int:
        taken = await self.db["vector_seqs"].find_one_and_update({"_id": self.dataset}, {"$inc": {"seq": 1}},
                                                                 return_document=True)
        assert taken is not None
        return int(taken["seq"])

    async def land(self, record: str, vector: list[float], seq: int) -> None:
        await self.db["record_vectors"].update_one(
            {"_id": f"{self.ids[record]}:{self.key}"},
            {"$set": {"v": Binary(np.asarray(vector, dtype=np.float32).tobytes()), "seq": seq}})


@contextlib.asynccontextmanager
async def _straight(gql: GraphQLClient, settings: Settings) -> AsyncIterator[Straight]:
    dataset_id = await _with_space(gql, 2)
    await add_records(gql, dataset_id, [{"externalId": "a", "fields": {"prompt": "a"}, "vectors": {"emb": [1, 0]}},
                                        {"externalId": "b", "fields": {"prompt": "b"}, "vectors": {"emb": [0, 1]}}])
    ids = await _ids(gql, dataset_id)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        db = client[settings.database_name]
        dataset_doc = await db["datasets"].find_one({})
        assert dataset_doc is not None
        yield Straight(dataset_id, ids, db, dataset_doc["_id"], dataset_doc["vector_spaces"][0]["key"])
    finally:
        await client.close()


async def _nearest(gql: GraphQLClient, dataset_id: str) -> list[str]:
    found = await _similar(gql, dataset_id, {"vector": [1, 0.5]}, 2)
    return [item["record"]["externalId"] for item in found["items"]]


async def test_the_index_follows_writes_it_did_not_make(gql: GraphQLClient, settings: Settings) -> None:
    """Another replica (here: a write straight into the database, taking a sequence number
    the way every write does) is seen by the next search."""
    async with _straight(gql, settings) as straight:
        assert await _nearest(gql, straight.dataset_id) == ["a", "b"]
        await straight.land("b", [1, 0.5], await straight.take_number())
    assert await _nearest(gql, straight.dataset_id) == ["b", "a"]


async def test_a_write_in_flight_during_the_first_load_is_not_missed(gql: GraphQLClient, settings: Settings) -> None:
    """Another replica (the service's own storage code, on the same database) takes its
    sequence number, then its documents land only after this process's first load of the
    space read everything: the next search has the vector all the same."""
    reserved, landing = asyncio.Event(), asyncio.Event()

    class SlowReplica(VectorRepo):
        async def _land(self, *args: Any) -> None:
            reserved.set()
            await landing.wait()
            await super()._land(*args)

    async with _straight(gql, settings) as straight:
        dead = {"from": 0, "token": ObjectId(), "at": datetime(2020, 1, 1, tzinfo=UTC)}  # a writer that died
        await straight.db["vector_seqs"].update_one({"_id": straight.dataset}, {"$push": {"pending": dead}})
        moved = np.asarray([1, 0.5], dtype=np.float32).tobytes()
        writing = asyncio.create_task(SlowReplica(straight.db).write(
            straight.dataset, straight.key, [(ObjectId(straight.ids["b"]), moved, "bucket")]))
        await asyncio.wait_for(reserved.wait(), 10)
        # A later write lands first: the one on its way is not the highest number found.
        await gql(SET_VECTORS, {"id": straight.dataset_id, "records": [
            {"recordId": straight.ids["a"], "vectors": {"emb": [1, 0]}}]})
        assert await _nearest(gql, straight.dataset_id) == ["a", "b"]  # the first load: b is still [0, 1]
        landing.set()
        await writing
        sequence = await straight.db["vector_seqs"].find_one({"_id": straight.dataset})
        assert sequence is not None
        assert sequence["pending"] == []  # its own entry and the dead one are gone
    for _ in range(2):  # no other write moves the sequence: the search after the landing sees it
        assert await _nearest(gql, straight.dataset_id) == ["b", "a"]


async def test_a_direct_write_landing_after_the_first_load_is_not_missed(
    gql: GraphQLClient, settings: Settings,
) -> None:
    """A write straight into the database that only takes its number (no pending entry) and
    lands after this process's first load of the space: the next search has it."""
    async with _straight(gql, settings) as straight:
        taken = await straight.take_number()
        assert await _nearest(gql, straight.dataset_id) == ["a", "b"]  # the first load, before it lands
        await straight.land("b", [1, 0.5], taken)
    assert await _nearest(gql, straight.dataset_id) == ["b", "a"]


async def test_concurrent_vector_updates_while_searching(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 4)
    rng = random.Random(3)
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                         "vectors": {"emb": [rng.uniform(-1, 1) for _ in range(4)]}}
                                        for i in range(40)])
    ids = await _ids(gql, dataset_id)
    final: dict[str, np.ndarray[Any, Any]] = {}

    async def update(round_number: int) -> None:
        keys = rng.sample(sorted(ids), 10)
        batch = {key: [rng.uniform(-1, 1) for _ in range(4)] for key in keys}
        await gql(SET_VECTORS, {"id": dataset_id, "records": [
            {"recordId": ids[key], "vectors": {"emb": vector}} for key, vector in batch.items()]})

    async def search() -> None:
        found = await _similar(gql, dataset_id, {"vector": [1, 1, 1, 1]}, 5)
        assert len(found["items"]) == 5

    await asyncio.gather(*(update(n) for n in range(6)), *(search() for _ in range(6)))
    client_records = await gql("query($id: ID!) { records(datasetId: $id, first: 100) { edges { node { id } } } }",
                               {"id": dataset_id})
    assert len(client_records["records"]["edges"]) == 40
    # The last vectors written are what a search ranks by, whichever request wrote them.
    written = {key: [rng.uniform(-1, 1) for _ in range(4)] for key in ids}
    await gql(SET_VECTORS, {"id": dataset_id, "records": [
        {"recordId": ids[key], "vectors": {"emb": vector}} for key, vector in written.items()]})
    final = {key: np.asarray(vector, dtype=np.float32) for key, vector in written.items()}
    query = np.asarray([1, 1, 1, 1], dtype=np.float32)
    found = await _similar(gql, dataset_id, {"vector": [1, 1, 1, 1]}, 10)
    assert [i["record"]["externalId"] for i in found["items"]] == [
        key for key, _ in _cosine_ranking(final, query, set(final))[:10]]


__all__ = ["ADD_RECORDS"]


async def _search_until_approximate(gql: GraphQLClient, dataset_id: str, vector: list[float]) -> dict[str, Any]:
    """The approximate index is built in the background: searches answer exactly meanwhile."""
    for _ in range(200):
        found = await _similar(gql, dataset_id, {"vector": vector}, 10)
        if not found["exact"]:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the approximate index was never used")


async def test_the_approximate_index_is_saved_and_rebuilt_when_missing_or_damaged(
        settings: Settings, builtin_registry: Any, tmp_path: Any) -> None:
    folder = tmp_path / "vectors"
    settings = settings.model_copy(update={"vector_index_dir": folder, "vector_approximate_min": 50})
    rng = np.random.default_rng(11)
    vectors = {f"r{i}": rng.normal(size=16).astype(np.float32) for i in range(200)}
    query = [float(x) for x in rng.normal(size=16)]
    expected = [key for key, _ in _cosine_ranking(vectors, np.asarray(query), set(vectors))[:10]]
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await _with_space(gql, 16)
        await add_records(gql, dataset_id, [{"externalId": k, "fields": {"prompt": k},
                                             "vectors": {"emb": [float(x) for x in v]}} for k, v in vectors.items()])
        found = await _search_until_approximate(gql, dataset_id, query)
        assert len(set(expected) & {i["record"]["externalId"] for i in found["items"]}) >= 9
    (saved,) = list(folder.iterdir())
    assert sorted(path.name for path in saved.iterdir()) == ["ids.bin", "index", "meta.json", "rows.npy"]
    async with serve(settings, builtin_registry) as gql:  # restarted: the saved index answers at once
        first = await _similar(gql, dataset_id, {"vector": query}, 10)
        assert first["exact"] is False
        assert first["searched"] == 200
        filtered = await _similar(gql, dataset_id, {"vector": query}, 3, {"externalIds": ["r1", "r2", "r3"]})
        assert sorted(i["record"]["externalId"] for i in filtered["items"]) == ["r1", "r2", "r3"]
    (saved / "index").write_bytes((saved / "index").read_bytes()[:1000])  # a save cut short
    async with serve(settings, builtin_registry) as gql:
        first = await _similar(gql, dataset_id, {"vector": query}, 10)
        assert first["exact"] is True  # read again from the database, the index being rebuilt
        assert [i["record"]["externalId"] for i in first["items"]] == expected
        await _search_until_approximate(gql, dataset_id, query)
    rows = np.load(saved / "rows.npy")
    np.save(saved / "rows.npy", rows[::-1])  # changed in place: the same size, the rows in another order
    async with serve(settings, builtin_registry) as gql:
        first = await _similar(gql, dataset_id, {"vector": query}, 10)
        assert first["exact"] is True  # not used: its CRC-32 is not the one saved
        assert [i["record"]["externalId"] for i in first["items"]] == expected
    for path in saved.iterdir():
        path.unlink()
    async with serve(settings, builtin_registry) as gql:
        first = await _similar(gql, dataset_id, {"vector": query}, 10)
        assert first["exact"] is True
        assert [i["record"]["externalId"] for i in first["items"]] == expected
        filtered = await _similar(gql, dataset_id, {"vector": query}, 3, {"externalIds": ["r1", "r2", "r3"]})
        assert sorted(i["record"]["externalId"] for i in filtered["items"]) == ["r1", "r2", "r3"]


async def test_json_lines_uploads_carry_vectors(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 2)
    lines = [{"externalId": "a", "fields": {"prompt": "a"}, "vectors": {"emb": [1, 0]}},
             {"externalId": "b", "fields": {"prompt": "b"}, "vectors": {"emb": [0, 1, 2]}},
             {"externalId": "c", "fields": {"prompt": "c"}, "vectors": {"emb": [0.9, 0.1]}}]
    body = b"\n".join(json.dumps(line).encode() for line in lines)
    response = await gql.http.post(f"/datasets/{dataset_id}/records", content=body, headers={
        "Content-Type": "application/x-ndjson", "Authorization": f"Bearer {gql.api_key}"})
    report = response.json()
    assert report["created"] == 2
    assert [(e["index"], e["code"]) for e in report["errors"]] == [(1, "VALIDATION")]
    found = await _similar(gql, dataset_id, {"vector": [1, 0]}, 5)
    assert [i["record"]["externalId"] for i in found["items"]] == ["a", "c"]


NEXT_NEAR = """mutation($id: ID!, $near: ID!, $first: Int!) {
  nextRecords(datasetId: $id, first: $first, near: $near) { id externalId myLeaseExpiresAt } }"""
NEAR_DUPLICATES = """query($id: ID!, $threshold: Float!, $first: Int!, $after: String) {
  nearDuplicates(datasetId: $id, space: "emb", threshold: $threshold, first: $first, after: $after) {
    exact hasNextPage endCursor pairs { score first { externalId } second { externalId } } } }"""


async def test_next_records_near_a_record_hands_out_its_nearest_pending_ones(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 2, "L2")
    await add_records(gql, dataset_id, [{"externalId": f"p{i}", "fields": {"prompt": f"p{i}"},
                                         "vectors": {"emb": [float(i), 0.0]}} for i in range(10)])
    ids = await _ids(gql, dataset_id)
    workspace_id = await workspace_of(gql, dataset_id)
    labeler = await new_user(gql, "labeler", workspaces=[workspace_id])
    other = await new_user(gql, "other", workspaces=[workspace_id])
    await labeler(SUBMIT, {"input": {"recordId": ids["p6"], "status": "SUBMITTED",
                                     "values": [{"question": "completion", "value": {"text": "done"}}]}})
    given = (await labeler(NEXT_NEAR, {"id": dataset_id, "near": ids["p6"], "first": 2}))["nextRecords"]
    assert sorted(r["externalId"] for r in given) == ["p5", "p7"]
    assert all(r["myLeaseExpiresAt"] for r in given)
    # Leased: the next labeler near the same record gets the next nearest ones.
    theirs = (await other(NEXT_NEAR, {"id": dataset_id, "near": ids["p6"], "first": 2}))["nextRecords"]
    assert {r["externalId"] for r in theirs} & {"p5", "p7"} == set()
    assert {r["externalId"] for r in theirs} <= {"p4", "p8", "p6"}


async def test_near_duplicates_come_once_a_page_at_a_time(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 3)
    base = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    records = []
    for i, vector in enumerate(base):
        records.append({"externalId": f"o{i}", "fields": {"prompt": f"o{i}"}, "vectors": {"emb": vector}})
        records.append({"externalId": f"d{i}", "fields": {"prompt": f"d{i}"},
                        "vectors": {"emb": [x + 0.01 for x in vector]}})
    await add_records(gql, dataset_id, records)
    pairs: list[tuple[str, str]] = []
    after = None
    for _ in range(10):
        page = (await gql(NEAR_DUPLICATES, {"id": dataset_id, "threshold": 0.99, "first": 1,
                                            "after": after}))["nearDuplicates"]
        assert page["exact"] is True
        pairs += [(p["first"]["externalId"], p["second"]["externalId"]) for p in page["pairs"]]
        assert all(p["score"] >= 0.99 for p in page["pairs"])
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert sorted(pairs) == [("o0", "d0"), ("o1", "d1"), ("o2", "d2")]
    bad = await gql.error(NEAR_DUPLICATES, {"id": dataset_id, "threshold": 0.9, "first": 1, "after": "junk"})
    assert bad["extensions"]["code"] == "VALIDATION"


async def test_deleted_records_take_their_vectors_with_them(gql: GraphQLClient, settings: Settings) -> None:
    """A deleted record's embedding does not stay in the database (a search and an export
    skipped it, but it was kept for good)."""
    dataset_id = await _with_space(gql, 2)
    await gql(ADD_SPACE, {"id": dataset_id, "space": {"name": "other", "dimension": 2, "metric": "COSINE"}})
    await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                         "vectors": {"emb": [1, i + 1], "other": [i + 1, 1]}} for i in range(4)])
    ids = {edge["node"]["externalId"]: edge["node"]["id"]
           for edge in (await gql(RECORDS, {"id": dataset_id, "first": 10}))["records"]["edges"]}
    await gql("mutation($d: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $d, ids: $ids) { deleted } }",
              {"d": dataset_id, "ids": [ids["r1"], ids["r3"]]})
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        stored = await client[settings.database_name]["record_vectors"].find(
            {"dataset_id": ObjectId(dataset_id)}, {"record_id": 1, "v": 1}).to_list()
    finally:
        await client.close()
    # The deleted records' documents stay as tombstones, without their values: every copy of
    # the space (this process's and other replicas') drops the rows at its next catch-up.
    assert sorted(str(doc["record_id"]) for doc in stored if doc["v"]) == sorted([ids["r0"]] * 2 + [ids["r2"]] * 2)
    assert sorted(str(doc["record_id"]) for doc in stored if not doc["v"]) == sorted([ids["r1"]] * 2 + [ids["r3"]] * 2)
    assert sorted(item["record"]["externalId"] for item in
                  (await _similar(gql, dataset_id, {"vector": [1, 2]}, 10))["items"]) == ["r0", "r2"]

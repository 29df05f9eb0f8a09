"""Vectors sent as base64 of their little-endian float32 bytes: checked and stored as lists
of numbers are (``domain/vectors.py``)."""

from __future__ import annotations

import base64

import numpy as np

from tests.conftest import GraphQLClient
from tests.helpers import sft_dataset

ADD_SPACE = """mutation($id: ID!, $space: VectorSpaceInput!) {
  addVectorSpace(datasetId: $id, space: $space) { name } }"""
ADD = """mutation($id: ID!, $records: [RecordInput!]!) {
  addRecords(datasetId: $id, records: $records) { created updated errors { index code message problems } } }"""
SET_VECTORS = """mutation($id: ID!, $records: [RecordVectorsInput!]!) {
  setRecordVectors(datasetId: $id, records: $records) { updated refused errors { index code message } } }"""
SIMILAR = """query($id: ID!, $near: NearInput!) {
  similarRecords(datasetId: $id, space: "emb", near: $near, first: 10) { items { score record { externalId } } } }"""


def _b64(*values: float, dtype: str = "<f4") -> str:
    return base64.b64encode(np.asarray(values, dtype=dtype).tobytes()).decode()


async def _with_space(gql: GraphQLClient, dimension: int) -> str:
    dataset_id = await sft_dataset(gql)
    await gql(ADD_SPACE, {"id": dataset_id, "space": {"name": "emb", "dimension": dimension}})
    return dataset_id


async def test_vectors_sent_as_base64_are_checked_and_stored_as_lists_are(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 3)
    records = [
        {"externalId": "list", "fields": {"prompt": "a"}, "vectors": {"emb": [1, 0, 0.5]}},
        {"externalId": "b64", "fields": {"prompt": "b"}, "vectors": {"emb": _b64(0.25, 1, -0.125)}},
        {"externalId": "short", "fields": {"prompt": "c"}, "vectors": {"emb": _b64(1, 0)}},
        {"externalId": "not-base64", "fields": {"prompt": "d"}, "vectors": {"emb": "a vector?"}},
        {"externalId": "nan", "fields": {"prompt": "e"}, "vectors": {"emb": _b64(1, float("nan"), 0)}},
        {"externalId": "inf", "fields": {"prompt": "f"}, "vectors": {"emb": _b64(1, 0, float("inf"))}},
        {"externalId": "zero", "fields": {"prompt": "g"}, "vectors": {"emb": _b64(0, 0, 0)}},
        {"externalId": "doubles", "fields": {"prompt": "h"}, "vectors": {"emb": _b64(1, 0, 0, dtype="<f8")}},
    ]
    result = (await gql(ADD, {"id": dataset_id, "records": records}))["addRecords"]
    assert result["created"] == 2
    errors = {e["index"]: e for e in result["errors"]}
    assert {index: e["code"] for index, e in errors.items()} == dict.fromkeys(range(2, 8), "VALIDATION")
    assert "dimension 3" in errors[2]["message"]
    assert "base64" in errors[3]["message"]
    assert errors[4]["problems"][0]["path"] == ["vectors", "emb", 1]
    assert errors[5]["problems"][0]["path"] == ["vectors", "emb", 2]
    assert "all-zero" in errors[6]["message"]
    assert "dimension 3" in errors[7]["message"]
    found = (await gql(SIMILAR, {"id": dataset_id, "near": {"vector": [0.25, 1, -0.125]}}))["similarRecords"]
    assert [item["record"]["externalId"] for item in found["items"]] == ["b64", "list"]
    assert abs(found["items"][0]["score"] - 1) < 1e-6


async def test_set_record_vectors_takes_base64(gql: GraphQLClient) -> None:
    dataset_id = await _with_space(gql, 2)
    await gql(ADD, {"id": dataset_id, "records": [{"externalId": "a", "fields": {"prompt": "a"}}]})
    found = await gql(SIMILAR, {"id": dataset_id, "near": {"vector": [1, 0]}})
    assert found["similarRecords"]["items"] == []
    records = (await gql("""query($id: ID!) { records(datasetId: $id, first: 1) { edges { node { id } } } }""",
                         {"id": dataset_id}))["records"]["edges"]
    set_ = await gql(SET_VECTORS, {"id": dataset_id, "records": [
        {"recordId": records[0]["node"]["id"], "vectors": {"emb": _b64(0, 2)}}]})
    assert set_["setRecordVectors"]["updated"] == 1
    found = await gql(SIMILAR, {"id": dataset_id, "near": {"vector": [0, 1]}})
    assert [round(item["score"], 6) for item in found["similarRecords"]["items"]] == [1.0]

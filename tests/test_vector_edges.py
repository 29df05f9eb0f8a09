"""Vectors at the edges an outside probe found: embeddings of over 1,000 values, magnitudes that
half precision or float32 arithmetic cannot hold, values float32 rounds to zero, and a page of
near-duplicates that one row of copies would overflow."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from feedbackql_plugins.usearch_index import UsearchIndex
from tests.conftest import GraphQLClient
from tests.helpers import RECORDS, add_records
from tests.test_vectors import ADD_RECORDS_WITH_ERRORS, NEAR_DUPLICATES, SET_VECTORS, _similar, _with_space


async def test_a_1536_value_embedding_is_added_and_searched_as_a_list(gql: GraphQLClient) -> None:
    """The variables' list limit (1,000 items) counts records, not a vector's values."""
    dataset_id = await _with_space(gql, 1536)
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3, 1536))
    added = await add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                                 "vectors": {"emb": vectors[i].tolist()}} for i in range(3)])
    assert added["created"] == 3, added
    found = await _similar(gql, dataset_id, {"vector": (vectors[1] + 0.01).tolist()}, 1)
    assert found["items"][0]["record"]["externalId"] == "r1"
    too_long = await gql.error(_SIMILAR_INLINE, {"id": dataset_id, "near": {"vector": [0.5] * 4097}})
    assert too_long["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


_SIMILAR_INLINE = """query($id: ID!, $near: NearInput!) {
  similarRecords(datasetId: $id, space: "emb", near: $near, first: 1) { items { score } } }"""


def test_dot_and_l2_spaces_keep_their_magnitudes_in_the_approximate_index() -> None:
    """Half precision holds at most 65,504 and nothing under 6e-8: a dot space of values around
    1e5 found a fifth of the exact top 10 with it."""
    rng = np.random.default_rng(2)
    for metric, scale in (("dot", 1e5), ("dot", 30.0), ("l2", 1e5), ("l2", 1e-6)):
        rows = (rng.normal(size=(2_000, 16)) * scale).astype(np.float32)
        index = UsearchIndex(16, metric)
        index.add(np.arange(len(rows), dtype=np.int64), rows)
        found = []
        for query in rows[:50] + np.float32(scale / 10):
            exact = rows @ query if metric == "dot" else -np.linalg.norm(rows - query, axis=1)
            truth = set(np.argsort(-exact)[:10].tolist())
            found.append(len(truth & set(index.search(query, 10).tolist())) / 10)
        assert np.mean(found) >= 0.9, (metric, scale, np.mean(found))


async def test_a_dot_product_beyond_float32_comes_back_as_a_number(gql: GraphQLClient) -> None:
    """Its float32 product overflowed to infinity, which GraphQL cannot send: no answer at all."""
    dot = await _with_space(gql, 4, "DOT")
    await add_records(gql, dot, [{"externalId": "huge", "fields": {"prompt": "h"}, "vectors": {"emb": [3e38] * 4}}])
    found = await _similar(gql, dot, {"vector": [3e38] * 4}, 1)
    assert found["items"][0]["score"] == _approx(3.6e77)


async def test_cosine_of_tiny_or_huge_vectors_and_values_float32_makes_zero(gql: GraphQLClient) -> None:
    """In float32 the norm of [1e-40, ...] underflowed to 0 and that of [3e38, ...] overflowed,
    so both scored about 0 against their own direction; [1e-46, ...] is all zeros in float32."""
    cosine = await _with_space(gql, 4)
    await add_records(gql, cosine, [
        {"externalId": "tiny", "fields": {"prompt": "t"}, "vectors": {"emb": [1e-40] * 4}},
        {"externalId": "huge", "fields": {"prompt": "h"}, "vectors": {"emb": [3e38] * 4}}])
    scores = {item["record"]["externalId"]: item["score"]
              for item in (await _similar(gql, cosine, {"vector": [1, 1, 1, 1]}, 2))["items"]}
    assert scores == {"tiny": _approx(1.0), "huge": _approx(1.0)}
    refused = (await gql(ADD_RECORDS_WITH_ERRORS, {"id": cosine, "records": [
        {"externalId": "zero", "fields": {"prompt": "z"}, "vectors": {"emb": [1e-46] * 4}}]}))["addRecords"]
    assert refused["created"] == 0
    assert "all-zero" in refused["errors"][0]["message"], refused


def _approx(value: float) -> Any:
    return pytest.approx(value, rel=1e-5)


async def test_a_near_duplicates_page_holds_at_most_first_pairs(gql: GraphQLClient) -> None:
    """Twelve copies make 66 pairs, eleven of them from the first row alone."""
    dataset_id = await _with_space(gql, 3)
    await add_records(gql, dataset_id, [{"externalId": f"c{i}", "fields": {"prompt": f"c{i}"},
                                         "vectors": {"emb": [1, 2, 3]}} for i in range(12)])
    pairs: list[tuple[str, str]] = []
    after = None
    for _ in range(40):
        page = (await gql(NEAR_DUPLICATES, {"id": dataset_id, "threshold": 0.99, "first": 4,
                                            "after": after}))["nearDuplicates"]
        assert len(page["pairs"]) <= 4
        pairs += [(p["first"]["externalId"], p["second"]["externalId"]) for p in page["pairs"]]
        if not page["hasNextPage"]:
            break
        after = page["endCursor"]
    assert len(pairs) == len(set(pairs)) == 66


async def test_set_record_vectors_names_an_unknown_record_not_found(gql: GraphQLClient) -> None:
    """As docs/vectors.md says; it was a ``VALIDATION``."""
    dataset_id = await _with_space(gql, 2)
    result = (await gql(SET_VECTORS, {"id": dataset_id, "records": [
        {"recordId": "6b13d4113dfcebc58a5506e8", "vectors": {"emb": [1, 2]}}]}))["setRecordVectors"]
    assert (result["updated"], result["refused"]) == (0, 1)
    assert result["errors"][0]["code"] == "NOT_FOUND", result


async def test_an_entry_without_vectors_and_a_space_without_near_are_refused(gql: GraphQLClient) -> None:
    """``vectors: {}`` was counted as updated, and ``nextRecords(space:)`` without ``near`` was
    taken and ignored, an unknown space included."""
    dataset_id = await _with_space(gql, 2)
    await add_records(gql, dataset_id, [{"externalId": "a", "fields": {"prompt": "a"}}])
    record_id = (await gql(RECORDS, {"id": dataset_id, "first": 1}))["records"]["edges"][0]["node"]["id"]
    result = (await gql(SET_VECTORS, {"id": dataset_id, "records": [
        {"recordId": record_id, "vectors": {}}]}))["setRecordVectors"]
    assert (result["updated"], result["refused"], result["errors"][0]["code"]) == (0, 1, "VALIDATION")
    refused = await gql.error('mutation($id: ID!) { nextRecords(datasetId: $id, space: "nope") { id } }',
                              {"id": dataset_id})
    assert refused["extensions"]["code"] == "VALIDATION"
    assert "near" in refused["message"]


async def test_near_duplicates_scores_beyond_float32_come_back_as_numbers(gql: GraphQLClient) -> None:
    """The pairs' scores were float32: a dot product beyond its range failed the whole query."""
    dataset_id = await _with_space(gql, 4, "DOT")
    await add_records(gql, dataset_id, [{"externalId": f"h{i}", "fields": {"prompt": "h"},
                                         "vectors": {"emb": [1e20] * 4}} for i in range(2)])
    page = (await gql(NEAR_DUPLICATES, {"id": dataset_id, "threshold": 0.0, "first": 5, "after": None}))
    assert [pair["score"] for pair in page["nearDuplicates"]["pairs"]] == [_approx(4e40)]


async def test_a_record_deleted_between_near_duplicate_pages_costs_no_other_pair(gql: GraphQLClient) -> None:
    """The cursor counted a row's pairs given: with one of them deleted, the next page skipped a
    live pair (an outside probe lost (w0, w4) after deleting w3)."""
    dataset_id = await _with_space(gql, 2)
    await add_records(gql, dataset_id, [{"externalId": f"w{i}", "fields": {"prompt": f"w{i}"},
                                         "vectors": {"emb": ([1, 1], [1, 0], [0, 1], [-1, 0])[max(0, i - 4)]}}
                                        for i in range(8)])
    ids = {edge["node"]["externalId"]: edge["node"]["id"]
           for edge in (await gql(RECORDS, {"id": dataset_id, "first": 8}))["records"]["edges"]}
    first = (await gql(NEAR_DUPLICATES, {"id": dataset_id, "threshold": 0.999, "first": 3, "after": None}))
    pairs = [(p["first"]["externalId"], p["second"]["externalId"]) for p in first["nearDuplicates"]["pairs"]]
    assert pairs == [("w0", "w1"), ("w0", "w2"), ("w0", "w3")]
    await gql("mutation($d: ID!, $ids: [ID!]!) { deleteRecords(datasetId: $d, ids: $ids) { deleted } }",
              {"d": dataset_id, "ids": [ids["w3"]]})
    after = first["nearDuplicates"]["endCursor"]
    while after is not None:
        page = (await gql(NEAR_DUPLICATES, {"id": dataset_id, "threshold": 0.999, "first": 3, "after": after}))
        pairs += [(p["first"]["externalId"], p["second"]["externalId"]) for p in page["nearDuplicates"]["pairs"]]
        after = page["nearDuplicates"]["endCursor"]
    assert sorted(pairs) == sorted([("w0", "w1"), ("w0", "w2"), ("w0", "w3"), ("w0", "w4"), ("w1", "w2"),
                                    ("w1", "w4"), ("w2", "w4")])

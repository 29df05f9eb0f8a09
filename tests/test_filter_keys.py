"""Filters by response status and by a metadata value pushed down as top-level equalities
(``storage/filter_keys.py``): the keys kept exact on every write, and the pages they serve."""

from __future__ import annotations

import itertools
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

from feedbackql_server.documents import RESPONSE_STATUSES
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from feedbackql_server.storage.filter_keys import metadata_keys, response_keys
from tests import helpers as h
from tests import interleavings as il
from tests.conftest import GraphQLClient, serve
from tests.test_check_command import _check
from tests.test_record_sort import RECORD_FINDS

ANSWER = [{"question": "completion", "value": {"text": "t"}}]
METADATA = [{"name": "source", "kind": "TERMS"}, {"name": "length", "kind": "INTEGER"},
            {"name": "ratio", "kind": "FLOAT"}]
SOURCES: list[Any] = ["web", "book", "web", "wiki", "book", ["web", "book"]]


async def _answered_dataset(gql: GraphQLClient) -> tuple[str, dict[str, str]]:
    """Six records r0..r5; answers: r0 submitted then deleted, r1 draft and submitted, r2
    discarded, r3 a draft made a submission, r4 and r5 none; r3 re-added from wiki to web."""
    dataset_id = await h.sft_dataset(gql, metadataProperties=METADATA)
    await h.add_records(gql, dataset_id, [
        {"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
         "metadata": {"source": source, "length": i, "ratio": i / 2}} for i, source in enumerate(SOURCES)])
    edges = (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]["edges"]
    ids = {edge["node"]["externalId"]: edge["node"]["id"] for edge in edges}
    ws = await h.workspace_of(gql, dataset_id)
    anna, bob = [await h.new_user(gql, name, workspaces=[ws]) for name in ("anna", "bob")]

    async def answer(who: GraphQLClient, record: str, status: str) -> None:
        await who(h.SUBMIT, {"input": {"recordId": ids[record], "status": status, "values": ANSWER}})

    await answer(anna, "r0", "SUBMITTED")
    await anna("mutation($r: ID!) { deleteResponse(recordId: $r) }", {"r": ids["r0"]})
    await answer(anna, "r1", "DRAFT")
    await answer(bob, "r1", "SUBMITTED")
    await answer(bob, "r2", "DISCARDED")
    await answer(anna, "r3", "DRAFT")
    await answer(anna, "r3", "SUBMITTED")
    await h.add_records(gql, dataset_id, [{"externalId": "r3", "fields": {"prompt": "p3"},
                                           "metadata": {"source": "web", "length": 3, "ratio": 1.5}}])
    return dataset_id, ids


ANSWERED = {"r1": {"draft", "submitted"}, "r2": {"discarded"}, "r3": {"submitted"}}
SOURCES_NOW = [*SOURCES[:3], "web", *SOURCES[4:]]


async def _ids(gql: GraphQLClient, dataset_id: str, where: dict[str, Any]) -> list[str]:
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 10, "filter": where})
    return [edge["node"]["externalId"] for edge in page["records"]["edges"]]


async def _check_pages(gql: GraphQLClient, dataset_id: str) -> None:
    """Every response-status filter, and metadata values, find what the answers say."""
    for size in range(1, len(RESPONSE_STATUSES) + 1):
        for statuses in itertools.combinations(RESPONSE_STATUSES, size):
            expected = [r for r, answered in ANSWERED.items() if answered.intersection(statuses)]
            found = await _ids(gql, dataset_id, {"responseStatus": [s.upper() for s in statuses]})
            assert found == expected, statuses
    for source in ("web", "book", "wiki"):
        expected = [f"r{i}" for i, s in enumerate(SOURCES_NOW) if source in (s if isinstance(s, list) else [s])]
        assert await _ids(gql, dataset_id, {"metadata": [{"name": "source", "values": [source]}]}) == expected
    assert await _ids(gql, dataset_id, {"metadata": [{"name": "source", "values": ["book", "wiki", "web"]}]}) == [
        f"r{i}" for i in range(len(SOURCES))]  # each once, though r5's terms are "web" and "book"
    assert await _ids(gql, dataset_id, {"metadata": [{"name": "source", "values": ["book", "wiki"]}]}) == [
        "r1", "r4", "r5"]
    assert await _ids(gql, dataset_id, {"metadata": [{"name": "length", "values": [4.0]}]}) == ["r4"]
    assert await _ids(gql, dataset_id, {"metadata": [{"name": "ratio", "values": [1]}]}) == ["r2"]
    assert await _ids(gql, dataset_id, {"metadata": [{"name": "ratio", "values": [1.5]}]}) == ["r3"]
    both = {"metadata": [{"name": "source", "values": ["web"]}, {"name": "length", "ge": 2}],
            "responseStatus": ["SUBMITTED"]}
    assert await _ids(gql, dataset_id, both) == ["r3"]


async def _stored_keys_agree(settings: Settings, dataset_id: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        records = await client[settings.database_name]["records"].find({"dataset_id": ObjectId(dataset_id)}).to_list()
    finally:
        await client.close()
    assert len(records) == len(SOURCES)
    for record in records:
        assert record.get("response_keys") == response_keys(record), record
        assert record.get("metadata_keys") == metadata_keys(record["metadata"]), record


async def test_filters_are_pushed_down_by_keys_every_write_keeps_exact(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id, _ = await _answered_dataset(gql)
        RECORD_FINDS.filters.clear()
        RECORD_FINDS.recording = True
        try:
            await _check_pages(gql, dataset_id)
        finally:
            RECORD_FINDS.recording = False
    await _stored_keys_agree(settings, dataset_id)
    bucket_reads = [where for where in RECORD_FINDS.filters if "bucket" in where]
    assert bucket_reads
    # Each read carries its key at the top, where FerretDB hands it to PostgreSQL.
    assert all("response_keys" in where or "metadata_keys" in where for where in bucket_reads), bucket_reads


async def test_records_written_before_the_keys_are_given_them_at_start(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    """Layout 7: records stored without keys (as 0.2 wrote them) get theirs before anything is
    served, so that a filtered page still finds them."""
    async with serve(settings, builtin_registry) as gql:
        dataset_id, _ = await _answered_dataset(gql)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    db = client[settings.database_name]
    for record in await db["records"].find({"dataset_id": ObjectId(dataset_id)}, {"_id": 1}).to_list():
        await db["records"].update_one({"_id": record["_id"]}, {"$unset": {"response_keys": "", "metadata_keys": ""}})
    await db["meta"].update_one({"_id": "layout"}, {"$set": {"version": 6}})
    await client.close()
    async with serve(settings, builtin_registry) as gql:
        await _check_pages(gql, dataset_id)
    await _stored_keys_agree(settings, dataset_id)


async def test_check_reports_and_repairs_response_keys_that_disagree_with_the_answers(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id, ids = await _answered_dataset(gql)
    async with il.raw_database(settings) as db:
        await db.records.update_one({"_id": ObjectId(ids["r2"])}, {"$set": {"response_keys": []}})
    found = await _check(settings)
    assert found.returncode == 1
    assert "filter keys [], ['discarded', 'submitted+discarded', 'draft+discarded', " in found.stdout, found.stdout
    repaired = await _check(settings, "--repair")
    assert repaired.returncode == 0, repaired.stdout
    async with serve(settings, builtin_registry) as gql:
        await _check_pages(gql, dataset_id)
    await _stored_keys_agree(settings, dataset_id)


async def test_a_hidden_property_filters_as_one_no_record_has_and_reads_nothing(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, metadataProperties=[
        {"name": "secret", "kind": "TERMS", "visibleForAnnotators": False}])
    await h.add_records(gql, dataset_id, [{"externalId": "r0", "fields": {"prompt": "p"}, "metadata": {"secret": "x"}}])
    anna = await h.new_user(gql, "anna", workspaces=[await h.workspace_of(gql, dataset_id)])
    where = {"metadata": [{"name": "secret", "values": ["x"]}]}
    assert await _ids(gql, dataset_id, where) == ["r0"]
    RECORD_FINDS.filters.clear()
    RECORD_FINDS.recording = True
    try:
        assert await _ids(anna, dataset_id, where) == []
    finally:
        RECORD_FINDS.recording = False
    bucket_reads = [where for where in RECORD_FINDS.filters if "bucket" in where]
    assert bucket_reads
    assert all(where.get("metadata_keys") == '["secret"]' for where in bucket_reads), bucket_reads

"""Records sorted by a metadata property or a suggestion score, paged by keyset cursors that
carry their order (issue 24: the records view sorts by metadata and score)."""

from __future__ import annotations

from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, monitoring

from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import GraphQLClient, serve

SCORES = [0.5, None, 0.25, 0.9, None, 0.25, 0.1]
NUMBERS = [3, 1, None, 7, 1, -2, 5]
TOPICS = ["b", "a", "c", None, "a", "b", "d"]


class RecordFinds(monitoring.CommandListener):
    """The filters of the ``find`` commands sent on ``records`` while ``recording``."""

    def __init__(self) -> None:
        self.recording = False
        self.filters: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.recording and event.command_name == "find" and event.command.get("find") == "records":
            self.filters.append(dict(event.command.get("filter", {})))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


RECORD_FINDS = RecordFinds()
monitoring.register(RECORD_FINDS)  # clients made from here on report to it (it records only when asked)


async def _sortable(gql: GraphQLClient) -> str:
    dataset_id = await h.sft_dataset(gql, metadataProperties=[
        {"name": "n", "kind": "INTEGER"}, {"name": "topic", "kind": "TERMS"}])
    records = []
    for i, (score, number, topic) in enumerate(zip(SCORES, NUMBERS, TOPICS, strict=True)):
        suggestion = {"question": "completion", "value": {"text": f"s{i}"}, "score": score}
        metadata = {key: value for key, value in (("n", number), ("topic", topic)) if value is not None}
        records.append({"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}, "metadata": metadata,
                        "suggestions": [suggestion]})
    await h.add_records(gql, dataset_id, records)
    return dataset_id


async def _every_page(gql: GraphQLClient, dataset_id: str, sort: dict[str, Any]) -> list[str]:
    """The external ids of every record, two to a page, following the cursors."""
    seen: list[str] = []
    after = None
    for _ in range(20):  # bounded: cursors that disagree with the stored order would page forever
        page = (await gql(h.RECORDS, {"id": dataset_id, "first": 2, "after": after, "sort": sort}))["records"]
        seen.extend(edge["node"]["externalId"] for edge in page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]
    raise AssertionError(f"still paging after 20 pages: {seen}")


def _expected(values: list[Any], descending: bool) -> list[str]:
    """Records without a value first ascending, in insertion order among themselves and among
    equal values; descending is the exact reverse."""
    missing = [i for i, v in enumerate(values) if v is None]
    present = sorted((i for i, v in enumerate(values) if v is not None), key=lambda i: (values[i], i))
    ascending = [f"r{i}" for i in [*missing, *present]]
    return ascending[::-1] if descending else ascending


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize(("field", "name", "values"), [
    ("METADATA", "n", NUMBERS), ("METADATA", "topic", TOPICS), ("SUGGESTION_SCORE", "completion", SCORES)])
async def test_records_page_in_the_order_of_a_value(gql: GraphQLClient, field: str, name: str,
                                                    values: list[Any], direction: str) -> None:
    dataset_id = await _sortable(gql)
    seen = await _every_page(gql, dataset_id, {"field": field, "name": name, "direction": direction})
    assert seen == _expected(values, direction == "DESC")


async def test_a_cursor_of_one_sort_is_refused_by_another(gql: GraphQLClient) -> None:
    dataset_id = await _sortable(gql)
    by_n = {"field": "METADATA", "name": "n"}
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 2, "sort": by_n})
    cursor = page["records"]["pageInfo"]["endCursor"]
    for other in ({"field": "METADATA", "name": "topic"}, {**by_n, "direction": "DESC"},
                  {"field": "SUGGESTION_SCORE", "name": "completion"}, {"field": "INSERTED_AT"}):
        error = await gql.error(h.RECORDS, {"id": dataset_id, "first": 2, "after": cursor, "sort": other})
        assert error["extensions"]["code"] == "VALIDATION", (other, error)


@pytest.mark.parametrize(("sort", "words"), [
    ({"field": "METADATA", "name": "nope"}, "no metadata property 'nope'"),
    ({"field": "SUGGESTION_SCORE", "name": "nope"}, "no question 'nope'"),
    ({"field": "METADATA"}, "needs the `name`"),
    ({"field": "INSERTED_AT", "name": "n"}, "`name` goes with"),
])
async def test_a_sort_by_what_the_dataset_lacks_is_refused(gql: GraphQLClient, sort: dict[str, Any],
                                                            words: str) -> None:
    dataset_id = await _sortable(gql)
    error = await gql.error(h.RECORDS, {"id": dataset_id, "first": 2, "sort": sort})
    assert error["extensions"]["code"] == "VALIDATION", error
    assert words in error["message"], error


async def test_a_hidden_metadata_property_sorts_as_one_that_does_not_exist(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, metadataProperties=[
        {"name": "secret", "kind": "INTEGER", "visibleForAnnotators": False}])
    labeler = await h.new_user(gql, "ann", workspaces=[await h.workspace_of(gql, dataset_id)])
    error = await labeler.error(h.RECORDS, {"id": dataset_id, "first": 2,
                                            "sort": {"field": "METADATA", "name": "secret"}})
    assert "no metadata property 'secret'" in error["message"], error


async def test_records_written_before_scores_were_kept_are_given_them_at_start(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    """Layout 6 keeps each record's scores beside its packed content; records written before it
    get theirs at the next start, so that a sort by score places them by their score."""
    by_score = {"field": "SUGGESTION_SCORE", "name": "completion", "direction": "DESC"}
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await _sortable(gql)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    db = client[settings.database_name]
    await db["records"].update_many({"dataset_id": ObjectId(dataset_id)}, {"$unset": {"suggestion_scores": ""}})
    await db["meta"].update_one({"_id": "layout"}, {"$set": {"version": 5}})
    async with serve(settings, builtin_registry) as gql:
        assert await _every_page(gql, dataset_id, by_score) == _expected(SCORES, descending=True)
    await client.close()


@pytest.mark.parametrize("sort", [{"field": "UPDATED_AT"}, {"field": "METADATA", "name": "n", "direction": "DESC"},
                                  {"field": "SUGGESTION_SCORE", "name": "completion"}])
async def test_a_sorted_page_reads_only_its_own_dataset(settings: Settings, builtin_registry: KindRegistry,
                                                        sort: dict[str, Any]) -> None:
    """The dataset's equality stays at the top of a sorted page's filter, where FerretDB hands it
    to PostgreSQL. Wrapped in ``$and`` it was not (``filterPushdown: false``): FerretDB read and
    decoded every record of the collection, so a sort of a 1,000-record dataset beside 10,000
    other records took 4.2 s, whatever ``maxScanRecords`` allowed."""
    async with serve(settings, builtin_registry) as gql:
        dataset_id = await _sortable(gql)
        other = await h.dataset(gql, await h.workspace(gql, "other"), fields=[{"name": "prompt", "settings": h.TEXT}],
                                questions=[{"name": "q", "settings": {"text": {}}}])
        await h.add_records(gql, other["id"], [{"fields": {"prompt": f"o{i}"}} for i in range(5)])  # same collection
        RECORD_FINDS.filters.clear()
        RECORD_FINDS.recording = True
        try:
            assert len(await _every_page(gql, dataset_id, sort)) == len(SCORES)
        finally:
            RECORD_FINDS.recording = False
    sorted_reads = [f for f in RECORD_FINDS.filters if "_id" not in f and "bucket" not in f]
    assert len(sorted_reads) == 4, RECORD_FINDS.filters  # one per page of two
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        for where in sorted_reads:
            assert where.get("dataset_id") == ObjectId(dataset_id), where
            plan = await client[settings.database_name].command("explain", {"find": "records", "filter": where})
            assert plan.get("filterPushdown", True), (where, plan)  # only FerretDB says (MongoDB uses indexes)
    finally:
        await client.close()

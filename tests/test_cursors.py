"""Cursors carry what they were made for: a page's cursor used on another dataset, with
another filter, damaged, or empty is refused with VALIDATION instead of paging something else
(issue 24: a cursor of one dataset silently paged another)."""

from __future__ import annotations

from typing import Any

import pytest

from tests import helpers as h
from tests.conftest import GraphQLClient


async def _two_datasets(gql: GraphQLClient) -> tuple[str, str, str]:
    first = await h.sft_dataset(gql)
    ws = await h.workspace(gql, "other")
    second = (await h.dataset(gql, ws, fields=[{"name": "prompt", "settings": h.TEXT}],
                              questions=[{"name": "completion", "settings": {"text": {}}}]))["id"]
    for dataset_id in (first, second):
        await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"p{i}"}, "metadata": {"n": i}} for i in range(6)])
    page = await gql(h.RECORDS, {"id": first, "first": 2})
    return first, second, page["records"]["pageInfo"]["endCursor"]


async def test_a_cursor_pages_the_list_it_was_made_for(gql: GraphQLClient) -> None:
    first, _, cursor = await _two_datasets(gql)
    page = await gql(h.RECORDS, {"id": first, "first": 2, "after": cursor})
    assert [edge["node"]["fields"]["prompt"] for edge in page["records"]["edges"]] == ["p2", "p3"]


@pytest.mark.parametrize("where", [{"dataset": "other"}, {"filter": {"status": "PENDING"}},
                                   {"damaged": "x"}, {"empty": ""}])
async def test_a_cursor_is_refused_anywhere_else(gql: GraphQLClient, where: dict[str, Any]) -> None:
    first, second, cursor = await _two_datasets(gql)
    variables: dict[str, Any] = {"id": first, "first": 2, "after": cursor}
    if "dataset" in where:
        variables["id"] = second
    if "filter" in where:
        variables["filter"] = where["filter"]
    if "damaged" in where:
        variables["after"] = cursor + where["damaged"]
    if "empty" in where:
        variables["after"] = ""
    error = await gql.error(h.RECORDS, variables)
    assert error["extensions"]["code"] == "VALIDATION", error
    assert error["extensions"]["path"] == ["after"] or "after" in error["message"], error

"""Size limits that hold end to end (issue 20, item 3): every value has a cap enforced at input
as a per-record VALIDATION naming the limit, and no read can exceed the database's wire limit,
even with documents written before the caps."""

from __future__ import annotations

import base64
import json
from typing import Any

from bson import ObjectId
from pymongo import AsyncMongoClient

import feedbackql as fb
from feedbackql_plugins.image_field import MAX_DATA_URI_CHARS
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from feedbackql_server.size_limits import (
    MAX_ANSWER_BYTES,
    MAX_FIELD_VALUE_BYTES,
    MAX_METADATA_VALUE_BYTES,
    MAX_RECORD_BYTES,
    READ_BUDGET_BYTES,
    RECORD_BATCH,
    WIRE_MESSAGE_BYTES,
)
from feedbackql_server.storage.buckets import BUCKET_SIZE
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import live_server

EXPORT_ROWS = "/datasets/{}/export"


def image(chars: int) -> str:
    """A valid PNG data URI of exactly ``chars`` characters (``chars`` - 22 a multiple of 4)."""
    head = "data:image/png;base64,"
    data = base64.b64encode(bytes((chars - len(head)) // 4 * 3)).decode()
    return head + data


def two_text_fields() -> list[dict[str, Any]]:
    return [{"name": "a", "settings": h.TEXT}, {"name": "b", "settings": h.TEXT, "required": False}]


async def test_the_caps_bound_every_read_below_the_wire_limit() -> None:
    assert RECORD_BATCH * MAX_RECORD_BYTES < READ_BUDGET_BYTES < WIRE_MESSAGE_BYTES
    assert MAX_DATA_URI_CHARS <= MAX_FIELD_VALUE_BYTES  # the image kind's own cap fits the core's
    assert MAX_FIELD_VALUE_BYTES < MAX_RECORD_BYTES


async def test_a_field_value_over_its_cap_is_a_per_record_validation(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    big = "x" * (MAX_FIELD_VALUE_BYTES + 1)
    result = await h.add_records(gql, dataset_id, [{"fields": {"prompt": "ok"}}, {"fields": {"prompt": big}}])
    assert result["created"] == 1
    [error] = result["errors"]
    assert (error["index"], error["code"]) == (1, "VALIDATION")
    assert f"{MAX_FIELD_VALUE_BYTES:,}" in error["message"]
    assert "fields.prompt" in error["message"]


async def test_escapes_count_in_a_values_size(gql: GraphQLClient) -> None:
    """Control characters are stored escaped (six bytes each): the cap is on what is stored."""
    dataset_id = await h.sft_dataset(gql)
    result = await h.add_records(gql, dataset_id, [{"fields": {"prompt": "\x01" * 200_000}}])
    assert result["created"] == 0
    assert "limit" in result["errors"][0]["message"]


async def test_a_record_over_its_cap_is_refused_though_each_value_fits(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, fields=two_text_fields())
    half = "y" * (MAX_RECORD_BYTES // 2 + 10)
    result = await h.add_records(gql, dataset_id, [{"fields": {"a": half, "b": half}}])
    assert result["created"] == 0
    assert "the record (fields, suggestions and metadata) is" in result["errors"][0]["message"]
    assert f"{MAX_RECORD_BYTES:,}" in result["errors"][0]["message"]


async def test_a_metadata_value_over_its_cap_is_refused(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, allowExtraMetadata=True)
    note = "m" * MAX_METADATA_VALUE_BYTES
    result = await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}, "metadata": {"n": note}}])
    assert result["created"] == 0
    assert "metadata.n" in result["errors"][0]["message"]
    assert f"{MAX_METADATA_VALUE_BYTES:,}" in result["errors"][0]["message"]


async def test_a_suggestion_over_the_answer_cap_is_refused(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    suggestion = {"question": "completion", "value": {"text": "s" * (MAX_ANSWER_BYTES + 1)}}
    result = await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}, "suggestions": [suggestion]}])
    assert result["created"] == 0
    assert "suggestions[0].value.text" in result["errors"][0]["message"]
    assert f"{MAX_ANSWER_BYTES:,}" in result["errors"][0]["message"]


async def record_ids(gql: GraphQLClient, dataset_id: str) -> list[str]:
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 10})
    return [edge["node"]["id"] for edge in page["records"]["edges"]]


async def test_an_answer_over_its_cap_is_a_validation_and_stores_nothing(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    [record] = await record_ids(gql, dataset_id)
    answer = {"recordId": record, "status": "SUBMITTED",
              "values": [{"question": "completion", "value": {"text": "a" * (MAX_ANSWER_BYTES + 1)}}]}
    error = await gql.error(h.SUBMIT, {"input": answer})
    assert error["extensions"]["code"] == "VALIDATION"
    assert f"{MAX_ANSWER_BYTES:,}" in error["message"]
    data = await gql("query($id: ID!) { record(id: $id) { responses { id } } }", {"id": record})
    assert data["record"]["responses"] == []


async def test_an_upload_reports_an_oversized_record_by_its_line(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    lines = [json.dumps({"fields": {"prompt": "fine"}}),
             json.dumps({"fields": {"prompt": "z" * (MAX_FIELD_VALUE_BYTES + 1)}})]
    response = await gql.http.post(f"/datasets/{dataset_id}/records", content="\n".join(lines).encode(),
                                   headers={"Authorization": f"Bearer {gql.api_key}",
                                            "Content-Type": "application/x-ndjson"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["created"] == 1
    assert [e["code"] for e in body["errors"]] == ["VALIDATION"]
    assert f"{MAX_FIELD_VALUE_BYTES:,}" in body["errors"][0]["message"]


async def test_a_bucket_of_images_at_their_cap_stays_readable(gql: GraphQLClient) -> None:
    """The reproduction: images just under the data URI cap, enough to fill more than one wire
    message in one bucket (the whole page was INTERNAL, the export empty)."""
    ws = await h.workspace(gql)
    dataset = await h.dataset(gql, ws, name="pictures", fields=[{"name": "picture", "settings": {"image": {}}}],
                              questions=[{"name": "ok", "settings": {"rating": {"values": [0, 1]}}}])
    picture = image(933_022)
    count = WIRE_MESSAGE_BYTES // len(picture) + 1
    for start in range(0, count, 20):
        result = await h.add_records(gql, dataset["id"], [{"fields": {"picture": picture}}] * min(20, count - start))
        assert result["errors"] == []
    assert count < BUCKET_SIZE  # all in one bucket
    page = await gql(h.RECORDS, {"id": dataset["id"], "first": 1})
    assert page["records"]["totalCount"] == count
    assert page["records"]["edges"][0]["node"]["fields"]["picture"] == picture
    export = await gql.http.get(EXPORT_ROWS.format(dataset["id"]), params={"format": "jsonl"},
                                headers={"Authorization": f"Bearer {gql.api_key}"})
    assert export.status_code == 200
    assert len(export.text.splitlines()) == count


async def test_documents_written_over_the_caps_degrade_to_reads_one_by_one(
        gql: GraphQLClient, settings: Settings) -> None:
    """Records larger than the caps, written straight into the database (as before the caps):
    their bucket is read a record at a time instead of failing for the whole dataset."""
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "small"}}])
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        records = client[settings.database_name]["records"]
        template = await records.find_one({"dataset_id": ObjectId(dataset_id)})
        assert template is not None
        huge = "h" * 12_000_000
        for seq in range(1, 5):
            await records.insert_one({**template, "_id": ObjectId(), "seq": seq, "ext_key": f"huge{seq}",
                                      "content": json.dumps({"fields": {"prompt": huge}, "suggestions": []})})
    finally:
        await client.close()
    page = await gql("query($id: ID!) { records(datasetId: $id, first: 3) { edges { node { id } } } }",
                     {"id": dataset_id})
    assert len(page["records"]["edges"]) == 3
    export = await gql.http.get(EXPORT_ROWS.format(dataset_id), params={"format": "jsonl"},
                                headers={"Authorization": f"Bearer {gql.api_key}"})
    assert export.status_code == 200
    rows = [json.loads(line) for line in export.text.splitlines()]
    assert len(rows) == 5


async def test_a_record_whose_content_cannot_be_read_is_an_error_of_that_record_only(
        gql: GraphQLClient, settings: Settings) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "fine"}}, {"fields": {"prompt": "spoiled"}}])
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        records = client[settings.database_name]["records"]
        await records.update_one({"dataset_id": ObjectId(dataset_id), "seq": 1}, {"$set": {"content": "{not json"}})
    finally:
        await client.close()
    page = await gql("query($id: ID!) { records(datasetId: $id, first: 5) { edges { node { fields readError } } } }",
                     {"id": dataset_id})
    nodes = [edge["node"] for edge in page["records"]["edges"]]
    assert nodes[0] == {"fields": {"prompt": "fine"}, "readError": None}
    assert nodes[1]["fields"] == {}
    assert "could not be read" in nodes[1]["readError"]
    export = await gql.http.get(EXPORT_ROWS.format(dataset_id), params={"format": "jsonl"},
                                headers={"Authorization": f"Bearer {gql.api_key}"})
    assert export.status_code == 200
    assert len(export.text.splitlines()) == 2


def test_the_sdk_splits_large_records_into_calls_the_server_accepts(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    """500 records a call was the SDK's only bound: records near their cap made one request
    larger than the server takes (PAYLOAD_TOO_LARGE for the whole batch)."""
    limited = settings.model_copy(update={"max_body_bytes": 17 * 1024 * 1024})
    with live_server(create_app(limited, builtin_registry)) as url, fb.Client(url, api_key=OWNER_KEY) as client:
        dataset = fb.FeedbackDataset(fields=[fb.TextField("prompt")], questions=[fb.TextQuestion("completion")])
        dataset.push(client, name="big", workspace="sdk")
        big = "b" * (MAX_FIELD_VALUE_BYTES - 100)
        report = dataset.add_records([fb.Record(fields={"prompt": big}, external_id=str(i)) for i in range(18)],
                                     show_progress=False)
        assert (report.created, report.errors) == (18, [])

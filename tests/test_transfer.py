"""``feedbackql import`` and ``feedbackql export`` against a real server over HTTP."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import feedbackql as fb
from feedbackql_server.app import create_app
from feedbackql_server.cli import main
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import live_server


@pytest.fixture
async def served(settings: Settings, builtin_registry: KindRegistry) -> AsyncIterator[tuple[str, GraphQLClient, str]]:
    with live_server(create_app(settings, builtin_registry)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            owner = GraphQLClient(http, OWNER_KEY)
            dataset = await h.sft_dataset(owner, metadataProperties=[{"name": "source", "kind": "TERMS"}],
                                          questions=[{"name": "completion", "settings": {"text": {}}},
                                                     {"name": "quality", "required": False,
                                                      "settings": {"rating": {"values": [1, 2, 3]}}}])
            yield url, owner, dataset


async def cli(*args: str) -> int:
    """The command in a thread: it is synchronous and talks to the server over HTTP."""
    return await asyncio.to_thread(main, list(args))


async def test_import_reports_bad_rows_by_line_and_is_idempotent(
    served: tuple[str, GraphQLClient, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    url, owner, dataset = served
    source = tmp_path / "prompts.jsonl"
    source.write_text("\n".join([
        json.dumps({"external_id": "a", "prompt": "First", "source": "web", "guess": 2}),
        "{not json",
        json.dumps({"external_id": "b", "prompt": "", "source": "web"}),  # an empty required field
        json.dumps({"external_id": "c", "prompt": "Third", "source": "book", "guess": "high"}),
        json.dumps({"external_id": "d", "prompt": "Fourth"}),
    ]) + "\n")
    args = ["import", dataset, str(source), "--suggestion", "quality=guess", "--url", url, "--api-key", OWNER_KEY]
    assert await cli(*args) == 1
    captured = capsys.readouterr()
    assert "created 2, updated 0, unchanged 0, refused 3" in captured.out
    errors = captured.err.splitlines()
    assert [line.split(":")[1] for line in errors if line.startswith(str(source))] == ["2", "3", "4"]
    assert "not valid JSON" in captured.err
    page = await owner(h.RECORDS, {"id": dataset, "first": 10})
    assert sorted(e["node"]["externalId"] for e in page["records"]["edges"]) == ["a", "d"]

    assert await cli(*args) == 1  # the same file again changes nothing, never duplicates
    assert "created 0, updated 0, unchanged 2, refused 3" in capsys.readouterr().out
    assert (await owner(h.RECORDS, {"id": dataset, "first": 10}))["records"]["totalCount"] == 2


async def test_csv_and_parquet_imports_map_columns(
    served: tuple[str, GraphQLClient, str], tmp_path: Path,
) -> None:
    url, owner, dataset = served
    table = tmp_path / "rows.csv"
    table.write_text("id,question,origin\n1,What is RLHF?,web\n2,Write a haiku,book\n")
    assert await cli("import", dataset, str(table), "--field", "prompt=question", "--external-id", "id",
                     "--metadata", "origin", "--url", url, "--api-key", OWNER_KEY) == 0
    parquet = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([{"external_id": "p1", "prompt": "From parquet", "source": "hub"}]), parquet)
    assert await cli("import", dataset, str(parquet), "--url", url, "--api-key", OWNER_KEY) == 0
    page = await owner(h.RECORDS, {"id": dataset, "first": 10})
    nodes = {e["node"]["externalId"]: e["node"] for e in page["records"]["edges"]}
    assert nodes["p1"]["fields"] == {"prompt": "From parquet"}
    assert nodes["p1"]["metadata"] == {"source": "hub"}
    assert nodes["1"]["fields"] == {"prompt": "What is RLHF?"}
    assert nodes["1"]["metadata"] == {"origin": "web"}


async def test_an_embedding_column_imports_into_a_vector_space(
    served: tuple[str, GraphQLClient, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    url, owner, dataset = served
    await owner("""mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "emb", dimension: 2}) {
      name } }""", {"id": dataset})
    parquet = tmp_path / "embedded.parquet"
    pq.write_table(pa.table({"external_id": ["v1", "v2", "v3"], "prompt": ["one", "two", "three"],
                             "embedding": pa.array([[0.1, 0.2], [float("nan"), 1.0], None],
                                                   type=pa.list_(pa.float32(), 2))}), parquet)
    capsys.readouterr()
    assert await cli("import", dataset, str(parquet), "--vector", "emb=embedding",
                     "--url", url, "--api-key", OWNER_KEY) == 1
    captured = capsys.readouterr()
    assert "created 2, updated 0, unchanged 0, refused 1" in captured.out
    assert f"{parquet}:2: " in captured.err
    assert "finite" in captured.err
    exported = tmp_path / "records.jsonl"
    assert await cli("export", dataset, "-o", str(exported), "--url", url, "--api-key", OWNER_KEY) == 0
    vectors = {row["external_id"]: row["vectors"] for row in map(json.loads, exported.read_text().splitlines())}
    assert vectors == {"v1": {"emb": [0.1, 0.2]}, "v3": {"emb": None}}  # the shortest numbers of the float32 values


async def test_export_writes_records_and_training_rows(
    served: tuple[str, GraphQLClient, str], tmp_path: Path,
) -> None:
    url, owner, dataset = served
    await h.add_records(owner, dataset, [{"externalId": "x", "fields": {"prompt": "Say hi"}}])
    record = (await owner(h.RECORDS, {"id": dataset, "first": 1}))["records"]["edges"][0]["node"]["id"]
    await owner(h.SUBMIT, {"input": {"recordId": record, "status": "SUBMITTED",
                                     "values": [{"question": "completion", "value": {"text": "Hi!"}}]}})
    records = tmp_path / "records.jsonl"
    assert await cli("export", dataset, "-o", str(records), "--url", url, "--api-key", OWNER_KEY) == 0
    (row,) = [json.loads(line) for line in records.read_text().splitlines()]
    assert row["external_id"] == "x"
    assert row["responses"][0]["values"] == {"completion": "Hi!"}
    sft = tmp_path / "sft.parquet"
    assert await cli("export", dataset, "--task", "sft", "--format", "parquet", "--option", "question=completion",
                     "-o", str(sft), "--url", url, "--api-key", OWNER_KEY) == 0
    assert pq.read_table(sft).to_pylist() == [{"prompt": "Say hi", "completion": "Hi!"}]  # no all-null messages
    assert await cli("export", dataset, "--task", "sft", "--url", url, "--api-key", "wrong") == 1
    # A refused export (a wrong key, a filter that leaves nothing) leaves no file behind, and
    # does not replace the one there.
    refused = tmp_path / "refused.parquet"
    assert await cli("export", dataset, "--task", "sft", "--format", "parquet", "--option", "question=completion",
                     "-o", str(refused), "--url", url, "--api-key", "wrong") == 1
    assert not refused.exists()
    assert await cli("export", dataset, "--task", "sft", "--format", "parquet", "--option", "question=completion",
                     "--option", "min_submitted=2", "-o", str(sft), "--url", url, "--api-key", OWNER_KEY) == 1
    assert pq.read_table(sft).to_pylist() == [{"prompt": "Say hi", "completion": "Hi!"}]
    assert sorted(os.listdir(tmp_path)) == ["records.jsonl", "sft.parquet"]


async def test_hugging_face_datasets_folders_go_out_and_come_back(
    served: tuple[str, GraphQLClient, str], tmp_path: Path,
) -> None:
    url, owner, dataset = served
    await h.add_records(owner, dataset, [{"externalId": f"e{i}", "fields": {"prompt": f"prompt {i}"}} for i in range(3)])
    for edge in (await owner(h.RECORDS, {"id": dataset, "first": 3}))["records"]["edges"]:
        await owner(h.SUBMIT, {"input": {"recordId": edge["node"]["id"], "status": "SUBMITTED", "values": [
            {"question": "completion", "value": {"text": "answer " + edge["node"]["fields"]["prompt"]}}]}})
    folder = tmp_path / "sft"
    assert await cli("export", dataset, "--task", "sft", "--option", "question=completion", "--format", "datasets",
                     "-o", str(folder), "--url", url, "--api-key", OWNER_KEY) == 0
    import datasets

    saved = datasets.load_from_disk(str(folder))
    assert saved.num_rows == 3
    assert saved[0]["completion"] == "answer prompt 0"

    ws = await h.workspace_of(owner, dataset)
    copy = (await h.dataset(owner, ws, name="copy", fields=[{"name": "prompt", "settings": h.TEXT}],
                            questions=[{"name": "completion", "settings": {"text": {}}}]))["id"]
    assert await cli("import", copy, str(folder), "--field", "prompt=prompt", "--url", url, "--api-key", OWNER_KEY) == 0
    page = await owner(h.RECORDS, {"id": copy, "first": 10})
    assert sorted(e["node"]["fields"]["prompt"] for e in page["records"]["edges"]) == [f"prompt {i}" for i in range(3)]


async def test_export_takes_every_registered_task(
    served: tuple[str, GraphQLClient, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """`--task` used to accept four hard-coded names, not even the built-in token_classification."""
    url, owner, _ = served
    ws = await h.workspace(owner, "ner")
    labels = [{"value": "PER", "text": "Person"}]
    ner = (await h.dataset(owner, ws, name="ner", fields=[{"name": "text", "settings": h.TEXT}], questions=[
        {"name": "entities", "settings": {"span": {"field": "text", "labels": labels}}}]))["id"]
    await h.add_records(owner, ner, [{"externalId": "r1", "fields": {"text": "Ada in Paris"}}])
    record = (await owner(h.RECORDS, {"id": ner, "first": 1}))["records"]["edges"][0]["node"]["id"]
    await owner(h.SUBMIT, {"input": {"recordId": record, "status": "SUBMITTED", "values": [
        {"question": "entities", "value": {"span": [{"start": 0, "end": 3, "label": "PER"}]}}]}})
    folder = tmp_path / "ner"
    assert await cli("export", ner, "--task", "token_classification", "--option", "question=entities",
                     "--format", "datasets", "-o", str(folder), "--url", url, "--api-key", OWNER_KEY) == 0
    import datasets

    saved = datasets.load_from_disk(str(folder))
    assert saved.to_list() == [{"id": record, "external_id": "r1", "text": "Ada in Paris", "tokens": ["Ada", "in", "Paris"],
                                "ner_tags": ["B-PER", "O", "O"], "spans": [{"start": 0, "end": 3, "label": "PER"}]}]
    assert saved.data.schema.field("spans").type == pa.list_(pa.struct(  # typed by the task, not guessed
        [("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())]))
    capsys.readouterr()
    assert await cli("export", ner, "--task", "magic", "--option", "question=entities",
                     "--url", url, "--api-key", OWNER_KEY) == 1
    assert "token_classification" in capsys.readouterr().err  # the service names the tasks it has


async def test_the_sdk_export_takes_the_filters(served: tuple[str, GraphQLClient, str]) -> None:
    url, owner, dataset = served
    await h.add_records(owner, dataset, [{"externalId": e, "metadata": {"source": s}, "fields": {"prompt": e}}
                                         for e, s in (("a", "web"), ("b", "book"))])
    for edge in (await owner(h.RECORDS, {"id": dataset, "first": 2}))["records"]["edges"]:
        await owner(h.SUBMIT, {"input": {"recordId": edge["node"]["id"], "status": "SUBMITTED", "values": [
            {"question": "completion", "value": {"text": "- " + edge["node"]["externalId"]}}]}})

    def export(**options: Any) -> Any:
        with fb.Client(url, api_key=OWNER_KEY) as client:
            return fb.FeedbackDataset.pull(client, name="sft", workspace="team").export(
                "sft", question="completion", **options)

    assert await asyncio.to_thread(export, completed_only=True, metadata={"source": "book"}) == [
        {"prompt": "b", "completion": "- b"}]
    with pytest.raises(fb.ValidationError, match="no row to export"):
        await asyncio.to_thread(export, min_submitted=2)

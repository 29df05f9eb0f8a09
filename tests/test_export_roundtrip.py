"""The record export re-imports into a new dataset with the same settings, losslessly: export →
import → export gives the same rows apart from ids and timestamps, answers and vectors included
(the vectors' float32 values exactly, as fixed-size float32 lists in Parquet and datasets folders)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.test_transfer import cli, served  # noqa: F401  (the fixture)

OPTIONS = [{"value": "a", "text": "A"}, {"value": "b", "text": "B"}, {"value": "c", "text": "C"}]
SETTINGS: dict[str, Any] = {
    "fields": [{"name": "prompt", "settings": h.TEXT}, {"name": "context", "required": False, "settings": h.TEXT}],
    "questions": [
        {"name": "quality", "settings": {"rating": {"values": [1, 2, 3, 4, 5]}}},
        {"name": "topic", "required": False, "settings": {"label": {"options": OPTIONS}}},
        {"name": "tags", "required": False, "settings": {"multiLabel": {"options": OPTIONS}}},
        {"name": "order", "required": False, "settings": {"ranking": {"options": OPTIONS}}},
        {"name": "note", "required": False, "settings": {"text": {}}},
    ],
    "metadataProperties": [{"name": "source", "kind": "TERMS"}],
}
SPACES = {"emb": 3, "tiny": 2}
ADD_SPACE = """mutation($id: ID!, $space: VectorSpaceInput!) {
  addVectorSpace(datasetId: $id, space: $space) { name } }"""
RANKED = [{"value": "b", "rank": 1}, {"value": "a", "rank": 2}, {"value": "c", "rank": 3}]
VOLATILE = ("id",)
JSON_COLUMNS = ("fields", "metadata", "suggestions", "responses")
VOLATILE_IN_RESPONSES = ("user_id", "updated_at")


def _answer(user: str, rating: int, status: str = "SUBMITTED", **more: Any) -> dict[str, Any]:
    values = [{"question": "quality", "value": {"rating": rating}},
              *({"question": q, "value": v} for q, v in more.items())]
    return {"user": user, "status": status, "values": values}


def _vectors(i: int) -> dict[str, list[float]]:
    """Values a float32 cannot hold exactly (0.1, 1/3): what comes back is their float32."""
    vectors = {"emb": [0.1 * (i + 1), -1 / 3, 1e-7 * i + 2.5]} if i % 4 else {}
    return {**vectors, "tiny": [i / 7, 1.0]} if i % 3 == 0 else vectors


def _records() -> list[dict[str, Any]]:
    return [
        {"externalId": f"r{i}", "fields": {"prompt": f"Prompt {i}", **({"context": "- a list"} if i % 2 else {})},
         "vectors": _vectors(i),
         "metadata": {"source": "web" if i % 3 else "book"},
         "suggestions": [{"question": "topic", "value": {"label": "a"}, "score": 0.25, "agent": "model"},
                         {"question": "order", "value": {"ranking": RANKED}}] if i % 2 else [],
         "responses": [_answer("ann", 1 + i % 5, tags={"multiLabel": ["a", "c"]}, order={"ranking": RANKED}),
                       _answer("bob", 2, "DRAFT", note={"text": "un\u00e9 \"quoted\"\nline"})][: i % 3]}
        for i in range(12)
    ] + [{"fields": {"prompt": "no external id"}}]


async def _dataset(owner: GraphQLClient, workspace: str, name: str) -> str:
    dataset_id = str((await h.dataset(owner, workspace, name=name, distribution={"minSubmitted": 1},
                                      **SETTINGS))["id"])
    for space, dimension in SPACES.items():
        await owner(ADD_SPACE, {"id": dataset_id, "space": {"name": space, "dimension": dimension}})
    return dataset_id


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        kept = {k: v for k, v in row.items() if k not in VOLATILE}
        kept["responses"] = sorted(({k: v for k, v in r.items() if k not in VOLATILE_IN_RESPONSES}
                                    for r in row["responses"]), key=lambda r: r["user"])
        out.append(kept)
    return sorted(out, key=lambda r: (r["external_id"] is None, r["external_id"] or "", json.dumps(r["fields"])))


def _read(path: Path) -> list[dict[str, Any]]:
    """The rows, with the columns Parquet and datasets folders hold as JSON text decoded."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text().splitlines()]
    if path.is_dir():
        import datasets

        rows = [dict(row) for row in datasets.load_from_disk(str(path))]
    else:
        rows = pq.read_table(path).to_pylist()
    return [{k: json.loads(v) if k in JSON_COLUMNS and isinstance(v, str)
             else v for k, v in row.items()} for row in rows]


def _vector_types(path: Path) -> dict[str, Any]:
    """The Arrow type of each space's member of the ``vectors`` column, as a reader gets it."""
    if path.is_dir():
        import datasets

        loaded = datasets.load_from_disk(str(path))
        assert loaded.features["vectors"] == {space: datasets.List(datasets.Value("float32"), length=dimension)
                                              for space, dimension in SPACES.items()}
        vectors = loaded.data.schema.field("vectors").type
    else:
        vectors = pq.read_table(path).schema.field("vectors").type
    return {vectors.field(i).name: vectors.field(i).type for i in range(vectors.num_fields)}


def _float32_bits(vector: list[float] | None) -> bytes | None:
    """What a reader gets back as float32 (through float64, as ``json`` and pyarrow read)."""
    return None if vector is None else np.asarray(vector, dtype=np.float64).astype(np.float32).tobytes()


def _check_vectors(path: Path, file_format: str) -> None:
    """Each record's vectors are the float32 of what went in, null where it has none."""
    by_external = {row["external_id"]: row["vectors"] for row in _read(path)}
    for i in range(12):
        given = _vectors(i)
        assert {space: _float32_bits(vector) for space, vector in by_external[f"r{i}"].items()} == {
            space: _float32_bits(given[space]) if space in given else None for space in SPACES}
        assert all(isinstance(value, float) for vector in by_external[f"r{i}"].values() for value in vector or [])
    if file_format != "jsonl":
        assert _vector_types(path) == {space: pa.list_(pa.float32(), dimension) for space, dimension in SPACES.items()}


@pytest.mark.parametrize("file_format", ["jsonl", "parquet", "datasets"])
async def test_export_import_export_gives_the_same_rows(
    served: tuple[str, GraphQLClient, str], tmp_path: Path, file_format: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, owner, _ = served
    workspace = await h.workspace(owner, "moving")
    for name in ("ann", "bob"):
        await h.new_user(owner, name, workspaces=[workspace])
    source = await _dataset(owner, workspace, "source")
    added = (await owner(h.ADD_RECORDS.replace("created updated", "created updated responses"),
                         {"id": source, "records": _records()}))["addRecords"]
    assert added["errors"] == []
    assert added["responses"] > 0
    suffix = "" if file_format == "datasets" else f".{file_format}"
    first = tmp_path / f"first{suffix}"
    connection = ["--url", url, "--api-key", OWNER_KEY]
    assert await cli("export", source, "--format", file_format, "-o", str(first), *connection) == 0

    target = await _dataset(owner, workspace, "target")
    assert await cli("import", target, str(first), *connection) == 0
    second = tmp_path / f"second{suffix}"
    assert await cli("export", target, "--format", file_format, "-o", str(second), *connection) == 0

    before, after = _comparable(_read(first)), _comparable(_read(second))
    assert len(before) == 13
    assert after == before
    _check_vectors(first, file_format)
    _check_vectors(second, file_format)
    # Importing the same export again changes the records it can name (by external id)
    # nothing; one without an external id cannot be recognised and is added again.
    capsys.readouterr()
    assert await cli("import", target, str(first), *connection) == 0
    assert "created 1, updated 0, unchanged 12, refused 0" in capsys.readouterr().out
    third = tmp_path / f"third{suffix}"
    assert await cli("export", target, "--format", file_format, "-o", str(third), *connection) == 0
    assert _comparable(_read(third)) == _comparable([*_read(second), _read(second)[-1]])


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
async def test_an_export_with_bad_vectors_refuses_those_records_alone(
    served: tuple[str, GraphQLClient, str], tmp_path: Path, file_format: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, owner, _ = served
    target = await _dataset(owner, await h.workspace(owner, "moving"), "target")
    given = {"good": {"emb": [1, 2, 3], "tiny": None}, "short": {"emb": [1, 2]},
             "nan": {"emb": [1, float("nan"), 3]}, "infinite": {"tiny": [float("inf"), 1]},
             "unknown": {"other": [1.0]}}
    rows = [{"external_id": name, "fields": {"prompt": name}, "metadata": {}, "suggestions": [], "responses": [],
             "vectors": vectors} for name, vectors in given.items()]
    source = tmp_path / f"records.{file_format}"
    if file_format == "parquet":  # as the export writes them: the free-shaped columns as JSON text
        pq.write_table(pa.Table.from_pylist([{**row, **{k: json.dumps(row[k]) for k in JSON_COLUMNS}} for row in rows]),
                       source)
    else:
        source.write_text("".join(json.dumps(row) + "\n" for row in rows))  # NaN and Infinity as Python writes them
    capsys.readouterr()
    assert await cli("import", target, str(source), "--url", url, "--api-key", OWNER_KEY) == 1
    captured = capsys.readouterr()
    assert "created 1, updated 0, unchanged 0, refused 4" in captured.out
    reasons = {int(line.split(":")[1]): line for line in captured.err.splitlines() if line.startswith(str(source))}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert "has dimension 3; this vector has 2 values" in reasons[2]
    assert "finite" in reasons[3]
    assert "finite" in reasons[4]
    assert "no vector space 'other'" in reasons[5]
    exported = tmp_path / "again.jsonl"
    assert await cli("export", target, "-o", str(exported), "--url", url, "--api-key", OWNER_KEY) == 0
    assert [row["vectors"] for row in _read(exported)] == [{"emb": [1.0, 2.0, 3.0], "tiny": None}]

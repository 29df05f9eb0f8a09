"""The record export re-imports into a new dataset with the same settings, losslessly: export →
import → export gives the same rows apart from ids and timestamps, answers included."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.test_transfer import cli, served  # noqa: F401  (the fixture)

OPTIONS = [{"value": "a", "text": "A"}, {"value": "b", "text": "B"}, {"value": "c", "text": "C"}]
SETTINGS = {
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
RANKED = [{"value": "b", "rank": 1}, {"value": "a", "rank": 2}, {"value": "c", "rank": 3}]
VOLATILE = ("id",)
VOLATILE_IN_RESPONSES = ("user_id", "updated_at")


def _answer(user: str, rating: int, status: str = "SUBMITTED", **more: Any) -> dict[str, Any]:
    values = [{"question": "quality", "value": {"rating": rating}},
              *({"question": q, "value": v} for q, v in more.items())]
    return {"user": user, "status": status, "values": values}


def _records() -> list[dict[str, Any]]:
    return [
        {"externalId": f"r{i}", "fields": {"prompt": f"Prompt {i}", **({"context": "- a list"} if i % 2 else {})},
         "metadata": {"source": "web" if i % 3 else "book"},
         "suggestions": [{"question": "topic", "value": {"label": "a"}, "score": 0.25, "agent": "model"},
                         {"question": "order", "value": {"ranking": RANKED}}] if i % 2 else [],
         "responses": [_answer("ann", 1 + i % 5, tags={"multiLabel": ["a", "c"]}, order={"ranking": RANKED}),
                       _answer("bob", 2, "DRAFT", note={"text": "un\u00e9 \"quoted\"\nline"})][: i % 3]}
        for i in range(12)
    ] + [{"fields": {"prompt": "no external id"}}]


async def _dataset(owner: GraphQLClient, workspace: str, name: str) -> str:
    return str((await h.dataset(owner, workspace, name=name, distribution={"minSubmitted": 1}, **SETTINGS))["id"])


def _comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        kept = {k: v for k, v in row.items() if k not in VOLATILE}
        kept["responses"] = sorted(({k: v for k, v in r.items() if k not in VOLATILE_IN_RESPONSES}
                                    for r in row["responses"]), key=lambda r: r["user"])
        out.append(kept)
    return sorted(out, key=lambda r: (r["external_id"] is None, r["external_id"] or "", json.dumps(r["fields"])))


def _read(path: Path) -> list[dict[str, Any]]:
    if path.suffix == ".parquet":
        return [{k: json.loads(v) if k in ("fields", "metadata", "suggestions", "responses") and isinstance(v, str)
                 else v for k, v in row.items()} for row in pq.read_table(path).to_pylist()]
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("file_format", ["jsonl", "parquet"])
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
    first = tmp_path / f"first.{file_format}"
    connection = ["--url", url, "--api-key", OWNER_KEY]
    assert await cli("export", source, "--format", file_format, "-o", str(first), *connection) == 0

    target = await _dataset(owner, workspace, "target")
    assert await cli("import", target, str(first), *connection) == 0
    second = tmp_path / f"second.{file_format}"
    assert await cli("export", target, "--format", file_format, "-o", str(second), *connection) == 0

    before, after = _comparable(_read(first)), _comparable(_read(second))
    assert len(before) == 13
    assert after == before
    # Importing the same export again changes the records it can name (by external id)
    # nothing; one without an external id cannot be recognised and is added again.
    capsys.readouterr()
    assert await cli("import", target, str(first), *connection) == 0
    assert "created 1, updated 0, unchanged 12, refused 0" in capsys.readouterr().out
    third = tmp_path / f"third.{file_format}"
    assert await cli("export", target, "--format", file_format, "-o", str(third), *connection) == 0
    assert _comparable(_read(third)) == _comparable([*_read(second), _read(second)[-1]])

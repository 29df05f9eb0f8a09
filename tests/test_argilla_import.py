"""``feedbackql import --from argilla``: a dataset Argilla 1.29.1 made (tests/fixtures/argilla, written
by scripts/make_argilla_fixture.py) comes in with its answers, and FeedbackQL's record export
says what Argilla's own ``format_as("datasets")`` said of the same records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient, repo_root
from tests.test_transfer import cli, served  # noqa: F401  (the fixture)

FIXTURE = repo_root() / "tests" / "fixtures" / "argilla"
SETTINGS = """query($id: ID!) { dataset(id: $id) { fields { name required } questions { name kind required }
  progress: records(first: 1) { totalCount } } datasetProgress(datasetId: $id) { completed
  responses { submitted draft discarded } } }"""


def _argilla_value(value: Any) -> Any:
    """A value as Argilla formats it: rankings as columns ``{rank: [...], value: [...]}``."""
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return {"rank": [item["rank"] for item in value], "value": [item["value"] for item in value]}
    return value


def _as_argilla(row: dict[str, Any], fields: list[str], questions: list[str], ids: dict[str, str]) -> dict[str, Any]:
    """A row of FeedbackQL's record export in the shape of Argilla's ``format_as("datasets")``."""
    out: dict[str, Any] = {name: row["fields"].get(name) for name in fields}
    out["external_id"], out["metadata"] = row["external_id"], row["metadata"]
    suggestions = {s["question"]: s for s in row["suggestions"]}
    for question in questions:
        out[question] = sorted(
            ({"user_id": ids[r["user"]], "value": _argilla_value(r["values"][question]), "status": r["status"]}
             for r in row["responses"] if r["values"].get(question) is not None), key=lambda a: a["user_id"])
        suggestion = suggestions.get(question, {})
        out[f"{question}-suggestion"] = _argilla_value(suggestion.get("value"))
        out[f"{question}-suggestion-metadata"] = {"agent": suggestion.get("agent"), "score": suggestion.get("score"),
                                                  "type": None}
    return out


def _argillas_own(questions: list[str]) -> list[dict[str, Any]]:
    rows = []
    for line in (FIXTURE / "formatted.jsonl").read_text().splitlines():
        row = json.loads(line)
        row["metadata"] = json.loads(row["metadata"])
        for question in questions:
            row[question] = sorted(row[question], key=lambda a: a["user_id"])
        rows.append(row)
    return rows


async def test_an_argilla_dataset_comes_in_with_its_answers(
    served: tuple[str, GraphQLClient, str], tmp_path: Path, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    url, owner, _ = served
    connection = ["--url", url, "--api-key", OWNER_KEY]
    await h.new_user(owner, "ann")  # matched by username; the others are created
    capsys.readouterr()
    assert await cli("import", "--from", "argilla", str(FIXTURE / "dataset"), "--argilla-users",
                     str(FIXTURE / "users.json"), "--workspace", "moved", "--name", "from-argilla", *connection) == 0
    output = capsys.readouterr().out
    dataset_id = output.split("dataset ", 1)[1].split()[0]
    assert "created 8, updated 0, unchanged 0, refused 0, responses 16" in output

    found = await owner(SETTINGS, {"id": dataset_id})
    kinds = {q["name"]: (q["kind"], q["required"]) for q in found["dataset"]["questions"]}
    assert kinds == {"quality": ("rating", True), "topic": ("label", False), "tags": ("multiLabel", False),
                     "order": ("ranking", False), "note": ("text", False)}
    assert [(f["name"], f["required"]) for f in found["dataset"]["fields"]] == [("prompt", True), ("context", False)]
    assert found["datasetProgress"]["responses"] == {"submitted": 14, "draft": 2, "discarded": 0}
    assert found["datasetProgress"]["completed"] == 8

    exported = tmp_path / "records.jsonl"
    assert await cli("export", dataset_id, "-o", str(exported), *connection) == 0
    ids = {name: uuid for uuid, name in json.loads((FIXTURE / "users.json").read_text()).items()}
    questions = list(kinds)
    ours = [_as_argilla(json.loads(line), ["prompt", "context"], questions, ids)
            for line in exported.read_text().splitlines()]
    assert ours == _argillas_own(questions)

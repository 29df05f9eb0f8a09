"""Every training task of the seed's workflows (SFT, comparison, prompt rating, chat) exported
in JSON Lines, CSV, Parquet and as a ``datasets`` folder, each read back with pyarrow or
``datasets`` and compared value by value and type by type with the JSON Lines rows, which are
checked against TRL's documented dataset formats (prompt/completion, messages,
prompt/chosen/rejected, and their conversational forms)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from feedbackql.transfer import hugging_face, save_parquet_as_datasets_folder
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient

SYSTEM = {"role": "system", "content": "You are terse."}
CHATS = [
    [SYSTEM, {"role": "user", "content": "-1 times -1?"}],
    [{"role": "user", "content": "List two fruits"}, {"role": "assistant", "content": "Which kind?"},
     {"role": "user", "content": "= any"}],
]
PROMPTS = ["-1 times -1?", "List two fruits", "@team: say hi"]
COMPLETIONS = ["- apple\n- pear", "+1", "=SUM(A1)"]  # markdown lists and formula-looking text


async def _labelers(gql: GraphQLClient, dataset_id: str, count: int = 2) -> list[GraphQLClient]:
    ws = await h.workspace_of(gql, dataset_id)
    return [await h.new_user(gql, f"{dataset_id[-6:]}-u{i}", workspaces=[ws]) for i in range(count)]


async def _answer(gql: GraphQLClient, dataset_id: str, answers: list[list[dict[str, Any]]]) -> None:
    """``answers[i][j]``: labeler j's values for record i (written through the API)."""
    labelers = await _labelers(gql, dataset_id, max(len(a) for a in answers))
    edges = (await gql(h.RECORDS, {"id": dataset_id, "first": 100}))["records"]["edges"]
    for edge, by_labeler in zip(edges, answers, strict=True):
        for labeler, values in zip(labelers, by_labeler, strict=False):
            await labeler(h.SUBMIT, {"input": {"recordId": edge["node"]["id"], "status": "SUBMITTED",
                                               "values": [{"question": q, "value": v} for q, v in values.items()]}})


def _ranking(first: str, second: str) -> dict[str, Any]:
    return {"ranking": [{"value": first, "rank": 1}, {"value": second, "rank": 2}]}


async def sft(gql: GraphQLClient) -> str:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": p}} for p in PROMPTS])
    await _answer(gql, dataset_id, [[{"completion": {"text": c}}, {"completion": {"text": c + "!"}}]
                                    for c in COMPLETIONS])
    return dataset_id


async def comparison(gql: GraphQLClient, fields: dict[str, Any] | None = None) -> str:
    chat = fields is not None
    ws = await h.workspace(gql)
    prompt = {"name": "prompt", "settings": {"chat": {}} if chat else h.TEXT}
    created = await h.dataset(gql, ws, name="chat" if chat else "comparison", fields=[
        prompt, {"name": "response-1", "settings": h.TEXT}, {"name": "response-2", "settings": h.TEXT}],
        questions=[{"name": "preference", "settings": {"ranking": {"options": h.RANKING_OPTIONS}}},
                   {"name": "reply", "required": False, "settings": {"text": {}}}])
    prompts: list[Any] = CHATS if chat else PROMPTS[:2]
    await h.add_records(gql, created["id"], [{"fields": {"prompt": p, "response-1": f"- a{i}", "response-2": f"b{i}"}}
                                             for i, p in enumerate(prompts)])
    await _answer(gql, created["id"], [
        [{"preference": _ranking("response-1", "response-2"), "reply": {"text": "- yes"}},
         {"preference": _ranking("response-1", "response-2"), "reply": {"text": "1"}}],
        [{"preference": _ranking("response-2", "response-1"), "reply": {"text": "Apples, pears."}}],
    ])
    return str(created["id"])


async def prompt_rating(gql: GraphQLClient) -> str:
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="rating", fields=[{"name": "prompt", "settings": h.TEXT}],
                              questions=[{"name": "quality", "settings": {"rating": {"values": [1, 2, 3, 4, 5]}}}])
    await h.add_records(gql, created["id"], [{"externalId": f"p{i}", "fields": {"prompt": p}}
                                             for i, p in enumerate(PROMPTS)])
    await _answer(gql, created["id"], [[{"quality": {"rating": 5}}, {"quality": {"rating": 4}}],
                                       [{"quality": {"rating": 5}}], [{"quality": {"rating": 1}}]])
    return str(created["id"])


async def chat(gql: GraphQLClient) -> str:
    return await comparison(gql, fields={"chat": True})


MESSAGE = {"role": str, "content": str}


def check_trl_format(task: str, conversational: bool, rows: list[dict[str, Any]]) -> None:
    """The row shapes TRL documents for each dataset type, with no other column."""
    for row in rows:
        if task == "sft" and conversational:
            assert set(row) == {"messages"}
            _check_conversation(row["messages"], ends_with="assistant")
        elif conversational and "prompt" not in row:  # TRL's implicit-prompt preference: whole conversations
            assert set(row) == {"chosen", "rejected"}
            _check_conversation(row["chosen"], ends_with="assistant")
            _check_conversation(row["rejected"], ends_with="assistant")
            assert row["chosen"][:-1] == row["rejected"][:-1]
        elif task == "sft":
            assert set(row) == {"prompt", "completion"}
            assert all(type(v) is str for v in row.values())
        elif conversational:
            assert set(row) == {"prompt", "chosen", "rejected"}
            _check_conversation(row["prompt"], ends_with="user")
            for answer in (row["chosen"], row["rejected"]):
                assert [m["role"] for m in answer] == ["assistant"]
                assert type(answer[0]["content"]) is str
        elif task in ("dpo", "reward_modeling"):
            assert set(row) == {"prompt", "chosen", "rejected"}
            assert all(type(v) is str for v in row.values())
        else:
            assert set(row) == {"id", "external_id", "fields", "rating"}
            assert type(row["rating"]) is float
            assert type(row["fields"]["prompt"]) is str


def _check_conversation(messages: list[dict[str, Any]], ends_with: str) -> None:
    """A list of {role: str, content: str} whose roles alternate user/assistant after an
    optional system turn, as chat templates require."""
    assert all(set(m) == {"role", "content"} and all(type(v) is str for v in m.values()) for m in messages)
    roles = [m["role"] for m in messages]
    roles = roles[1:] if roles[0] == "system" else roles
    assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"] * (len(roles) % 2), roles
    assert roles[-1] == ends_with


def same(left: Any, right: Any) -> bool:
    """Equal values of the same types all the way down (5 and 5.0 differ)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


async def download(gql: GraphQLClient, dataset_id: str, task: str, file_format: str, **options: Any) -> Any:
    params = {"format": file_format, **options}
    response = await gql.http.get(f"/datasets/{dataset_id}/training/{task}", params=params,
                                  headers={"Authorization": f"Bearer {OWNER_KEY}"})
    assert response.status_code == 200, response.text
    return response


WORKFLOWS: list[tuple[Any, str, dict[str, Any], bool, int]] = [
    # (set-up, task, options, conversational, rows expected)
    (sft, "sft", {"question": "completion"}, False, 6),
    (sft, "sft", {"question": "completion", "strategy": "first_submitted"}, False, 3),
    (sft, "sft", {"question": "completion", "strategy": "none"}, False, 6),
    (comparison, "reward_modeling", {"question": "preference"}, False, 2),
    (comparison, "dpo", {"question": "preference", "best_vs_worst": "true"}, False, 2),
    (comparison, "sft", {"question": "reply"}, False, 3),
    (prompt_rating, "rating_selection", {"question": "quality", "threshold": "4"}, False, 2),
    (prompt_rating, "rating_selection", {"question": "quality", "top_k": "3", "strategy": "max"}, False, 3),
    (chat, "sft", {"question": "reply"}, True, 3),
    (chat, "dpo", {"question": "preference"}, True, 2),
    (chat, "reward_modeling", {"question": "preference"}, True, 2),
    (chat, "reward_modeling", {"question": "preference", "implicit_prompt": "true"}, True, 2),
]


@pytest.mark.parametrize(("make", "task", "options", "conversational", "expected"), WORKFLOWS,
                         ids=[f"{w[0].__name__}-{w[1]}-{'-'.join(w[2].values())}" for w in WORKFLOWS])
async def test_every_format_gives_the_same_typed_rows(
    gql: GraphQLClient, tmp_path: Path, make: Any, task: str, options: dict[str, Any], conversational: bool,
    expected: int,
) -> None:
    dataset_id = await make(gql)
    jsonl = await download(gql, dataset_id, task, "jsonl", **options)
    rows = [json.loads(line) for line in jsonl.text.splitlines()]
    assert len(rows) == expected
    check_trl_format(task, conversational, rows)
    rules = json.loads(jsonl.headers["feedbackql-export-rules"])
    assert rules["counts"]["rows"] == expected

    parquet = await download(gql, dataset_id, task, "parquet", **options)
    table = pq.read_table(pa.BufferReader(parquet.content))
    assert table.column_names == list(rows[0])
    assert same(table.to_pylist(), rows)
    if conversational:  # what TRL reads as conversational: a list of {role, content} structs
        messages = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
        assert table.schema.field(table.column_names[0]).type == messages
    elif task != "rating_selection":
        assert set(table.schema.types) == {pa.string()}
    else:
        assert table.schema.field("rating").type == pa.float64()

    folder = tmp_path / "folder"
    assert save_parquet_as_datasets_folder(parquet.content, folder) == expected
    loaded = hugging_face().load_from_disk(str(folder))
    assert same(loaded.to_list(), rows)
    assert loaded.features.arrow_schema == table.schema.remove_metadata()

    as_csv = await download(gql, dataset_id, task, "csv", **options)
    cells = list(csv.DictReader(io.StringIO(as_csv.text, newline="")))
    assert "CSV carries no types" in json.loads(as_csv.headers["feedbackql-export-rules"])["csv"]["types"]
    assert len(cells) == expected
    for row, cell_row in zip(rows, cells, strict=True):
        assert list(cell_row) == list(row)
        for name, value in row.items():  # texts unchanged; anything else is its JSON text
            assert cell_row[name] == (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                                                    separators=(",", ":")))

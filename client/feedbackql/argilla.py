"""``feedbackql import --from argilla``: a dataset saved by Argilla 1.x, moved with its answers.

Argilla 1.x's ``FeedbackDataset.format_as("datasets")`` (then ``save_to_disk``) writes one row
per record: a column per field, a column per question holding every user's answer
(``[{user_id, value, status}]``), ``<question>-suggestion`` and ``-suggestion-metadata``
(``{type, score, agent}``) columns, ``external_id`` and ``metadata`` (JSON text). Each column's
feature carries its role (``id``: field, question, suggestion, ...). The dataset's settings are
not saved with it, so they are read from the data:

- a field is a ``text`` field, required when no record lacks it;
- a question's kind follows its value's type: integers ``rating`` (the values from the lowest
  to the highest seen), lists of strings ``multiLabel``, lists of ``{rank, value}``
  ``ranking``, strings ``label`` when every value seen is a short single line and there are few
  of them, else ``text``; options are the values seen. A question is required when every
  submitted response answers it;
- users are named by ``--argilla-users`` (a JSON object of Argilla user id to username) or
  ``argilla-<first 8 characters of the id>``; missing ones are created as annotators of the
  workspace (their keys are not shown: rotate one to hand it out), existing ones added to it;
- answers are imported as responses (``addRecords``' ``responses``), checked and counted like
  any other; a response with no value (Argilla writes none for it) cannot come in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feedbackql.client import Client
from feedbackql.transfer import ADD, ImportReport, TransferError, hugging_face

BATCH = 500
MAX_LABELS, MAX_LABEL_LENGTH = 30, 60
WORKSPACES = "{ workspaces { id name } }"
CREATE_WORKSPACE = "mutation($n: String!) { createWorkspace(name: $n) { id } }"
USERS = "{ users { id username } }"
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }"
ADD_MEMBER = "mutation($w: ID!, $u: ID!) { addWorkspaceMember(workspaceId: $w, userId: $u) { id } }"
CREATE_DATASET = "mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }"
PUBLISH = "mutation($id: ID!) { publishDataset(id: $id) { id } }"


@dataclass
class Question:
    name: str
    kind: str
    seen: list[Any] = field(default_factory=list)
    required: bool = True


@dataclass
class Migration:
    dataset_id: str
    report: ImportReport


def read(path: Path) -> tuple[Any, dict[str, Any]]:
    """The saved ``datasets`` folder, and its features as written (``dataset_info.json``): the
    roles Argilla gave the columns (``id``) are there whatever ``datasets`` version reads it."""
    info = path / "dataset_info.json"
    if not info.exists():
        raise TransferError(f"{path}: not a datasets folder saved with save_to_disk (no dataset_info.json)")
    features = json.loads(info.read_text(encoding="utf-8")).get("features") or {}
    return hugging_face().load_from_disk(str(path)), features


def migrate(client: Client, path: Path, *, workspace: str, name: str, usernames: dict[str, str]) -> Migration:
    table, features = read(path)
    rows = [dict(row) for row in table]
    fields, questions = _columns(features, rows)
    workspace_id = _workspace(client, workspace)
    _users(client, workspace_id, {_username(usernames, user) for row in rows for user in _user_ids(row, questions)})
    dataset_id = client.execute(CREATE_DATASET, {"input": {
        "workspaceId": workspace_id, "name": name, "fields": fields,
        "questions": [_question_input(q) for q in questions]}})["createDataset"]["id"]
    client.execute(PUBLISH, {"id": dataset_id})
    report = ImportReport()
    for start in range(0, len(rows), BATCH):
        records = [_record(row, [f["name"] for f in fields], questions, usernames) for row in rows[start:start + BATCH]]
        added = client.execute(ADD, {"id": dataset_id, "records": records})["addRecords"]
        report.created += added["created"]
        report.updated += added["updated"]
        report.unchanged += added["unchanged"]
        report.responses += added["responses"]
        report.errors += [(start + e["index"] + 1, e["message"]) for e in added["errors"]]
    return Migration(dataset_id, report)


def _columns(features: dict[str, Any], rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Question]]:
    fields, questions = [], []
    for name, feature in features.items():
        if isinstance(feature, dict) and feature.get("id") == "field":
            required = all(row.get(name) not in (None, "") for row in rows)
            fields.append({"name": name, "required": required, "settings": {"text": {"useMarkdown": False}}})
        elif isinstance(feature, list) and feature and (feature[0].get("value") or {}).get("id") == "question":
            questions.append(_question(name, feature[0]["value"], rows))
    if not fields or not questions:
        raise TransferError("no Argilla fields or questions found: save the dataset with format_as('datasets')")
    return fields, questions


def _question(name: str, value_feature: dict[str, Any], rows: list[dict[str, Any]]) -> Question:
    seen = [_value(answer["value"]) for row in rows for answer in row[name] or []]
    seen += [_value(row.get(f"{name}-suggestion")) for row in rows if row.get(f"{name}-suggestion") is not None]
    submitted = {(i, a["user_id"]) for i, row in enumerate(rows) for q in _question_names(row)
                 for a in row[q] or [] if a["status"] == "submitted"}
    answered = {(i, a["user_id"]) for i, row in enumerate(rows) for a in row[name] or [] if a["status"] == "submitted"}
    return Question(name, _kind(value_feature, seen), seen, required=bool(submitted) and submitted <= answered)


def _question_names(row: dict[str, Any]) -> list[str]:
    return [key for key, value in row.items() if isinstance(value, list) and value and isinstance(value[0], dict)
            and "user_id" in value[0]]


def _kind(feature: dict[str, Any], seen: list[Any]) -> str:
    """The kind of a question from its value's feature as written (``Value`` with a dtype, or a
    ``Sequence``/``List`` of strings or of ``{rank, value}``)."""
    dtype = str(feature.get("dtype", ""))
    if "int" in dtype or "float" in dtype:
        return "rating"
    inner = feature.get("feature")
    if inner is not None:
        return "ranking" if "_type" not in inner else "multiLabel"
    distinct = {v for v in seen if isinstance(v, str)}
    short = all(len(v) <= MAX_LABEL_LENGTH and "\n" not in v for v in distinct)
    return "label" if distinct and short and len(distinct) <= MAX_LABELS else "text"


def _value(value: Any) -> Any:
    """Argilla's columnar ranking ``{rank: [...], value: [...]}`` as ``[{value, rank}]``."""
    if isinstance(value, dict) and set(value) == {"rank", "value"}:
        return [{"value": v, "rank": r} for v, r in zip(value["value"], value["rank"], strict=True)]
    return value


def _options(question: Question) -> list[str]:
    values: dict[str, None] = {}
    for value in question.seen:
        for item in value if isinstance(value, list) else [value]:
            values[item["value"] if isinstance(item, dict) else item] = None
    return list(values)


def _question_input(question: Question) -> dict[str, Any]:
    options = [{"value": option, "text": option} for option in _options(question)]
    if question.kind == "rating":
        numbers = [int(v) for v in question.seen] or [1, 5]
        settings: dict[str, Any] = {"rating": {"values": list(range(min(numbers), max(numbers) + 1))}}
    elif question.kind == "text":
        settings = {"text": {}}
    else:
        settings = {question.kind: {"options": options}}
    return {"name": question.name, "required": question.required, "settings": settings}


def _username(usernames: dict[str, str], user_id: str) -> str:
    return usernames.get(user_id) or f"argilla-{user_id[:8]}"


def _user_ids(row: dict[str, Any], questions: list[Question]) -> Iterator[str]:
    for question in questions:
        for answer in row[question.name] or []:
            yield answer["user_id"]


def _workspace(client: Client, name: str) -> str:
    for workspace in client.execute(WORKSPACES)["workspaces"]:
        if workspace["name"] == name:
            return str(workspace["id"])
    return str(client.execute(CREATE_WORKSPACE, {"n": name})["createWorkspace"]["id"])


def _users(client: Client, workspace_id: str, names: set[str]) -> None:
    existing = {user["username"]: user["id"] for user in client.execute(USERS)["users"]}
    for name in sorted(names):
        if name in existing:
            client.execute(ADD_MEMBER, {"w": workspace_id, "u": existing[name]})
        else:
            client.execute(CREATE_USER, {"input": {"username": name, "role": "ANNOTATOR",
                                                   "workspaceIds": [workspace_id]}})


def _record(row: dict[str, Any], field_names: list[str], questions: list[Question],
            usernames: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {"fields": {name: row[name] for name in field_names if row.get(name) is not None}}
    if row.get("external_id"):
        record["externalId"] = str(row["external_id"])
    metadata = row.get("metadata")
    record["metadata"] = json.loads(metadata) if isinstance(metadata, str) else (metadata or {})
    record["suggestions"] = [_suggestion(row, q) for q in questions if row.get(f"{q.name}-suggestion") is not None]
    record["responses"] = _responses(row, questions, usernames)
    return record


def _suggestion(row: dict[str, Any], question: Question) -> dict[str, Any]:
    about = row.get(f"{question.name}-suggestion-metadata") or {}
    score = about.get("score")
    return {"question": question.name, "value": {question.kind: _value(row[f"{question.name}-suggestion"])},
            "score": score if isinstance(score, int | float) else None, "agent": about.get("agent")}


def _responses(row: dict[str, Any], questions: list[Question], usernames: dict[str, str]) -> list[dict[str, Any]]:
    by_user: dict[str, dict[str, Any]] = {}
    for question in questions:
        for answer in row[question.name] or []:
            response = by_user.setdefault(answer["user_id"], {
                "user": _username(usernames, answer["user_id"]), "status": answer["status"].upper(), "values": []})
            if answer["value"] is not None:
                response["values"].append({"question": question.name,
                                           "value": {question.kind: _value(answer["value"])}})
    return list(by_user.values())

"""Contract checks: a kind run through the service end to end, as the core will use it.

``check_question_kind`` configures a dataset with the question, refuses bad settings, takes a
suggestion, refuses bad answers, takes one submitted answer per given value (one annotator
each), unifies with every declared strategy, measures agreement at the declared level and
exports the records. ``check_field_kind`` does the same for a field's values. Each failure is
an ``AssertionError`` that says which step broke.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from typing import Any

from feedbackql_server.testing.client import FeedbackQLClient

PROMPT = {"name": "prompt", "settings": {"text": {}}}
SUBMIT = """mutation($i: ResponseInput!) { submitResponse(input: $i) { values { question json } } }"""


def _expect_validation(client: FeedbackQLClient, step: str, query: str, variables: dict[str, Any]) -> None:
    body = client.raw(query, variables)
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors") or []]
    assert codes[:1] in (["VALIDATION"], ["GRAPHQL_VALIDATION"]), f"{step}: expected a VALIDATION error, got {body}"


def _kind_type(client: FeedbackQLClient, family: str, kind: str) -> dict[str, Any]:
    extra = "strategies agreement" if family == "questionTypes" else ""
    listed = client(f"{{ {family} {{ name settingsSchema valueSchema {extra} }} }}")[family]
    entry = next((item for item in listed if item["name"] == kind), None)
    assert entry is not None, f"{family}: kind {kind!r} is not listed; is its plugin registered?"
    assert isinstance(entry["settingsSchema"], dict), f"{kind}: settingsSchema is not a JSON Schema object"
    assert isinstance(entry["valueSchema"], dict), f"{kind}: valueSchema is not a JSON Schema object"
    return dict(entry)


def check_question_kind(client: FeedbackQLClient, kind: str, settings: dict[str, Any], answers: Sequence[Any],
                        *, invalid_answers: Sequence[Any] = (), invalid_settings: Sequence[dict[str, Any]] = (),
                        fields: Sequence[dict[str, Any]] = (PROMPT,), record: dict[str, Any] | None = None,
                        ) -> None:
    """Run question kind ``kind`` through the service. ``settings`` and ``answers`` are in their
    GraphQL input form (``answers``: two or more valid values, each submitted by another
    annotator); ``invalid_*`` must be refused with a VALIDATION error. ``fields`` are the
    dataset's fields (``FieldInput``s; default: one text field ``prompt``) and ``record`` the
    field values of the record answered (default: a prompt), for kinds whose settings or answers
    depend on them (a span question names a field and marks its text)."""
    assert len(answers) >= 2, "give two or more answers: unification and agreement compare them"
    entry = _kind_type(client, "questionTypes", kind)
    ws = client.workspace()
    for number, bad in enumerate(invalid_settings):
        _expect_validation(client, f"invalid settings #{number}", """mutation($i: CreateDatasetInput!) {
            createDataset(input: $i) { id } }""", {"i": {"workspaceId": ws, "name": f"bad-{number}",
                                                        "fields": list(fields),
                                                        "questions": [{"name": "q", "settings": {kind: bad}}]}})
    dataset = client.dataset(ws, fields=list(fields), questions=[{"name": "q", "settings": {kind: settings}}])
    values = record if record is not None else {"prompt": "a prompt"}
    added = client.add_records(dataset, [{"externalId": "r1", "fields": values,
                                          "suggestions": [{"question": "q", "value": {kind: answers[0]}}]}])
    assert added["errors"] == [], f"suggestion {answers[0]!r} was refused: {added['errors']}"
    (record,) = client.records(dataset)
    assert [s["question"] for s in record["suggestions"]] == ["q"], "the suggestion was not stored"
    for number, bad in enumerate(invalid_answers):
        _expect_validation(client, f"invalid answer #{number} ({bad!r})", SUBMIT, {"i": {
            "recordId": record["id"], "status": "SUBMITTED", "values": [{"question": "q", "value": {kind: bad}}]}})
    stored = [_submit(client.annotator(f"annotator-{n}-{secrets.token_hex(4)}", ws), record["id"], kind, answer)
              for n, answer in enumerate(answers)]
    _check_unification(client, dataset, entry.get("strategies") or [])
    _check_agreement(client, dataset, entry.get("agreement"), len(answers))
    _check_export(client, dataset, stored)


def _submit(annotator: FeedbackQLClient, record_id: str, kind: str, answer: Any) -> Any:
    data = annotator(SUBMIT, {"i": {"recordId": record_id, "status": "SUBMITTED",
                                    "values": [{"question": "q", "value": {kind: answer}}]}})
    (value,) = data["submitResponse"]["values"]
    return value["json"]


def _check_unification(client: FeedbackQLClient, dataset: str, strategies: Sequence[str]) -> None:
    for strategy in strategies:
        data = client("""query($id: ID!, $s: String) { unifiedAnswers(datasetId: $id, question: "q", strategy: $s) {
            edges { node { value tie disagreement } } } }""", {"id": dataset, "s": strategy})
        edges = data["unifiedAnswers"]["edges"]
        assert len(edges) == 1, f"unification {strategy!r}: expected one unified record, got {edges}"
        assert edges[0]["node"]["value"] is not None, f"unification {strategy!r} gave no value"


def _check_agreement(client: FeedbackQLClient, dataset: str, level: str | None, answers: int) -> None:
    if level in (None, "NONE"):
        return
    report = client("""query($id: ID!) { agreement(datasetId: $id, question: "q") { level alpha records pairs } }""",
                    {"id": dataset})["agreement"]
    assert report["level"] == level, f"agreement: level {report['level']} is not the declared {level}"
    assert report["records"] == 1, f"agreement: expected the record with {answers} answers, got {report}"


def _check_export(client: FeedbackQLClient, dataset: str, stored: Sequence[Any]) -> None:
    response = client.http.get(f"/datasets/{dataset}/export", params={"format": "jsonl"},
                               headers={"Authorization": f"Bearer {client.api_key}"})
    assert response.status_code == 200, f"export: HTTP {response.status_code}: {response.text}"
    rows = [json.loads(line) for line in response.text.splitlines() if line]
    exported = sorted(json.dumps(r["values"]["q"], sort_keys=True) for row in rows for r in row["responses"])
    assert exported == sorted(json.dumps(v, sort_keys=True) for v in stored), \
        f"export: the answers exported {exported} are not the answers stored {stored}"


def check_field_kind(client: FeedbackQLClient, kind: str, settings: dict[str, Any], values: Sequence[Any],
                     *, invalid_values: Sequence[Any] = (), invalid_settings: Sequence[dict[str, Any]] = (),
                     fields: Sequence[dict[str, Any]] = (), record: dict[str, Any] | None = None) -> None:
    """Run field kind ``kind`` through the service: ``values`` are stored one record each (as
    field ``f``) and read back; ``invalid_*`` must be refused with a VALIDATION error and store
    nothing. ``fields`` are the dataset's other fields (``FieldInput``s) and ``record`` their
    values in every record, for kinds checked against the rest of the dataset."""
    _kind_type(client, "fieldTypes", kind)
    ws = client.workspace()
    for number, bad in enumerate(invalid_settings):
        _expect_validation(client, f"invalid settings #{number}", """mutation($i: CreateDatasetInput!) {
            createDataset(input: $i) { id } }""", {"i": {"workspaceId": ws, "name": f"bad-{number}",
                                                        "fields": [{"name": "f", "settings": {kind: bad}}, *fields]}})
    dataset = client.dataset(ws, fields=[{"name": "f", "settings": {kind: settings}}, *fields],
                             questions=[{"name": "q", "settings": {"text": {}}}])
    others = dict(record or {})
    for number, bad in enumerate(invalid_values):
        result = client.add_records(dataset, [{"fields": {**others, "f": bad}}])
        codes = [e["code"] for e in result["errors"]]
        assert codes == ["VALIDATION"], f"invalid value #{number} ({bad!r}): expected VALIDATION, got {result}"
    added = client.add_records(dataset, [{"externalId": str(n), "fields": {**others, "f": v}}
                                         for n, v in enumerate(values)])
    assert added["errors"] == [], f"values were refused: {added['errors']}"
    records = client.records(dataset)
    assert len(records) == len(values), f"expected {len(values)} records, read {len(records)}"
    for record in records:
        assert record["fields"]["f"] is not None, f"record {record['externalId']}: the field value was not kept"

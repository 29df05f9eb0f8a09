"""Re-adding records by externalId never changes a record under its answers without being told,
keeps what it does not mention, and reports created, updated, unchanged and refused."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from feedbackql_server.domain.datasets import recount
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import GraphQLClient
from tests.test_plugin_changes import StarsV1, server, stars_plugin
from tests.test_progress_counters import PROGRESS

ADD = """mutation($id: ID!, $records: [RecordInput!]!, $on: RecordConflictPolicy) {
  addRecords(datasetId: $id, records: $records, onConflict: $on) {
    created updated unchanged refused responses errors { index code message problems } } }"""
RECORD = """query($id: ID!) { records(datasetId: $id, first: 10, filter: {externalIds: ["pr-1"]}) { edges { node {
  id fields metadata status suggestions { question agent score json } responses { user { username } status } } } } }"""
RATED = {"fields": [{"name": "prompt", "settings": h.TEXT}],
         "questions": [{"name": "quality", "settings": {"rating": {"values": [1, 2, 3, 4, 5]}}},
                       {"name": "note", "required": False, "settings": {"text": {}}}]}
ORIGINAL = {"externalId": "pr-1", "fields": {"prompt": "What is 2+2?"}, "metadata": {"source": "seed"},
            "suggestions": [{"question": "quality", "value": {"rating": 4}, "agent": "model-a", "score": 0.5},
                            {"question": "note", "value": {"text": "fine"}, "agent": "model-b"}]}
RATE = """mutation($r: ID!) { submitResponse(input: {recordId: $r, status: SUBMITTED,
  values: [{question: "quality", value: {rating: 5}}]}) { id } }"""


async def _add(gql: GraphQLClient, dataset_id: str, records: list[dict[str, Any]], on: str | None = None) -> Any:
    variables = {"id": dataset_id, "records": records, **({"on": on} if on else {})}
    return (await gql(ADD, variables))["addRecords"]


async def _record(gql: GraphQLClient, dataset_id: str) -> Any:
    (edge,) = (await gql(RECORD, {"id": dataset_id}))["records"]["edges"]
    return edge["node"]


async def _answered(gql: GraphQLClient) -> tuple[str, str]:
    """A dataset holding ``ORIGINAL``, answered by a labeler; (dataset id, record id)."""
    workspace = await h.workspace(gql)
    dataset_id = str((await h.dataset(gql, workspace, **RATED))["id"])
    assert (await _add(gql, dataset_id, [ORIGINAL]))["created"] == 1
    record_id = (await _record(gql, dataset_id))["id"]
    labeler = await h.new_user(gql, "labeler", workspaces=[workspace])
    await labeler(RATE, {"r": record_id})
    return dataset_id, record_id


async def _counters_match_a_recount(gql: GraphQLClient, dataset_id: str) -> Any:
    moved = await gql(PROGRESS, {"id": dataset_id})
    storage: Any = gql.http._transport.app.state.storage  # type: ignore[attr-defined]
    await recount(storage, await storage.datasets.get(ObjectId(dataset_id)))
    assert moved == await gql(PROGRESS, {"id": dataset_id})
    return moved


async def test_changed_fields_of_an_answered_record_are_refused_and_nothing_changes(gql: GraphQLClient) -> None:
    dataset_id, _ = await _answered(gql)
    before = await _record(gql, dataset_id)
    edited = {"externalId": "pr-1", "fields": {"prompt": "EDITED"}}
    report = await _add(gql, dataset_id, [edited, {"externalId": "pr-2", "fields": {"prompt": "new"}}])
    assert (report["created"], report["updated"], report["unchanged"], report["refused"]) == (1, 0, 0, 1)
    (error,) = report["errors"]
    assert (error["index"], error["code"]) == (0, "CONFLICT")
    assert error["problems"][0]["reason"] == "answered_record"
    assert "onConflict" in error["message"]
    assert await _record(gql, dataset_id) == before


async def test_keep_responses_replaces_the_fields_and_keeps_answers_and_unnamed_suggestions(gql: GraphQLClient) -> None:
    dataset_id, record_id = await _answered(gql)
    edited = {"externalId": "pr-1", "fields": {"prompt": "EDITED"},
              "suggestions": [{"question": "quality", "value": {"rating": 2}, "agent": "model-c"}]}
    report = await _add(gql, dataset_id, [edited], on="KEEP_RESPONSES")
    assert (report["created"], report["updated"], report["refused"]) == (0, 1, 0)
    after = await _record(gql, dataset_id)
    assert after["id"] == record_id
    assert after["fields"] == {"prompt": "EDITED"}
    assert after["metadata"] == {"source": "seed"}  # not given: kept
    assert [(s["question"], s["agent"], s["json"]) for s in after["suggestions"]] == [
        ("quality", "model-c", 2), ("note", "model-b", "fine")]
    assert [(r["user"]["username"], r["status"]) for r in after["responses"]] == [("labeler", "SUBMITTED")]
    await _counters_match_a_recount(gql, dataset_id)


async def test_discard_responses_adds_the_record_again_without_its_answers(gql: GraphQLClient) -> None:
    dataset_id, record_id = await _answered(gql)
    report = await _add(gql, dataset_id, [{"externalId": "pr-1", "fields": {"prompt": "EDITED"}}],
                        on="DISCARD_RESPONSES")
    assert (report["created"], report["updated"], report["refused"]) == (0, 1, 0)
    after = await _record(gql, dataset_id)
    assert after["id"] != record_id
    assert after["fields"] == {"prompt": "EDITED"}
    assert (after["status"], after["responses"]) == ("PENDING", [])
    assert len(after["suggestions"]) == 2  # not named by the re-add: kept
    progress = await _counters_match_a_recount(gql, dataset_id)
    assert progress["datasetProgress"]["total"] == 1
    assert progress["datasetProgress"]["responses"]["submitted"] == 0


async def test_unchanged_records_are_reported_as_such_and_not_written(gql: GraphQLClient) -> None:
    dataset_id, _ = await _answered(gql)
    before = await _record(gql, dataset_id)
    report = await _add(gql, dataset_id, [ORIGINAL])
    assert (report["created"], report["updated"], report["unchanged"], report["errors"]) == (0, 0, 1, [])
    # Naming one suggestion, as it is, and no metadata changes nothing either.
    partial = {"externalId": "pr-1", "fields": ORIGINAL["fields"], "suggestions": ORIGINAL["suggestions"][:1]}
    assert (await _add(gql, dataset_id, [partial]))["unchanged"] == 1
    assert await _record(gql, dataset_id) == before
    storage: Any = gql.http._transport.app.state.storage  # type: ignore[attr-defined]
    stored = await storage.records.get(ObjectId(before["id"]))
    assert stored["updated_at"] == stored["created_at"]


async def test_a_record_without_answers_is_updated_and_keeps_unnamed_suggestions(gql: GraphQLClient) -> None:
    workspace = await h.workspace(gql)
    dataset_id = str((await h.dataset(gql, workspace, **RATED))["id"])
    await _add(gql, dataset_id, [ORIGINAL])
    report = await _add(gql, dataset_id, [{"externalId": "pr-1", "fields": {"prompt": "v2"}, "metadata": {}}])
    assert (report["updated"], report["refused"]) == (1, 0)
    after = await _record(gql, dataset_id)
    assert (after["fields"], after["metadata"], len(after["suggestions"])) == ({"prompt": "v2"}, {}, 2)


async def test_records_stored_before_hashes_existed_are_recognised_as_unchanged(gql: GraphQLClient) -> None:
    workspace = await h.workspace(gql)
    dataset_id = str((await h.dataset(gql, workspace, **RATED))["id"])
    await _add(gql, dataset_id, [ORIGINAL])
    storage: Any = gql.http._transport.app.state.storage  # type: ignore[attr-defined]
    await storage.records.collection.update_many({"dataset_id": ObjectId(dataset_id)},
                                                 {"$unset": {"content_hash": "", "input_hash": ""}})
    assert (await _add(gql, dataset_id, [ORIGINAL]))["unchanged"] == 1
    stored = await storage.records.collection.find_one({"dataset_id": ObjectId(dataset_id)})
    assert stored["content_hash"]  # remembered: the next re-add takes the fast path
    assert stored["input_hash"]


async def test_known_records_inside_a_batch_of_new_ones_are_still_recognised(gql: GraphQLClient) -> None:
    """A batch whose first, middle and last records are new is inserted without lookups; the
    known ones among them come back from the unique index and are sorted as re-adds."""
    dataset_id = await h.sft_dataset(gql)
    known = [{"externalId": f"k{i}", "fields": {"prompt": f"p{i}"}} for i in range(3)]
    await _add(gql, dataset_id, known)
    batch = [{"externalId": "n0", "fields": {"prompt": "x"}}, known[0],
             {"externalId": "n1", "fields": {"prompt": "x"}}, {**known[1], "fields": {"prompt": "changed"}},
             {"externalId": "n2", "fields": {"prompt": "x"}}]
    report = await _add(gql, dataset_id, batch)
    assert (report["created"], report["updated"], report["unchanged"], report["errors"]) == (3, 1, 1, [])
    page = (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]
    assert page["totalCount"] == 6


async def test_a_suggestion_of_an_uninstalled_kind_survives_a_re_add(settings: Settings) -> None:
    async with server(settings, stars_plugin("1.0", StarsV1, migrates=False)) as gql:
        dataset_id = await h.sft_dataset(gql, questions=[
            {"name": "completion", "settings": {"text": {}}},
            {"name": "stars", "required": False, "settings": {"stars": {"most": 5}}}])
        await _add(gql, dataset_id, [{"externalId": "pr-1", "fields": {"prompt": "p"}, "suggestions": [
            {"question": "stars", "value": {"stars": 4}, "agent": "m"}]}])
    async with server(settings) as gql:  # the plugin was uninstalled
        report = await _add(gql, dataset_id, [{"externalId": "pr-1", "fields": {"prompt": "changed"}, "suggestions": [
            {"question": "completion", "value": {"text": "a draft"}}]}])
        assert (report["updated"], report["errors"]) == (1, [])
        after = await _record(gql, dataset_id)
        assert after["fields"] == {"prompt": "changed"}
        assert [(s["question"], s["json"]) for s in after["suggestions"]] == [("stars", 4), ("completion", "a draft")]

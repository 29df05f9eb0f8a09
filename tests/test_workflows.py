"""The seed's three workflows end to end: SFT completions, comparisons, prompt rating."""

from __future__ import annotations

from tests import helpers as h
from tests.conftest import GraphQLClient

RECORD = """query($id: ID!) { record(id: $id) { id status externalId fields
  suggestions { question score agent value { __typename ... on RatingValue { rating }
    ... on RankingValue { ranking { value rank } } ... on TextValue { text } } }
  responses { status user { username } values { question value { __typename
    ... on TextValue { text } ... on RatingValue { rating } ... on RankingValue { ranking { value rank } } } } } } }"""


async def test_sft_completions(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    result = await h.add_records(gql, dataset_id, [
        {"externalId": "p1", "fields": {"prompt": "What is RLHF?"},
         "suggestions": [{"question": "completion", "value": {"text": "A method..."},
                          "score": 0.4, "agent": "gpt-x"}]},
        {"externalId": "p2", "fields": {"prompt": "Write a haiku."}},
    ])
    assert result == {"created": 2, "updated": 0, "errors": []}
    page = (await gql(h.RECORDS, {"id": dataset_id, "first": 10}))["records"]
    assert page["totalCount"] == 2
    record_id = page["edges"][0]["node"]["id"]

    alice = await h.new_user(gql, "alice", workspaces=[await h.workspace_of(gql, dataset_id)])
    submitted = await alice(h.SUBMIT, {"input": {
        "recordId": record_id, "status": "SUBMITTED",
        "values": [{"question": "completion", "value": {"text": "Reinforcement learning from human feedback."}}],
    }})
    assert submitted["submitResponse"]["status"] == "SUBMITTED"
    assert submitted["submitResponse"]["user"]["username"] == "alice"

    record = (await gql(RECORD, {"id": record_id}))["record"]
    assert record["status"] == "COMPLETED"
    assert record["fields"] == {"prompt": "What is RLHF?"}
    assert record["suggestions"] == [{"question": "completion", "score": 0.4, "agent": "gpt-x",
                                      "value": {"__typename": "TextValue", "text": "A method..."}}]
    assert record["responses"] == [{
        "status": "SUBMITTED", "user": {"username": "alice"},
        "values": [{"question": "completion", "value": {
            "__typename": "TextValue", "text": "Reinforcement learning from human feedback."}}],
    }]


async def test_comparison_ranking(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="comparison", fields=[
        {"name": "prompt", "settings": h.TEXT},
        {"name": "response-1", "settings": h.TEXT},
        {"name": "response-2", "settings": h.TEXT},
    ], questions=[{"name": "preference", "settings": {"ranking": {"options": h.RANKING_OPTIONS}}}],
        distribution={"minSubmitted": 2})
    assert created["questions"][0]["settings"] == {
        "__typename": "RankingQuestionSettings", "options": h.RANKING_OPTIONS}
    await h.add_records(gql, created["id"], [{"fields": {
        "prompt": "Say hi", "response-1": "Hi!", "response-2": "Go away."},
        "suggestions": [{"question": "preference", "value": {"ranking": [
            {"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}}]}])
    page = (await gql(h.RECORDS, {"id": created["id"], "first": 1}))["records"]
    record_id = page["edges"][0]["node"]["id"]

    ranking = [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]
    for name in ("ann", "bob"):
        user = await h.new_user(gql, name, workspaces=[await h.workspace_of(gql, created["id"])])
        await user(h.SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED",
                                        "values": [{"question": "preference",
                                                    "value": {"ranking": ranking}}]}})
        record = (await gql(RECORD, {"id": record_id}))["record"]
        assert record["status"] == ("PENDING" if name == "ann" else "COMPLETED")
    assert [r["values"][0]["value"]["ranking"] for r in record["responses"]] == [ranking, ranking]
    page = await gql("""query($id: ID!) { records(datasetId: $id, first: 10) { edges { node {
        responses { user { username } } suggestions { agent } } } } }""", {"id": created["id"]})
    (edge,) = page["records"]["edges"]
    assert [r["user"]["username"] for r in edge["node"]["responses"]] == ["ann", "bob"]


async def test_prompt_rating_and_labels(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="prompts", fields=[
        {"name": "prompt", "settings": h.TEXT}], questions=[
        {"name": "quality", "settings": {"rating": {"values": [1, 2, 3, 4, 5, 6, 7]}}},
        {"name": "topic", "settings": {"label": {"options": [
            {"value": "code", "text": "Code"}, {"value": "chat", "text": "Chat"}]}}},
        {"name": "flags", "required": False, "settings": {"multiLabel": {"options": [
            {"value": "toxic", "text": "Toxic"}, {"value": "pii", "text": "PII"}]}}},
        {"name": "comment", "required": False, "settings": {"text": {"useMarkdown": True}}},
    ])
    await h.add_records(gql, created["id"], [{"fields": {"prompt": "Fix my bug"}}])
    record_id = (await gql(h.RECORDS, {"id": created["id"], "first": 1}))["records"]["edges"][0]["node"]["id"]
    data = await gql(h.SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED", "values": [
        {"question": "quality", "value": {"rating": 6}},
        {"question": "topic", "value": {"label": "code"}},
        {"question": "flags", "value": {"multiLabel": ["pii", "toxic"]}},
    ]}})
    values = {v["question"]: v["value"] for v in data["submitResponse"]["values"]}
    assert values == {
        "quality": {"__typename": "RatingValue", "rating": 6},
        "topic": {"__typename": "LabelValue", "label": "code"},
        "flags": {"__typename": "MultiLabelValue", "multiLabel": ["pii", "toxic"]},
    }

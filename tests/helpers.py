"""Operations and dataset set-ups shared by the tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tests.conftest import GraphQLClient

CREATE_WORKSPACE = "mutation($n: String!) { createWorkspace(name: $n) { id name } }"
CREATE_DATASET = """
mutation($input: CreateDatasetInput!) {
  createDataset(input: $input) { id name status guidelines
    fields { name title required kind settings { __typename ... on TextFieldSettings { useMarkdown } } }
    questions { name kind required settings { __typename
      ... on RatingQuestionSettings { values }
      ... on RankingQuestionSettings { options { value text } } } } }
}"""
PUBLISH = "mutation($id: ID!) { publishDataset(id: $id) { id status } }"
ADD_RECORDS = """
mutation($id: ID!, $records: [RecordInput!]!) {
  addRecords(datasetId: $id, records: $records) { created updated errors { index code message } }
}"""
SUBMIT = """
mutation($input: ResponseInput!) {
  submitResponse(input: $input) { id status version values { question value {
    __typename ... on TextValue { text } ... on RatingValue { rating }
    ... on RankingValue { ranking { value rank } } ... on LabelValue { label }
    ... on MultiLabelValue { multiLabel } } } user { username } }
}"""
RECORDS = """
query($id: ID!, $first: Int!, $after: String, $filter: RecordFilter, $sort: RecordSort) {
  records(datasetId: $id, first: $first, after: $after, filter: $filter, sort: $sort) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id externalId fields metadata status } }
  }
}"""
CREATE_USER = """
mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey user { id username role } } }
"""

TEXT = {"text": {"useMarkdown": False}}
RANKING_OPTIONS = [{"value": "response-1", "text": "Response 1"},
                   {"value": "response-2", "text": "Response 2"}]


async def workspace(gql: GraphQLClient, name: str = "team") -> str:
    data = await gql(CREATE_WORKSPACE, {"n": name})
    return str(data["createWorkspace"]["id"])


async def dataset(gql: GraphQLClient, workspace_id: str, *, publish: bool = True,
                  **overrides: Any) -> dict[str, Any]:
    spec = {"workspaceId": workspace_id, "name": "sft", **overrides}
    created: dict[str, Any] = (await gql(CREATE_DATASET, {"input": spec}))["createDataset"]
    if publish:
        await gql(PUBLISH, {"id": created["id"]})
    return created


async def sft_dataset(gql: GraphQLClient, **overrides: Any) -> str:
    """The seed's SFT set-up: a prompt field and a required completion question."""
    ws = await workspace(gql)
    created = await dataset(gql, ws, **{
        "guidelines": "Write a harmless and helpful response.",
        "fields": [{"name": "prompt", "settings": TEXT}],
        "questions": [{"name": "completion", "title": "Write a response",
                       "settings": {"text": {}}}],
        **overrides,
    })
    return str(created["id"])


async def add_records(gql: GraphQLClient, dataset_id: str, records: list[dict[str, Any]]) -> Any:
    return (await gql(ADD_RECORDS, {"id": dataset_id, "records": records}))["addRecords"]


async def new_user(gql: GraphQLClient, username: str, role: str = "ANNOTATOR",
                   workspaces: Sequence[str] = ()) -> GraphQLClient:
    data = await gql(CREATE_USER, {"input": {"username": username, "role": role,
                                             "workspaceIds": list(workspaces)}})
    return gql.as_user(data["createUser"]["apiKey"])


async def workspace_of(gql: GraphQLClient, dataset_id: str) -> str:
    data = await gql("query($id: ID!) { dataset(id: $id) { workspace { id } } }", {"id": dataset_id})
    return str(data["dataset"]["workspace"]["id"])

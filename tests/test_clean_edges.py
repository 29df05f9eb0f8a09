"""Clean edges (issue 20, item 7): malformed bodies and oversized numbers get a typed 400 or
validation error (never a 500 or INTERNAL), several operations need a name, batch errors name
their input, and refusals name the right verb and the right package extra."""

from __future__ import annotations

import json
import sys
import tomllib

import pytest

from feedbackql_server.errors import Invalid
from feedbackql_server.export.formats import DISTRIBUTION, Parquet
from tests import helpers as h
from tests.conftest import GraphQLClient, repo_root

SUBMIT_MANY = "mutation($inputs: [ResponseInput!]!) { submitResponses(inputs: $inputs) { id } }"
WORKSPACES = "{ workspaces { name } }"


async def post(gql: GraphQLClient, body: str) -> tuple[int, dict[str, object]]:
    response = await gql.http.post("/graphql", content=body.encode(), headers={
        "Authorization": f"Bearer {gql.api_key}", "Content-Type": "application/json"})
    return response.status_code, response.json()


def first_error(body: dict[str, object]) -> dict[str, object]:
    errors = body["errors"]
    assert isinstance(errors, list)
    error: dict[str, object] = errors[0]
    return error


@pytest.mark.parametrize("body", ["null", "1", '"x"', "true", "1.5"])
async def test_a_body_that_is_not_an_object_is_a_typed_bad_request(gql: GraphQLClient, body: str) -> None:
    status, answer = await post(gql, body)
    assert status == 400
    error = first_error(answer)
    assert error["extensions"] == {"code": "BAD_REQUEST"}
    assert "JSON object" in str(error["message"])


async def test_an_integer_variable_of_4300_digits_is_a_validation_error(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    query = "query($id: ID!, $n: Int!) { records(datasetId: $id, first: $n) { totalCount } }"
    body = json.dumps({"query": query, "variables": {"id": dataset_id, "n": 0}}).replace(
        '"n": 0', '"n": ' + "9" * 4300)
    status, answer = await post(gql, body)
    assert status == 200
    error = first_error(answer)
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION"}
    assert "64 bits" in str(error["message"])


async def test_an_integer_literal_of_thousands_of_digits_is_a_validation_error(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    query = f'{{ records(datasetId: "{dataset_id}", first: {"9" * 5000}) {{ totalCount }} }}'
    status, answer = await post(gql, json.dumps({"query": query}))
    assert status == 200
    assert [e["extensions"]["code"] for e in answer["errors"]] == ["GRAPHQL_VALIDATION"]  # type: ignore[attr-defined, index]
    assert "5000 digits" in str(first_error(answer)["message"])


async def test_integers_beyond_64_bits_in_json_data_stay_errors_of_their_record(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, allowExtraMetadata=True)
    literal = (f'mutation {{ addRecords(datasetId: "{dataset_id}", records: [{{fields: {{prompt: "a"}}}}, '
               f'{{fields: {{prompt: "b"}}, metadata: {{m: {"9" * 30}}}}}]) {{ created errors {{ index code }} }} }}')
    added = (await gql(literal))["addRecords"]
    assert added == {"created": 1, "errors": [{"index": 1, "code": "VALIDATION"}]}


async def test_a_64_bit_integer_literal_is_still_stored(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, allowExtraMetadata=True)
    query = (f'mutation {{ addRecords(datasetId: "{dataset_id}", records: [{{fields: {{prompt: "p"}}, '
             f'metadata: {{big: {2**63 - 1}}}}}]) {{ created }} }}')
    assert (await gql(query))["addRecords"]["created"] == 1


async def test_two_operations_without_an_operation_name_are_refused(gql: GraphQLClient) -> None:
    document = 'mutation Make { createWorkspace(name: "made") { id } } query Look { workspaces { name } }'
    status, answer = await post(gql, json.dumps({"query": document}))
    assert status == 200
    error = first_error(answer)
    assert error["extensions"] == {"code": "GRAPHQL_VALIDATION"}
    assert "operationName" in str(error["message"])
    assert (await gql(WORKSPACES))["workspaces"] == []  # the first operation did not run
    status, answer = await post(gql, json.dumps({"query": document, "operationName": "Look"}))
    assert answer == {"data": {"workspaces": []}}


async def test_submit_responses_names_the_input_that_failed(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "a"}}, {"fields": {"prompt": "b"}}])
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 2})
    first, second = (edge["node"]["id"] for edge in page["records"]["edges"])
    good = {"recordId": first, "status": "SUBMITTED", "values": [{"question": "completion", "value": {"text": "ok"}}]}
    bad = {"recordId": second, "status": "SUBMITTED", "values": [{"question": "completion", "value": {"rating": 1}}]}
    error = await gql.error(SUBMIT_MANY, {"inputs": [good, bad]})
    assert error["extensions"]["code"] == "VALIDATION"
    assert error["message"].startswith("inputs[1].values[0].value: ")
    assert error["extensions"]["path"] == ["inputs", 1, "values", 0, "value"]
    responses = await gql("query($id: ID!) { record(id: $id) { responses { id } } }", {"id": first})
    assert responses["record"]["responses"] == []  # one bad input writes none


async def test_a_missing_record_in_a_batch_is_named_by_its_input(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "a"}}])
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 1})
    record = page["records"]["edges"][0]["node"]["id"]
    answer = {"status": "SUBMITTED", "values": [{"question": "completion", "value": {"text": "ok"}}]}
    error = await gql.error(SUBMIT_MANY, {"inputs": [{**answer, "recordId": record},
                                                     {**answer, "recordId": "0" * 24}]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    assert error["message"].startswith("inputs[1]: ")


async def test_a_read_refused_to_an_annotator_says_read(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    annotator = await h.new_user(gql, "ann", workspaces=[await h.workspace_of(gql, dataset_id)])
    response = await gql.http.get(f"/datasets/{dataset_id}/export",
                                  headers={"Authorization": f"Bearer {annotator.api_key}"})
    assert response.status_code == 403
    message = response.json()["errors"][0]["message"]
    assert "read" in message
    assert "change" not in message
    error = await annotator.error("query($id: ID!) { agreement(datasetId: $id, question: \"completion\") "
                                  "{ question } }", {"id": dataset_id})
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "change" not in error["message"]
    denied = await annotator.error(h.ADD_RECORDS, {"id": dataset_id, "records": [{"fields": {"prompt": "x"}}]})
    assert "change datasets" in denied["message"]  # a change is still refused as one


def test_the_parquet_error_names_an_extra_that_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if pyarrow were not installed
    with pytest.raises(Invalid) as refused:
        Parquet().check()
    project = tomllib.loads((repo_root() / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION
    assert "parquet" in project["optional-dependencies"]
    assert f"pip install '{DISTRIBUTION}[parquet]'" in refused.value.message

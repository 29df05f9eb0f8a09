"""Input built to break things gets a typed refusal (never a 500) and changes nothing."""

from __future__ import annotations

import json

from tests import helpers as h
from tests.conftest import GraphQLClient

ADD = ("mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) "
       "{ created errors { code message } } }")


async def post_raw(gql: GraphQLClient, body: str | bytes) -> tuple[int, str]:
    response = await gql.http.post("/graphql", content=body, headers={
        "Authorization": f"Bearer {gql.api_key}", "Content-Type": "application/json"})
    return response.status_code, response.text


async def test_absurdly_nested_json_is_a_bad_request(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    deep = "[" * 100_000 + "]" * 100_000
    body = ('{"query": QUERY, "variables": {"id": "@@ID@@", "r": [{"fields": {"prompt": "x"}, '
            '"metadata": {"m": DEEP}}]}}').replace("QUERY", json.dumps(ADD)).replace(
                "@@ID@@", dataset_id).replace("DEEP", deep)
    status, _ = await post_raw(gql, body)
    assert status == 400
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 1})
    assert page["records"]["totalCount"] == 0


async def test_non_utf8_body_is_a_bad_request(gql: GraphQLClient) -> None:
    status, _ = await post_raw(gql, b"\xff\xfe{}")
    assert status == 400


async def test_lone_surrogates_are_refused(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    body = ('{"query": QUERY, "variables": {"id": "@@ID@@", "r": [{"fields": {"prompt": "x\\ud800y"}}, '
            '{"fields": {"prompt": "ok"}, "externalId": "\\udfff"}]}}').replace(
                "QUERY", json.dumps(ADD)).replace("@@ID@@", dataset_id)
    status, text = await post_raw(gql, body)
    assert status == 200
    result = json.loads(text)["data"]["addRecords"]
    assert result["created"] == 0
    assert [e["code"] for e in result["errors"]] == ["VALIDATION", "VALIDATION"]
    assert "surrogate" in result["errors"][0]["message"]


async def test_a_lone_surrogate_in_an_imported_answer_s_username_is_refused_per_record(gql: GraphQLClient) -> None:
    """Usernames of imported answers are looked up before the records are checked: one the
    database cannot be asked for must refuse its record, not fail the batch."""
    dataset_id = await h.sft_dataset(gql)
    answer = '{"user": "\\udfff", "status": "SUBMITTED", "values": [{"question": "completion", "value": {"text": "a"}}]}'
    body = ('{"query": QUERY, "variables": {"id": "@@ID@@", "r": [{"fields": {"prompt": "x"}, "responses": [ANSWER]}, '
            '{"fields": {"prompt": "ok"}}]}}').replace("QUERY", json.dumps(ADD)).replace("@@ID@@", dataset_id) \
        .replace("ANSWER", answer)
    status, text = await post_raw(gql, body)
    assert status == 200, text
    result = json.loads(text)["data"]["addRecords"]
    assert result["created"] == 1
    assert [e["code"] for e in result["errors"]] == ["VALIDATION"]


async def test_settings_text_that_the_database_refuses_is_a_validation_error(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql)
    error = await gql.error(h.CREATE_DATASET, {"input": {"workspaceId": ws, "name": "d", "questions": [
        {"name": "q", "settings": {"label": {"options": [{"value": "a", "text": "A\u0000"},
                                                       {"value": "b", "text": "B"}]}}}]}})
    assert error["extensions"]["code"] == "VALIDATION"
    assert "NUL" in error["message"]


async def test_filter_values_that_the_database_refuses_are_validation_errors(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    for where in ({"externalIds": ["a\u0000"]}, {"text": "\u0000"},
                  {"metadata": [{"name": "$where", "values": ["x"]}]},
                  {"metadata": [{"name": "m", "values": [{"$gt": 1}]}]}):
        error = await gql.error(h.RECORDS, {"id": dataset_id, "first": 1, "filter": where})
        assert error["extensions"]["code"] == "VALIDATION", where


async def test_form_posts_are_refused(gql: GraphQLClient) -> None:
    response = await gql.http.post("/graphql", data={"query": "{ me { id } }"},
                                   headers={"Authorization": f"Bearer {gql.api_key}"})
    assert response.status_code in (400, 415)


async def test_an_integer_of_thousands_of_digits_is_a_bad_request_in_json(gql: GraphQLClient) -> None:
    body = '{"query": "query($n: Int) { me { id } }", "variables": {"n": ' + "9" * 5000 + "}}"
    status, text = await post_raw(gql, body)
    assert status == 400
    assert json.loads(text)  # the usual JSON shape, never a plain-text 500


async def test_non_finite_export_options_are_refused(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, questions=[{"name": "quality", "settings": {"rating": {"values": [1, 2, 3]}}}])
    for value in ("nan", "inf", "-Infinity"):
        response = await gql.http.get(f"/datasets/{dataset_id}/training/rating_selection",
                                      params={"question": "quality", "threshold": value},
                                      headers={"Authorization": f"Bearer {gql.api_key}"})
        assert response.status_code == 400, value
        assert response.json()["errors"][0]["extensions"]["code"] == "VALIDATION"


async def test_big_bodies_need_a_working_key_before_they_are_read(gql: GraphQLClient) -> None:
    body = json.dumps({"query": "{ me { id } }", "variables": {"pad": "x" * 100_000}})
    for authorization in ({}, {"Authorization": "Bearer fql_random-guess"}):
        response = await gql.http.post("/graphql", content=body, headers={
            "Content-Type": "application/json", **authorization})
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status, _ = await post_raw(gql, body)  # the owner's key works
    assert status == 200


async def test_huge_lists_are_refused_before_coercion(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    records = [{"fields": {"prompt": "x"}}] * 200_000
    body = json.dumps({"query": ADD, "variables": {"id": dataset_id, "r": records}})
    status, text = await post_raw(gql, body)
    assert status == 200
    error = json.loads(text)["errors"][0]
    assert error["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "limit": 1000}
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 1})
    assert page["records"]["totalCount"] == 0


async def test_a_subscription_over_http_post_is_a_typed_error(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    for query in ("subscription($id: ID!) { datasetProgress(datasetId: $id) { total } }",
                  "subscription($id: ID!) { responseChanges(datasetId: $id) { recordId } }"):
        response = await gql.http.post("/graphql", json={"query": query, "variables": {"id": dataset_id}},
                                       headers={"Authorization": f"Bearer {gql.api_key}"})
        assert response.status_code < 500, response.text
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] not in ("INTERNAL", None), error
        assert "WebSocket" in error["message"] or "websocket" in error["message"].lower(), error


async def test_a_non_finite_threshold_in_graphql_variables_is_refused(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, questions=[{"name": "quality", "settings": {"rating": {"values": [1, 2, 3]}}}])
    """JSON has no NaN, but Python's parser takes it: it must not reach the export as a threshold."""
    query = """query($id: ID!, $t: Float) { trainingData(datasetId: $id, task: "rating_selection",
               options: {question: "quality", threshold: $t}) { ties } }"""
    for literal in ("NaN", "Infinity", "-Infinity"):
        body = '{"query": ' + json.dumps(query) + ', "variables": {"id": "' + dataset_id + '", "t": ' + literal + "}}"
        status, text = await post_raw(gql, body)
        assert status < 500, text
        error = json.loads(text)["errors"][0]
        # Refused while the variables are coerced, as every mistyped variable is (the HTTP export's
        # query parameter is VALIDATION: test_non_finite_export_options_are_refused).
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION", error
        assert "non numeric" in error["message"]

"""An upload that runs out of time says what it did, and sending the file again finishes it."""

from __future__ import annotations

import json

import httpx

from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient, serve
from tests.test_hardening import with_settings

LINES = 8000
"""Far more than fits in the short server's half second (the fastest machine seen ingests about
4,000 a second in batches of 50); its first batch of 50 always runs."""


async def _upload(http: httpx.AsyncClient, dataset_id: str, body: bytes) -> httpx.Response:
    return await http.post(f"/datasets/{dataset_id}/records", content=body,
                           headers={"Authorization": f"Bearer {OWNER_KEY}"})


async def test_a_timed_out_upload_reports_its_progress_and_a_resend_completes_it(
    gql: GraphQLClient, http: httpx.AsyncClient, settings: Settings, builtin_registry: KindRegistry
) -> None:
    dataset_id = await h.sft_dataset(gql)
    body = "\n".join(json.dumps({"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}}) for i in range(LINES)).encode()
    hasty = with_settings(settings, request_timeout_seconds=0.5, max_records_per_call=50)
    async with serve(hasty, builtin_registry) as short:
        response = await _upload(short.http, dataset_id, body)
    assert response.status_code == 503, response.text
    error = response.json()["errors"][0]
    done = error["extensions"]["linesDone"]
    assert error["extensions"]["code"] == "TIMEOUT"
    assert 0 < done < LINES
    assert error["extensions"]["created"] == done
    assert str(done) in error["message"]
    stored = (await gql(h.RECORDS, {"id": dataset_id, "first": 1}))["records"]["totalCount"]
    assert stored == done

    again = await _upload(http, dataset_id, body)
    assert again.status_code == 200, again.text
    result = again.json()
    assert (result["created"], result["unchanged"], result["updated"], result["errors"]) == (LINES - done, done, 0, [])
    assert (await gql(h.RECORDS, {"id": dataset_id, "first": 1}))["records"]["totalCount"] == LINES


async def test_an_unknown_conflict_policy_is_refused(gql: GraphQLClient, http: httpx.AsyncClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    response = await http.post(f"/datasets/{dataset_id}/records?onConflict=SOMETIMES", content=b"{}",
                               headers={"Authorization": f"Bearer {OWNER_KEY}"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "VALIDATION"
    assert "KEEP_RESPONSES" in error["message"]

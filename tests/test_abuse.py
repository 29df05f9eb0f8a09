"""The attacker's probe of issue 11 as one table, over real HTTP and WebSockets against a served
app: each hostile request gets its typed refusal (status and ``extensions.code``), floods are
rate limited, and CSV cells never run as formulas. (The cases' own tests, with more detail, are
in test_hardening.py, test_hostile_input.py, test_revocation.py and test_training_data.py.)"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.rate_limits import ADDRESS_SHARE
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import live_server, subscriber

MAX_BODY = 256 * 1024
OWNER = {"Authorization": f"Bearer {OWNER_KEY}"}
ALIASED = " ".join(f"a{i}: records(datasetId: $id, first: $n) {{ edges {{ node {{ id responses {{ id }} }} }} }}"
                   for i in range(30))


@dataclass(frozen=True)
class World:
    dataset: str


@dataclass(frozen=True)
class Case:
    name: str
    send: Callable[[httpx.AsyncClient, World], Awaitable[httpx.Response]]
    status: int
    code: str


def post_json(body: Any, headers: dict[str, str] | None = None) -> Callable[[httpx.AsyncClient, World], Any]:
    def send(http: httpx.AsyncClient, world: World) -> Any:
        payload = body(world) if callable(body) else body
        content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return http.post("/graphql", content=content,
                         headers={"Content-Type": "application/json", **(OWNER if headers is None else headers)})
    return send


def operation(query: str, variables: Callable[[World], dict[str, Any]] = lambda w: {"id": w.dataset},
              headers: dict[str, str] | None = None) -> Callable[[httpx.AsyncClient, World], Any]:
    return post_json(lambda w: {"query": query, "variables": variables(w)}, headers)


CASES = [
    Case("oversized body", post_json(b" " * (MAX_BODY + 1)), 413, "PAYLOAD_TOO_LARGE"),
    Case("oversized body without a key", post_json(b" " * (MAX_BODY + 1), {}), 413, "PAYLOAD_TOO_LARGE"),
    Case("big body without a key", post_json({"query": "{ me { id } }", "variables": {"pad": "x" * 100_000}}, {}),
         401, "UNAUTHENTICATED"),
    Case("big body with a random key", post_json({"query": "{ me { id } }", "variables": {"pad": "x" * 100_000}},
                                                 {"Authorization": "Bearer fql_guess"}), 401, "UNAUTHENTICATED"),
    Case("a random key", operation("{ me { id } }", lambda w: {}, {"Authorization": "Bearer fql_guess"}),
         200, "UNAUTHENTICATED"),
    Case("no key", operation("{ me { id } }", lambda w: {}, {}), 200, "UNAUTHENTICATED"),
    Case("a list over the batch limit", operation(h.ADD_RECORDS, lambda w: {
        "id": w.dataset, "records": [{"fields": {"prompt": "x"}}] * 1001}), 200, "PAYLOAD_TOO_LARGE"),
    Case("cost through a variable default", operation(f"query($id: ID!, $n: Int! = 1000) {{ {ALIASED} }}"),
         200, "QUERY_TOO_COSTLY"),
    Case("cost through a sent variable", operation(f"query($id: ID!, $n: Int!) {{ {ALIASED} }}",
                                                   lambda w: {"id": w.dataset, "n": 1000}), 200, "QUERY_TOO_COSTLY"),
    Case("cost through a float variable", operation(f"query($id: ID!, $n: Int!) {{ {ALIASED} }}",
                                                    lambda w: {"id": w.dataset, "n": 1000.0}), 200, "QUERY_TOO_COSTLY"),
    Case("too many aliases", operation(" ".join(["{", *(f"a{i}: me {{ id }}" for i in range(31)), "}"]),
                                       lambda w: {}), 200, "GRAPHQL_VALIDATION"),
    Case("too deep", operation("{ me { " + "workspaces { datasets { workspace { " * 4 + "id" + " } } }" * 4 + " } }",
                               lambda w: {}), 200, "GRAPHQL_VALIDATION"),
    Case("an integer of 5,000 digits", post_json(b'{"query": "query($n: Int) { me { id } }", "variables": {"n": '
                                                 + b"9" * 5000 + b"}}"), 400, "BAD_REQUEST"),
    Case("a body that is not JSON", post_json(b"{not json"), 400, "BAD_REQUEST"),
    Case("a subscription over HTTP", operation("subscription($id: ID!) { datasetProgress(datasetId: $id) { total } }"),
         400, "BAD_REQUEST"),
    Case("a NaN threshold", post_json(lambda w: b'{"query": "query($id: ID!, $t: Float) { trainingData(datasetId: $id,'
                                      b' task: \\"rating_selection\\", options: {threshold: $t}) { ties } }",'
                                      b' "variables": {"id": "' + w.dataset.encode() + b'", "t": NaN}}'),
         200, "GRAPHQL_VALIDATION"),
]


@pytest.fixture
async def served(settings: Settings, builtin_registry: KindRegistry) -> AsyncIterator[tuple[str, World]]:
    config = settings.model_copy(update={"max_body_bytes": MAX_BODY})
    with live_server(create_app(config, builtin_registry)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            owner = GraphQLClient(http, OWNER_KEY)
            dataset_id = await h.sft_dataset(owner)
            yield url, World(dataset_id)


async def test_each_hostile_request_gets_its_typed_refusal(served: tuple[str, World]) -> None:
    url, world = served
    outcomes = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for case in CASES:
            response = await case.send(http, world)
            body = response.json()
            code = body["errors"][0]["extensions"]["code"] if body.get("errors") else f"no error: {body}"
            outcomes[case.name] = (response.status_code, code)
        records = await GraphQLClient(http, OWNER_KEY)(h.RECORDS, {"id": world.dataset, "first": 1})
    assert outcomes == {case.name: (case.status, case.code) for case in CASES}
    assert records["records"]["totalCount"] == 0  # nothing a refused request carried was written


async def test_floods_are_rate_limited(settings: Settings, builtin_registry: KindRegistry) -> None:
    """A new random key per request gains nothing over the address's share, and operations
    over a socket take from their key's bucket."""
    limited = settings.model_copy(update={"rate_limit_per_second": 1.0, "rate_limit_burst": 10})
    with live_server(create_app(limited, builtin_registry)) as url:
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            random_keys = [(await http.post("/graphql", json={"query": "{ me { id } }"}, headers={
                "Authorization": f"Bearer fql_{secrets.token_hex(8)}"})).status_code for _ in range(80)]
        share = ADDRESS_SHARE * (10 + 1.0 * (time.monotonic() - started))  # the address's burst and refill
        assert random_keys.count(429) >= 80 - share - 1, random_keys
        await asyncio.sleep(1.5)  # opening a socket takes a token of the address, emptied above
        async with subscriber(url, OWNER_KEY) as client:
            for i in range(40):
                await client.send({"id": f"q{i}", "type": "subscribe", "payload": {"query": "{ me { id } }"}})
            codes = []
            while len(codes) < 40:
                message = await client.receive()
                if message["type"] == "error":
                    codes.append(message["payload"][0]["extensions"]["code"])
                elif message["type"] == "next":
                    codes.append("OK")
        assert codes.count("RATE_LIMITED") >= 40 - 10 - 10, codes


HOSTILE_CELLS = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2", "@SUM(A1)", "\tx", "\rx"]


@pytest.mark.parametrize("export", [
    "export?format=csv",  # the record export, meant for people: safe by default
    "training/sft?format=csv&field=prompt&question=completion&spreadsheet_safe=true",  # training: when asked
])
async def test_csv_cells_never_run_as_formulas(served: tuple[str, World], export: str) -> None:
    url, world = served
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=OWNER) as http:
        owner = GraphQLClient(http, OWNER_KEY)
        await h.add_records(owner, world.dataset, [{"fields": {"prompt": cell}} for cell in HOSTILE_CELLS])
        page = await owner(h.RECORDS, {"id": world.dataset, "first": 10})
        for edge, cell in zip(page["records"]["edges"], HOSTILE_CELLS, strict=True):
            await owner(h.SUBMIT, {"input": {"recordId": edge["node"]["id"], "status": "SUBMITTED",
                                             "values": [{"question": "completion", "value": {"text": cell}}]}})
        response = await http.get(f"/datasets/{world.dataset}/{export}")
    assert response.status_code == 200, response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("attachment;")
    cells = [value for row in list(csv.reader(io.StringIO(response.text, newline="")))[1:] for value in row]
    assert cells, response.text
    assert not [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t", "\r"))], cells

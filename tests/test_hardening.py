"""The OWASP GraphQL checklist: cost, production switches, transport rules, rate limits,
timeouts. Each test starts an app with the settings it is about."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import strawberry.schema.schema
from graphql import parse

from feedbackql_server.api.cost import operation_cost
from feedbackql_server.api.schema import build_schema
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.rate_limits import TokenBuckets
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient, serve

HEAVY_PAGE = """records(datasetId: $id, first: 1000) { edges { node { id fields
  responses { status user { username } values { question value { ... on TextValue { text } } } } } } }"""


def with_settings(settings: Settings, **changes: Any) -> Settings:
    return settings.model_copy(update=changes)


@pytest.fixture
async def production(settings: Settings, builtin_registry: KindRegistry) -> AsyncIterator[GraphQLClient]:
    async with serve(with_settings(settings, environment="production"), builtin_registry) as client:
        yield client


def cost_of(registry: KindRegistry, query: str, variables: dict[str, Any] | None = None) -> int:
    schema = build_schema(registry)._schema
    document = parse(query)
    operation = document.definitions[0]
    return operation_cost(schema, operation, {}, variables or {}, default_list_size=5)  # type: ignore[arg-type]


def test_cost_counts_first_lists_and_connections(builtin_registry: KindRegistry) -> None:
    assert cost_of(builtin_registry, "{ me { id username } }") == 3
    assert cost_of(builtin_registry, "{ workspaces { id name } }") == 1 + 5 * 2
    page = 'query($n: Int!) { records(datasetId: "x", first: $n) { edges { node { id } } } }'
    assert cost_of(builtin_registry, page, {"n": 100}) == 1 + 100 * (1 + 1 * (1 + 1))
    # The argument's default (50) when no value is given.
    assert cost_of(builtin_registry, '{ records(datasetId: "x") { edges { cursor } } }') == 1 + 50 * 2
    assert cost_of(builtin_registry, "{ me { __typename id } }") == 2


def test_cost_reads_first_as_the_executor_coerces_it(builtin_registry: KindRegistry) -> None:
    """Issue 20: ``{"n": 1000.0}`` was counted as 1 and executed as 1000."""
    page = 'query($n: Int!) { records(datasetId: "x", first: $n) { edges { node { id } } } }'
    expected = 1 + 1000 * (1 + 1 * (1 + 1))
    assert cost_of(builtin_registry, page, {"n": 1000.0}) == expected
    assert cost_of(builtin_registry, page, {"n": 1000}) == expected
    defaulted = 'query($n: Int = 1000) { records(datasetId: "x", first: $n) { edges { node { id } } } }'
    assert cost_of(builtin_registry, defaulted) == expected
    literal = '{ records(datasetId: "x", first: 1000) { edges { node { id } } } }'
    assert cost_of(builtin_registry, literal) == expected


async def test_an_operation_sent_again_is_not_validated_again(gql: GraphQLClient,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The depth and alias limits are part of the validation cache's key: built per request,
    they made every request a cache miss (~5 ms of validation each)."""
    validated: list[object] = []
    validate = strawberry.schema.schema.validate

    def counted(*args: Any, **kwargs: Any) -> Any:
        validated.append(args[1])
        return validate(*args, **kwargs)

    monkeypatch.setattr(strawberry.schema.schema, "validate", counted)
    query = "query SentThrice { me { id username role } }"
    for _ in range(3):
        assert (await gql(query))["me"]["role"] == "OWNER"
    assert len(validated) == 1
    deep = "{ " + "workspaces { datasets { " * 8 + "id" + " }" * 16 + " }"
    assert (await gql.error(deep))["extensions"]["code"] == "GRAPHQL_VALIDATION"


async def test_a_variable_default_counts_like_a_sent_value(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    aliased = " ".join(f"a{i}: records(datasetId: $id, first: $n) {{ edges {{ node {{ id responses {{ id }} }} }} }}"
                       for i in range(30))
    for query, variables in ((f"query($id: ID!, $n: Int! = 1000) {{ {aliased} }}", {"id": dataset_id}),
                             (f"query($id: ID!, $n: Int!) {{ {aliased} }}", {"id": dataset_id, "n": 1000})):
        error = await gql.error(query, variables)
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert error["extensions"]["cost"] == 30 * (1 + 1000 * (1 + 1 + 1 + (1 + 5)))


async def test_a_heavy_page_passes_but_aliases_cannot_multiply_it(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": "p"}}])
    one = await gql(f"query($id: ID!) {{ {HEAVY_PAGE} }}", {"id": dataset_id})
    assert len(one["records"]["edges"]) == 1
    aliased = " ".join(f"a{i}: {HEAVY_PAGE}" for i in range(3))
    error = await gql.error(f"query($id: ID!) {{ {aliased} }}", {"id": dataset_id})
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > error["extensions"]["limit"] == 200_000
    assert "fewer" in error["message"]


async def test_development_mode_offers_introspection_suggestions_and_graphiql(gql: GraphQLClient) -> None:
    data = await gql("{ __schema { queryType { name } } }")
    assert data == {"__schema": {"queryType": {"name": "Query"}}}
    error = await gql.error("{ me { usernam } }")
    assert "Did you mean" in error["message"]
    page = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_production_mode_turns_introspection_suggestions_and_graphiql_off(
    production: GraphQLClient,
) -> None:
    error = await production.error("{ __schema { queryType { name } } }")
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION"
    assert "introspection" in error["message"].lower()
    error = await production.error("{ me { usernam } }")
    assert "Did you mean" not in error["message"]
    assert "usernam" in error["message"]
    for near_miss in ('{ dataset(idd: "x") { id } }', "query($f: RecordFilte) { me { id } }",
                      '{ records(datasetId: "x", filter: {statu: PENDING}) { totalCount } }',
                      '{ records(datasetId: "x", filter: {status: PENDIN}) { totalCount } }'):
        error = await production.error(near_miss)
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION", near_miss
        assert "did you mean" not in error["message"].lower(), error["message"]
    page = await production.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code != 200
    assert "graphiql" not in page.text.lower()
    assert (await production("{ me { username } }")) == {"me": {"username": "owner"}}


def test_production_defaults_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEEDBACKQL_ENVIRONMENT", "production")
    monkeypatch.setenv("FEEDBACKQL_CORS_ALLOW_ORIGINS", "https://a.example, https://b.example")
    settings = Settings()
    assert (settings.graphiql_enabled, settings.introspection_enabled, settings.field_suggestions_enabled) == (
        False, False, False)
    assert settings.cors_allow_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("FEEDBACKQL_INTROSPECTION", "true")
    assert Settings().introspection_enabled


async def test_operations_travel_only_as_json_posts(gql: GraphQLClient) -> None:
    mutation = 'mutation { createWorkspace(name: "via-get") { id } }'
    auth = {"Authorization": f"Bearer {OWNER_KEY}"}
    for response in (
        await gql.http.get("/graphql", params={"query": mutation}, headers=auth),
        await gql.http.get("/graphql", params={"query": "{ me { id } }"}, headers=auth),
        await gql.http.post("/graphql", files={"operations": (None, f'{{"query": "{mutation}"}}')},
                            headers=auth),
        await gql.http.post("/graphql", content=f'{{"query": "{mutation}"}}',
                            headers={**auth, "Content-Type": "text/plain"}),
    ):
        assert response.status_code in (400, 404, 405, 415), response.text
    assert (await gql("{ workspaces { name } }")) == {"workspaces": []}


async def test_api_keys_are_read_only_from_the_authorization_header(gql: GraphQLClient) -> None:
    response = await gql.http.post(f"/graphql?api_key={OWNER_KEY}", json={"query": "{ me { id } }"},
                                   headers={"X-Api-Key": OWNER_KEY, "Cookie": f"api_key={OWNER_KEY}"})
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_cors_allows_only_listed_origins(settings: Settings, builtin_registry: KindRegistry) -> None:
    allowed = "https://labels.example"
    async with serve(with_settings(settings, cors_allow_origins=[allowed]), builtin_registry) as client:
        def preflight(origin: str) -> Any:
            return client.http.options("/graphql", headers={
                "Origin": origin, "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type"})
        ok = await preflight(allowed)
        assert ok.status_code == 200
        assert ok.headers["access-control-allow-origin"] == allowed
        refused = await preflight("https://evil.example")
        assert "access-control-allow-origin" not in refused.headers
        extra = await client.http.options("/graphql", headers={
            "Origin": allowed, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-apollo-operation-name"})
        assert extra.status_code == 200
        simple = await client.http.post("/graphql", json={"query": "{ me { id } }"}, headers={"Origin": allowed})
        exposed = {h.strip().lower() for h in simple.headers["access-control-expose-headers"].split(",")}
        assert {"retry-after", "feedbackql-export-rules"} <= exposed


def test_token_buckets_refill_at_the_configured_rate() -> None:
    now = [0.0]
    buckets = TokenBuckets(rate=2.0, burst=3, max_keys=2, clock=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)
    now[0] = 0.5
    assert buckets.take("a") == 0.0
    assert buckets.take("b") == 0.0
    buckets.take("c")
    assert list(buckets.buckets) == ["b", "c"]  # the oldest key was forgotten


async def test_each_key_has_its_own_rate_limit(settings: Settings, builtin_registry: KindRegistry) -> None:
    limited = with_settings(settings, rate_limit_per_second=0.5, rate_limit_burst=3)
    async with serve(limited, builtin_registry) as owner:
        ws = await h.workspace(owner)
        annotator = await h.new_user(owner, "ann", workspaces=[ws])  # the burst's last two tokens
        assert (await owner("{ me { username } }")) == {"me": {"username": "owner"}}
        response = await owner.http.post("/graphql", json={"query": "{ me { id } }"},
                                         headers={"Authorization": f"Bearer {OWNER_KEY}"})
        assert response.status_code == 429
        # 2 s for a token at 0.5/s, less whatever time passed since the bucket emptied: a
        # loaded machine may take over a second between these requests.
        assert response.headers["retry-after"] in ("1", "2")
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] == int(response.headers["retry-after"])
        assert (await annotator("{ me { username } }")) == {"me": {"username": "ann"}}
        health = await owner.http.get("/healthz")
        assert health.status_code == 200


# Cancelling a request cancels its database operation; PyMongo then drops that connection and
# leaves the socket for the garbage collector to close, which Python reports as a warning.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
async def test_slow_requests_time_out_cleanly_and_never_half_write_an_answer(
    gql: GraphQLClient, settings: Settings, builtin_registry: KindRegistry
) -> None:
    dataset_id = await h.sft_dataset(gql)
    await h.add_records(gql, dataset_id, [{"fields": {"prompt": f"p{i}"}} for i in range(20)])
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 20})
    record_ids = [e["node"]["id"] for e in page["records"]["edges"]]
    async with serve(with_settings(settings, request_timeout_seconds=0.005), builtin_registry) as hasty:
        statuses = set()
        for record_id in record_ids:
            response = await hasty.http.post("/graphql", json={"query": h.SUBMIT, "variables": {"input": {
                "recordId": record_id, "status": "SUBMITTED",
                "values": [{"question": "completion", "value": {"text": "t"}}]}}},
                headers={"Authorization": f"Bearer {OWNER_KEY}"})
            statuses.add(response.status_code)
            if response.status_code == 503:
                assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert 503 in statuses
    # Whatever was cut short either wrote the answer together with the record's status, or
    # nothing: once the shielded writes settle, every record agrees with its responses.
    for _ in range(200):
        records = (await gql(RECORDS_WITH_RESPONSES, {"id": dataset_id}))["records"]["edges"]
        consistent = all((n["node"]["status"] == "COMPLETED") == bool(n["node"]["responses"]) for n in records)
        if consistent:
            break
        await asyncio.sleep(0.05)
    assert consistent, records


RECORDS_WITH_RESPONSES = """query($id: ID!) { records(datasetId: $id, first: 100) {
  edges { node { status responses { status } } } } }"""


async def test_missing_or_mistyped_variables_are_graphql_validation_errors(gql: GraphQLClient) -> None:
    """Found by the authorization matrix: graphql-core wraps its own coercion error, which
    was reported as INTERNAL."""
    for variables in ({}, {"input": None}, {"input": {"recordId": 5}}):
        error = await gql.error(h.SUBMIT, variables)
        assert error["extensions"]["code"] == "GRAPHQL_VALIDATION", error
        assert "ResponseInput" in error["message"] or "recordId" in error["message"]


async def test_a_failing_field_does_not_cancel_the_whole_request(gql: GraphQLClient) -> None:
    """Found by the fuzz test: graphql-core cancels the siblings of a failed field; one of
    them cancelled a DataLoader future shared with other resolvers, and the cancellation
    killed the request instead of answering it."""
    ws = await h.workspace(gql)
    await h.dataset(gql, ws, name="a", publish=False)
    query = """query($ws: ID!) { workspaces { datasets { workspace { name } records(first: 0) { totalCount } } }
               datasets(workspaceId: $ws) { updatedAt } }"""
    for _ in range(10):
        error = await gql.error(query, {"ws": ws})
        assert (error["extensions"]["code"], error["extensions"]["path"]) == ("VALIDATION", ["first"])


async def test_the_owner_key_variable_does_not_undo_a_rotation(
    settings: Settings, builtin_registry: KindRegistry
) -> None:
    async with serve(settings, builtin_registry) as owner:
        me = await owner("{ me { id } }")
        rotated = await owner("mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey } }", {"id": me["me"]["id"]})
    new_key = rotated["rotateApiKey"]["apiKey"]
    async with serve(settings, builtin_registry) as restarted:  # same FEEDBACKQL_OWNER_API_KEY
        assert (await restarted.error("{ me { id } }"))["extensions"]["code"] == "UNAUTHENTICATED"
        assert await restarted.as_user(new_key)("{ me { username role } }") == {
            "me": {"username": "owner", "role": "OWNER"}}


async def test_random_keys_do_not_escape_the_rate_limit(settings: Settings, builtin_registry: KindRegistry) -> None:
    limited = with_settings(settings, rate_limit_per_second=0.5, rate_limit_burst=3)
    async with serve(limited, builtin_registry) as owner:
        statuses = []
        for i in range(30):
            response = await owner.http.post("/graphql", json={"query": "{ me { id } }"},
                                             headers={"Authorization": f"Bearer fql_guess-{i}"})
            statuses.append(response.status_code)
        assert statuses.count(401) + statuses.count(200) <= 4 * 3  # the address's share
        refused = [s for s in statuses if s == 429]
        assert len(refused) >= 30 - 12
        response = await owner.http.post("/graphql", json={"query": "{ me { id } }"},
                                         headers={"Authorization": "Bearer fql_one-more"})
        assert response.status_code == 429
        assert response.json()["errors"][0]["extensions"]["retryAfter"] == int(response.headers["retry-after"])

"""The authorization matrix: role x same/other workspace x every root operation.

One world is built per module (three workspaces, users of every role, datasets, records and
responses). Each case runs one operation as one caller against the object of the caller's
own workspace ("same") or of a workspace they do not belong to ("other"), checks the
outcome, and checks that a refused call left every collection exactly as it was. The
world is restored after a case that changed it. A meta-test fails when a Query or Mutation
field of the schema has no row here.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from feedbackql_server.api.schema import build_schema
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from tests import helpers as h
from tests.conftest import OWNER_KEY, GraphQLClient
from tests.live import live_server, subscriber

COLLECTIONS = ("users", "workspaces", "datasets", "records", "responses", "record_vectors", "vector_seqs",
               "metadata_bands")
OK, FORBIDDEN, NOT_FOUND = "ok", "FORBIDDEN", "NOT_FOUND"
ROLES = ("owner", "admin", "annotator")
SCOPES = ("same", "other")


@dataclass
class World:
    """Ids by name. "A" is the callers' workspace, "B" one they are not in."""

    ids: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> str:
        return self.ids[name]


@dataclass(frozen=True)
class Operation:
    """An operation whose variables are computed from the world and the scope."""

    query: str
    variables: dict[str, Callable[[World, str], Any]]

    def __call__(self, world: World, scope: str) -> tuple[str, dict[str, Any]]:
        return self.query, {name: make(world, scope) for name, make in self.variables.items()}

    @property
    def is_mutation(self) -> bool:
        return self.query.startswith("mutation")


def pick(scope: str, same: str, other: str) -> str:
    return same if scope == "same" else other


def op(query: str, **variables: Callable[[World, str], Any]) -> Operation:
    return Operation(query, variables)


def ref(same: str, other: str) -> Callable[[World, str], str]:
    return lambda world, scope: world[pick(scope, same, other)]


_counter = itertools.count()


def fresh_name(prefix: str) -> Callable[[World, str], str]:
    return lambda world, scope: f"{prefix}{next(_counter)}"


def answer(status: str = "DRAFT") -> Callable[[World, str], Any]:
    return lambda world, scope: {"recordId": world[pick(scope, "rA", "rB")], "status": status,
                                 "values": [{"question": "completion", "value": {"text": "x"}}]}


OPERATIONS: dict[str, Operation] = {
    "me": op("{ me { id workspaces { id } } }"),
    "users": op("{ users { id } }"),
    "workspaces": op("{ workspaces { id } }"),
    "questionTypes": op("{ questionTypes { name } }"),
    "fieldTypes": op("{ fieldTypes { name } }"),
    "trainingTasks": op("{ trainingTasks { name } }"),
    "dataset": op("query($id: ID!) { dataset(id: $id) { id metadataProperties { name } } }",
                  id=ref("dA", "dB")),
    "datasets": op("query($id: ID!) { datasets(workspaceId: $id) { id } }", id=ref("A", "B")),
    "record": op("query($id: ID!) { record(id: $id) { id metadata responses { id } } }",
                 id=ref("rA", "rB")),
    "records": op("query($id: ID!) { records(datasetId: $id) { totalCount edges { node { id } } } }",
                  id=ref("dA", "dB")),
    "createWorkspace": op("mutation($n: String!) { createWorkspace(name: $n) { id } }",
                          n=fresh_name("ws")),
    "deleteWorkspace": op("mutation($id: ID!) { deleteWorkspace(id: $id) }", id=ref("E", "F")),
    "createUser": op("mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }",
                     input=lambda w, s: {"username": f"new{next(_counter)}", "role": "ANNOTATOR",
                                         "workspaceIds": [w[pick(s, "A", "B")]]}),
    "rotateApiKey": op("mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey } }",
                       id=ref("annA2", "annB")),
    "deleteUser": op("mutation($id: ID!) { deleteUser(id: $id) }", id=ref("annA2", "annB")),
    "addWorkspaceMember": op("mutation($w: ID!, $u: ID!) { addWorkspaceMember(workspaceId: $w, userId: $u) { id } }",
                             w=ref("A", "B"), u=ref("annE", "annE")),
    "removeWorkspaceMember": op(
        "mutation($w: ID!, $u: ID!) { removeWorkspaceMember(workspaceId: $w, userId: $u) { id } }",
        w=ref("A", "B"), u=ref("annA2", "annB")),
    "createDataset": op("mutation($input: CreateDatasetInput!) { createDataset(input: $input) { id } }",
                        input=lambda w, s: {"workspaceId": w[pick(s, "A", "B")], "name": f"d{next(_counter)}"}),
    "addField": op("mutation($id: ID!) { addField(datasetId: $id, field: {name: \"extra\", settings: {text: {}}}) { id } }",
                   id=ref("draftA", "draftB")),
    "addQuestion": op("mutation($id: ID!) { addQuestion(datasetId: $id, question: {name: \"q2\", settings: {text: {}}}) { id } }",
                      id=ref("draftA", "draftB")),
    "updateDataset": op("mutation($id: ID!) { updateDataset(id: $id, input: {guidelines: \"new\"}) { id } }",
                        id=ref("dA", "dB")),
    "publishDataset": op("mutation($id: ID!) { publishDataset(id: $id) { id } }", id=ref("draftA", "draftB")),
    "deleteDataset": op("mutation($id: ID!) { deleteDataset(id: $id) }", id=ref("dA", "dB")),
    "addRecords": op("mutation($id: ID!) { addRecords(datasetId: $id, records: [{fields: {prompt: \"p\"}}]) { created } }",
                     id=ref("dA", "dB")),
    "deleteRecords": op("mutation($id: ID!, $r: ID!) { deleteRecords(datasetId: $id, ids: [$r]) { deleted } }",
                        id=ref("dA", "dB"), r=ref("rA", "rB")),
    "submitResponse": op("mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }",
                         input=answer()),
    "submitResponses": op("mutation($inputs: [ResponseInput!]!) { submitResponses(inputs: $inputs) { id } }",
                          inputs=lambda w, s: [answer("SUBMITTED")(w, s)]),
    "deleteResponse": op("mutation($id: ID!) { deleteResponse(recordId: $id) }", id=ref("rA", "rB")),
    "nextRecords": op("mutation($id: ID!) { nextRecords(datasetId: $id, first: 2) { id } }", id=ref("dA", "dB")),
    "releaseRecord": op("mutation($id: ID!) { releaseRecord(recordId: $id) }", id=ref("rA", "rB")),
    "myDrafts": op("query($id: ID!) { myDrafts(datasetId: $id) { totalCount } }", id=ref("dA", "dB")),
    "datasetProgress": op("query($id: ID!) { datasetProgress(datasetId: $id) { total } }", id=ref("dA", "dB")),
    "annotatorProgress": op("query($id: ID!) { annotatorProgress(datasetId: $id) { username } }",
                            id=ref("dA", "dB")),
    "unifiedAnswers": op('query($id: ID!) { unifiedAnswers(datasetId: $id, question: "completion") { edges { cursor } } }',
                         id=ref("dA", "dB")),
    "unifiedAnswer": op('query($id: ID!) { unifiedAnswer(recordId: $id, question: "rating") { submitted } }',
                        id=ref("rA", "rB")),
    "agreement": op('query($id: ID!) { agreement(datasetId: $id, question: "rating") { alpha } }', id=ref("dA", "dB")),
    "trainingData": op('query($id: ID!) { trainingData(datasetId: $id, task: "sft", options: {question: "completion"}) { rows } }',
                       id=ref("dA", "dB")),
    "vectorSpaces": op("query($id: ID!) { vectorSpaces(datasetId: $id) { name } }", id=ref("dA", "dB")),
    "similarRecords": op('query($id: ID!) { similarRecords(datasetId: $id, space: "emb", near: {vector: [1, 0]}) '
                         "{ items { score record { id } } } }", id=ref("dA", "dB")),
    "nearDuplicates": op('query($id: ID!) { nearDuplicates(datasetId: $id, space: "emb", threshold: 0.5) '
                         "{ pairs { score } } }", id=ref("dA", "dB")),
    "addVectorSpace": op("mutation($id: ID!, $n: String!) { addVectorSpace(datasetId: $id, space: {name: $n, "
                         "dimension: 3}) { name } }", id=ref("dA", "dB"), n=fresh_name("s")),
    "removeVectorSpace": op('mutation($id: ID!) { removeVectorSpace(datasetId: $id, name: "emb") { name } }',
                            id=ref("dA", "dB")),
    "setRecordVectors": op("mutation($id: ID!, $r: ID!) { setRecordVectors(datasetId: $id, records: "
                           "[{recordId: $r, vectors: {emb: [0, 1]}}]) { updated } }",
                           id=ref("dA", "dB"), r=ref("rA", "rB")),
}

# Expected outcome per role, as (same workspace, other workspace).
EVERYONE = {"owner": (OK, OK), "admin": (OK, OK), "annotator": (OK, OK)}
MEMBERS_READ = {"owner": (OK, OK), "admin": (OK, NOT_FOUND), "annotator": (OK, NOT_FOUND)}
ADMINS_MANAGE = {"owner": (OK, OK), "admin": (OK, NOT_FOUND), "annotator": (FORBIDDEN, NOT_FOUND)}
OWNERS_ONLY = {"owner": (OK, OK), "admin": (FORBIDDEN, NOT_FOUND), "annotator": (FORBIDDEN, NOT_FOUND)}
# Draft datasets: annotators do not see them at all until they are published.
ADMINS_MANAGE_DRAFTS = {"owner": (OK, OK), "admin": (OK, NOT_FOUND), "annotator": (NOT_FOUND, NOT_FOUND)}
# Acting on another user: admins see the members of their workspaces, annotators only themselves.
OWNERS_ON_USERS = {"owner": (OK, OK), "admin": (FORBIDDEN, NOT_FOUND), "annotator": (NOT_FOUND, NOT_FOUND)}

MATRIX: dict[str, dict[str, tuple[str, str]]] = {
    "me": EVERYONE,
    "questionTypes": EVERYONE,
    "fieldTypes": EVERYONE,
    "trainingTasks": EVERYONE,
    "workspaces": EVERYONE,
    "users": {"owner": (OK, OK), "admin": (OK, OK), "annotator": (FORBIDDEN, FORBIDDEN)},
    "dataset": MEMBERS_READ,
    "datasets": MEMBERS_READ,
    "record": MEMBERS_READ,
    "records": MEMBERS_READ,
    "submitResponse": MEMBERS_READ,
    "submitResponses": MEMBERS_READ,
    "deleteResponse": MEMBERS_READ,
    "nextRecords": MEMBERS_READ,
    "releaseRecord": MEMBERS_READ,
    "myDrafts": MEMBERS_READ,
    "datasetProgress": MEMBERS_READ,
    "annotatorProgress": MEMBERS_READ,
    "unifiedAnswers": ADMINS_MANAGE,
    "unifiedAnswer": ADMINS_MANAGE,
    "agreement": ADMINS_MANAGE,
    "trainingData": ADMINS_MANAGE,
    "createWorkspace": {"owner": (OK, OK), "admin": (FORBIDDEN, FORBIDDEN),
                        "annotator": (FORBIDDEN, FORBIDDEN)},
    "deleteWorkspace": OWNERS_ONLY,
    "createUser": ADMINS_MANAGE,
    "rotateApiKey": OWNERS_ON_USERS,
    "deleteUser": OWNERS_ON_USERS,
    "addWorkspaceMember": ADMINS_MANAGE,
    "removeWorkspaceMember": ADMINS_MANAGE,
    "createDataset": ADMINS_MANAGE,
    "addField": ADMINS_MANAGE_DRAFTS,
    "addQuestion": ADMINS_MANAGE_DRAFTS,
    "updateDataset": ADMINS_MANAGE,
    "publishDataset": ADMINS_MANAGE_DRAFTS,
    "deleteDataset": ADMINS_MANAGE,
    "addRecords": ADMINS_MANAGE,
    "deleteRecords": ADMINS_MANAGE,
    "vectorSpaces": MEMBERS_READ,
    "similarRecords": MEMBERS_READ,
    "nearDuplicates": ADMINS_MANAGE,
    "addVectorSpace": ADMINS_MANAGE,
    "removeVectorSpace": ADMINS_MANAGE,
    "setRecordVectors": ADMINS_MANAGE,
}
CALLERS = {"owner": "owner", "admin": "adminA", "annotator": "annA"}


def test_every_root_field_has_a_row(builtin_registry: KindRegistry) -> None:
    schema = build_schema(builtin_registry)._schema
    root_fields = {*schema.query_type.fields, *schema.mutation_type.fields}  # type: ignore[union-attr]
    assert root_fields == set(OPERATIONS) == set(MATRIX)
    assert set(schema.subscription_type.fields) == set(SUBSCRIPTIONS)  # type: ignore[union-attr]


class Harness:
    def __init__(self, client: GraphQLClient, db: AsyncDatabase[dict[str, Any]], url: str) -> None:
        self.client = client
        self.db = db
        self.url = url
        self.world = World()
        self.saved: dict[str, list[dict[str, Any]]] = {}

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        return {name: await self.db[name].find().sort("_id", 1).to_list() for name in COLLECTIONS}

    async def restore(self) -> None:
        for name, docs in self.saved.items():
            await self.db[name].delete_many({})
            if docs:
                await self.db[name].insert_many([dict(d) for d in docs])

    def as_(self, role_or_user: str) -> GraphQLClient:
        return self.client.as_user(self.world.keys[CALLERS.get(role_or_user, role_or_user)])


async def build_world(owner: GraphQLClient) -> World:
    world = World(keys={"owner": OWNER_KEY})
    for name in ("A", "B", "E", "F"):
        world.ids[name] = await h.workspace(owner, f"ws-{name.lower()}")
    members = {"adminA": ("ADMIN", ["A", "E"]), "annA": ("ANNOTATOR", ["A", "E"]),
               "annA2": ("ANNOTATOR", ["A"]), "annE": ("ANNOTATOR", ["E"]),
               "adminB": ("ADMIN", ["B"]), "annB": ("ANNOTATOR", ["B"])}
    for username, (role, workspaces) in members.items():
        data = await owner(h.CREATE_USER, {"input": {"username": username.lower(), "role": role,
                                                     "workspaceIds": [world[w] for w in workspaces]}})
        world.ids[username] = data["createUser"]["user"]["id"]
        world.keys[username] = data["createUser"]["apiKey"]
    for side in ("A", "B"):
        dataset = await h.dataset(owner, world[side], name=f"data-{side.lower()}", **SFT_WITH_HIDDEN_METADATA)
        world.ids[f"d{side}"] = dataset["id"]
        draft = await h.dataset(owner, world[side], name=f"draft-{side.lower()}", publish=False, **SFT_WITH_HIDDEN_METADATA)
        world.ids[f"draft{side}"] = draft["id"]
        await h.add_records(owner, dataset["id"], [{"externalId": "r", "fields": {"prompt": "p"},
                                                    "metadata": {"source": "web", "cost": 3}}])
        page = await owner(h.RECORDS, {"id": dataset["id"], "first": 1})
        world.ids[f"r{side}"] = page["records"]["edges"][0]["node"]["id"]
        await owner("mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: \"emb\", dimension: 2}) "
                    "{ name } }", {"id": dataset["id"]})
        await owner("mutation($id: ID!, $r: ID!) { setRecordVectors(datasetId: $id, records: [{recordId: $r, "
                    "vectors: {emb: [1, 0]}}]) { updated } }", {"id": dataset["id"], "r": world[f"r{side}"]})
    answers = {"owner": ["rA", "rB"], "adminA": ["rA"], "annA": ["rA"], "annA2": ["rA"], "annB": ["rB"]}
    for username, records in answers.items():
        for record in records:
            await owner.as_user(world.keys[username])(h.SUBMIT, {"input": {
                "recordId": world[record], "status": "SUBMITTED",
                "values": [{"question": "completion", "value": {"text": f"by {username}"}}]}})
    return world


SFT_WITH_HIDDEN_METADATA: dict[str, Any] = {
    "fields": [{"name": "prompt", "settings": h.TEXT}],
    "questions": [{"name": "completion", "settings": {"text": {}}},
                  {"name": "rating", "required": False, "settings": {"rating": {"values": [1, 2, 3]}}}],
    "metadataProperties": [{"name": "source", "kind": "TERMS"},
                           {"name": "cost", "kind": "INTEGER", "visibleForAnnotators": False}],
}


@pytest.fixture(scope="module")
async def harness(mongodb_uri: str, builtin_registry: KindRegistry) -> AsyncIterator[Harness]:
    name = f"fqltest_matrix_{next(_counter)}"
    settings = Settings(mongodb_uri=mongodb_uri, database_name=name, owner_api_key=OWNER_KEY,
                        rate_limit_per_second=0)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri, tz_aware=True)
    # A real server: subscriptions need a websocket.
    with live_server(create_app(settings, builtin_registry)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            harness = Harness(GraphQLClient(http, OWNER_KEY), mongo[name], url)
            harness.world = await build_world(harness.client)
            harness.saved = await harness.snapshot()
            yield harness
    await mongo.drop_database(name)
    await mongo.close()


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
async def test_matrix(harness: Harness, operation: str, role: str, scope: str) -> None:
    expected = MATRIX[operation][role][SCOPES.index(scope)]
    query, variables = OPERATIONS[operation](harness.world, scope)
    body = await harness.as_(role).raw(query, variables)
    try:
        if expected == OK:
            assert "errors" not in body, body["errors"]
        else:
            assert [e["extensions"]["code"] for e in body.get("errors", [])] == [expected], body
            assert body["data"] is None
            assert await harness.snapshot() == harness.saved, "a refused call changed the database"
    finally:
        if expected == OK and OPERATIONS[operation].is_mutation:
            await harness.restore()


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("key", [None, "not-a-key"])
async def test_callers_without_a_valid_key_are_refused(harness: Harness, operation: str, key: str | None) -> None:
    query, variables = OPERATIONS[operation](harness.world, "same")
    body = await harness.client.as_user(key).raw(query, variables)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
    assert await harness.snapshot() == harness.saved


async def test_annotators_see_only_their_own_answers_and_visible_metadata(harness: Harness) -> None:
    query = """query($id: ID!) { record(id: $id) { metadata responses { user { username } }
                 dataset { metadataProperties { name } } } }"""
    seen = {}
    for who in ("owner", "adminA", "annA", "annA2"):
        data = await harness.as_(who)(query, {"id": harness.world["rA"]})
        record = data["record"]
        seen[who] = (sorted(r["user"]["username"] for r in record["responses"]), record["metadata"],
                     [p["name"] for p in record["dataset"]["metadataProperties"]])
    everyone = ["admina", "anna", "anna2", "owner"]
    full = {"source": "web", "cost": 3}
    assert seen["owner"] == (everyone, full, ["source", "cost"])
    assert seen["adminA"] == (everyone, full, ["source", "cost"])
    assert seen["annA"] == (["anna"], {"source": "web"}, ["source"])
    assert seen["annA2"] == (["anna2"], {"source": "web"}, ["source"])


async def test_nested_paths_follow_the_same_rules(harness: Harness) -> None:
    annotator = harness.as_("annA")
    data = await annotator("""query($id: ID!) { dataset(id: $id) { workspace { id datasets { id } }
        records { edges { node { metadata responses { user { username } } } } } } }""",
                           {"id": harness.world["dA"]})
    dataset = data["dataset"]
    assert dataset["workspace"]["id"] == harness.world["A"]
    assert {d["id"] for d in dataset["workspace"]["datasets"]} == {harness.world["dA"]}  # not the draft
    assert dataset["records"]["edges"] == [{"node": {"metadata": {"source": "web"},
                                                     "responses": [{"user": {"username": "anna"}}]}}]
    me = await annotator("{ me { workspaces { id } } }")
    assert {w["id"] for w in me["me"]["workspaces"]} == {harness.world["A"], harness.world["E"]}
    # An admin looking at a user sees only the workspaces they share.
    admin_b = harness.as_("adminB")
    users = (await admin_b("{ users { username workspaces { id } } }"))["users"]
    assert {u["username"]: [w["id"] for w in u["workspaces"]] for u in users} == {
        "adminb": [harness.world["B"]], "annb": [harness.world["B"]]}


async def test_annotators_cannot_tell_hidden_metadata_from_none(harness: Harness) -> None:
    query = """query($id: ID!, $f: RecordFilter) { records(datasetId: $id, filter: $f) { totalCount } }"""
    annotator = harness.as_("annA")
    for name in ("cost", "no-such-property"):
        for condition in ({"ge": 0}, {"values": [1, 2, 3]}, {"le": 1000000}):
            variables = {"id": harness.world["dA"], "f": {"metadata": [{"name": name, **condition}]}}
            assert await annotator(query, variables) == {"records": {"totalCount": 0}}, (name, condition)
    variables = {"id": harness.world["dA"], "f": {"metadata": [{"name": "cost", "ge": 1}]}}
    assert (await harness.as_("adminA")(query, variables))["records"]["totalCount"] == 1


async def test_rotating_a_key_ends_the_old_one(harness: Harness) -> None:
    annotator = harness.as_("annA")
    rotated = await annotator("mutation($id: ID!) { rotateApiKey(userId: $id) { apiKey user { username } } }",
                              {"id": harness.world["annA"]})
    new_key = rotated["rotateApiKey"]["apiKey"]
    assert rotated["rotateApiKey"]["user"]["username"] == "anna"
    assert (await annotator.error("{ me { id } }"))["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await harness.client.as_user(new_key)("{ me { username } }")) == {"me": {"username": "anna"}}
    await harness.restore()


async def test_deleted_users_lose_access_but_keep_their_answers(harness: Harness) -> None:
    await harness.client("mutation($id: ID!) { deleteUser(id: $id) }", {"id": harness.world["annA2"]})
    error = await harness.as_("annA2").error("{ me { id } }")
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    users = await harness.client("{ users { username } }")
    assert "anna2" not in {u["username"] for u in users["users"]}
    record = await harness.client("query($id: ID!) { record(id: $id) { responses { user { username } } } }",
                                  {"id": harness.world["rA"]})
    assert "anna2" in {r["user"]["username"] for r in record["record"]["responses"]}
    await harness.restore()


async def test_workspaces_holding_datasets_cannot_be_deleted(harness: Harness) -> None:
    error = await harness.client.error("mutation($id: ID!) { deleteWorkspace(id: $id) }",
                                       {"id": harness.world["A"]})
    assert error["extensions"]["code"] == "CONFLICT"
    assert await harness.snapshot() == harness.saved


async def test_admins_cannot_touch_owners(harness: Harness) -> None:
    owner_id = (await harness.client("{ me { id } }"))["me"]["id"]
    error = await harness.as_("adminA").error(
        "mutation($w: ID!, $u: ID!) { addWorkspaceMember(workspaceId: $w, userId: $u) { id } }",
        {"w": harness.world["A"], "u": owner_id})
    assert error["extensions"]["code"] == "NOT_FOUND"  # admins do not see owners at all
    assert await harness.snapshot() == harness.saved


SUBSCRIPTIONS = {
    "datasetProgress": "subscription($id: ID!) { datasetProgress(datasetId: $id) { total } }",
    "responseChanges": "subscription($id: ID!) { responseChanges(datasetId: $id) { recordId userId } }",
}


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", sorted(SUBSCRIPTIONS))
async def test_subscription_matrix(harness: Harness, operation: str, role: str, scope: str) -> None:
    """Subscriptions follow the read rules; a live one delivers its first event."""
    expected = MEMBERS_READ[role][SCOPES.index(scope)]
    dataset = harness.world[pick(scope, "dA", "dB")]
    async with subscriber(harness.url, harness.world.keys[CALLERS[role]]) as live:
        operation_id = await live.subscribe(SUBSCRIPTIONS[operation], {"id": dataset})
        if operation == "responseChanges" and expected == OK:
            # Registered asynchronously on the server: answer until the event arrives.
            for _ in range(40):
                await harness.as_(role)(h.SUBMIT, {"input": answer("DRAFT")(harness.world, scope)})
                if (polled := await live.poll()) is not None:
                    break
            assert polled is not None, "no response event arrived"
            message = polled
        else:
            message = await live.receive()
        assert message["id"] == operation_id
        if expected == OK:
            assert message["type"] == "next", message
            assert "errors" not in message["payload"], message
        else:
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            assert [e["extensions"]["code"] for e in errors] == [expected], message
    if expected == OK and operation == "responseChanges":
        await harness.restore()


async def test_websockets_without_a_valid_key_are_refused(harness: Harness) -> None:
    for key in (None, "not-a-key"):
        with pytest.raises(Exception, match=r"4403|Forbidden|connection_ack"):
            async with subscriber(harness.url, key):
                pass


async def test_annotators_see_a_dataset_only_once_it_is_published(gql: GraphQLClient) -> None:
    ws = await h.workspace(gql, "drafts")
    draft = await h.dataset(gql, ws, publish=False, name="not-yet",
                            fields=[{"name": "prompt", "settings": h.TEXT}],
                            questions=[{"name": "q", "settings": {"text": {}}}])
    annotator = await h.new_user(gql, "early", workspaces=[ws])
    error = await annotator.error("query($id: ID!) { dataset(id: $id) { name } }", {"id": draft["id"]})
    assert error["extensions"]["code"] == "NOT_FOUND"
    listed = await annotator("query($w: ID!) { datasets(workspaceId: $w) { name } workspaces { datasets { name } } }", {"w": ws})
    assert listed == {"datasets": [], "workspaces": [{"datasets": []}]}
    await gql(h.PUBLISH, {"id": draft["id"]})
    assert (await annotator("query($id: ID!) { dataset(id: $id) { name } }", {"id": draft["id"]})) == {
        "dataset": {"name": "not-yet"}}

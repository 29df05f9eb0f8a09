"""Every root field refuses a caller without a valid key, and the table below must cover
every Query and Mutation field of the schema (the meta-test fails when one is added)."""

from __future__ import annotations

import pytest

from feedbackql.api.schema import build_schema
from feedbackql.kinds.registry import KindRegistry
from tests.conftest import GraphQLClient

OID = "0123456789abcdef01234567"
TEXT_VALUE = '{question: "q", value: {text: "x"}}'
OPERATIONS = {
    "me": "{ me { id } }",
    "workspaces": "{ workspaces { id } }",
    "dataset": f'{{ dataset(id: "{OID}") {{ id }} }}',
    "datasets": f'{{ datasets(workspaceId: "{OID}") {{ id }} }}',
    "record": f'{{ record(id: "{OID}") {{ id }} }}',
    "records": f'{{ records(datasetId: "{OID}") {{ totalCount }} }}',
    "questionTypes": "{ questionTypes { name } }",
    "fieldTypes": "{ fieldTypes { name } }",
    "createWorkspace": 'mutation { createWorkspace(name: "w") { id } }',
    "createUser": 'mutation { createUser(input: {username: "u", role: ANNOTATOR}) { apiKey } }',
    "addWorkspaceMember": f'mutation {{ addWorkspaceMember(workspaceId: "{OID}", userId: "{OID}") {{ id }} }}',
    "createDataset": f'mutation {{ createDataset(input: {{workspaceId: "{OID}", name: "d"}}) {{ id }} }}',
    "addField": f'mutation {{ addField(datasetId: "{OID}", field: {{name: "f", settings: {{text: {{}}}}}}) {{ id }} }}',
    "addQuestion": f'mutation {{ addQuestion(datasetId: "{OID}", question: {{name: "q", settings: {{text: {{}}}}}}) {{ id }} }}',
    "updateDataset": f'mutation {{ updateDataset(id: "{OID}", input: {{name: "n"}}) {{ id }} }}',
    "publishDataset": f'mutation {{ publishDataset(id: "{OID}") {{ id }} }}',
    "deleteDataset": f'mutation {{ deleteDataset(id: "{OID}") }}',
    "addRecords": f'mutation {{ addRecords(datasetId: "{OID}", records: [{{fields: {{}}}}]) {{ created }} }}',
    "deleteRecords": f'mutation {{ deleteRecords(datasetId: "{OID}", ids: ["{OID}"]) {{ deleted }} }}',
    "submitResponse": f'mutation {{ submitResponse(input: {{recordId: "{OID}", status: DRAFT, values: [{TEXT_VALUE}]}}) {{ id }} }}',
    "submitResponses": f'mutation {{ submitResponses(inputs: [{{recordId: "{OID}", status: DRAFT}}]) {{ id }} }}',
    "deleteResponse": f'mutation {{ deleteResponse(recordId: "{OID}") }}',
}


def test_every_root_field_has_an_authentication_case(builtin_registry: KindRegistry) -> None:
    schema = build_schema(builtin_registry)._schema
    root_fields = {*schema.query_type.fields, *schema.mutation_type.fields}  # type: ignore[union-attr]
    assert root_fields == set(OPERATIONS)


@pytest.mark.parametrize("field", sorted(OPERATIONS))
@pytest.mark.parametrize("key", [None, "not-a-key"])
async def test_unauthenticated_calls_are_refused(gql: GraphQLClient, field: str, key: str | None) -> None:
    error = await gql.as_user(key).error(OPERATIONS[field])
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error
    assert (await gql("{ workspaces { id } }")) == {"workspaces": []}

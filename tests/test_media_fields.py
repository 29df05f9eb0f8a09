"""The `image` and `custom` built-in fields, end to end over GraphQL."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests import helpers as h
from tests.conftest import GraphQLClient

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(16)).decode()
TEMPLATE = ('<div class="card" onclick="steal()"><h3>{{ title }}</h3><script>alert(1)</script>'
            '<a href="{{ link }}">source</a><p style="color:red">{{score}}</p></div>')
FIELDS = """query($id: ID!) { dataset(id: $id) { fields { name kind settingsJson
  settings { __typename ... on CustomFieldSettings { template } ... on ImageFieldSettings { kind } } } } }"""


async def media_dataset(gql: GraphQLClient) -> str:
    ws = await h.workspace(gql)
    created = await h.dataset(gql, ws, name="media", fields=[
        {"name": "picture", "settings": {"image": {}}},
        {"name": "card", "settings": {"custom": {"template": TEMPLATE}}},
    ], questions=[{"name": "ok", "settings": {"rating": {"values": [0, 1]}}}])
    return str(created["id"])


async def records(gql: GraphQLClient, dataset_id: str) -> list[dict[str, Any]]:
    page = await gql(h.RECORDS, {"id": dataset_id, "first": 10})
    return [edge["node"] for edge in page["records"]["edges"]]


async def test_image_and_custom_fields_round_trip_sanitized(gql: GraphQLClient) -> None:
    dataset_id = await media_dataset(gql)
    template = (await gql(FIELDS, {"id": dataset_id}))["dataset"]["fields"]
    stored = template[1]["settings"]["template"]
    assert template[0]["settings"] == {"__typename": "ImageFieldSettings", "kind": "image"}
    assert "script" not in stored
    assert "onclick" not in stored
    assert "style" not in stored
    assert "{{ title }}" in stored
    assert '<div class="card">' in stored

    added = await h.add_records(gql, dataset_id, [
        {"externalId": "a", "fields": {"picture": "https://example.org/cat.png",
                                       "card": {"values": {"title": "<b>Cats</b>", "link": "javascript:alert(1)",
                                                           "score": 3}}}},
        {"externalId": "b", "fields": {"picture": PNG,
                                       "card": {"values": {"title": "Dogs", "link": "https://example.org", "score": 4},
                                                "html": "<script>forged</script>"}}},
    ])
    assert added == {"created": 2, "updated": 0, "errors": []}
    first, second = await records(gql, dataset_id)
    assert first["fields"]["picture"] == "https://example.org/cat.png"
    html = first["fields"]["card"]["html"]
    assert "&lt;b&gt;Cats&lt;/b&gt;" in html  # values are escaped, never markup
    assert "javascript" not in html
    assert "<p>3</p>" in html
    assert first["fields"]["card"]["values"]["score"] == 3
    assert second["fields"]["picture"] == PNG
    assert "forged" not in second["fields"]["card"]["html"]
    assert 'href="https://example.org"' in second["fields"]["card"]["html"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("picture", "ftp://example.org/cat.png", "http(s) URL"),
    ("picture", "file:///etc/passwd", "http(s) URL"),
    ("picture", "https:///no-host.png", "http(s) URL"),
    ("picture", "data:image/svg+xml;base64,PHN2Zz4=", "data:image/(png"),
    ("picture", "data:image/png;base64,@@@", "data:image/(png"),
    ("picture", "data:image/png;base64,QUJD=", "malformed"),
    ("picture", "data:image/png;base64," + "A" * 1_000_000, "at most 1000000"),
    ("picture", "https://example.org/a b.png", "whitespace"),
    ("picture", 42, "string"),
    ("card", {"values": {"title": "t", "link": "l"}}, "needs value(s) ['score']"),
    ("card", {"values": {"title": ["a list"], "link": "l", "score": 1}}, "values.title"),
    ("card", "just text", "valid dictionary"),
])
async def test_bad_field_values_are_refused_with_a_typed_error(gql: GraphQLClient, field: str, value: Any,
                                                               message: str) -> None:
    dataset_id = await media_dataset(gql)
    fields = {"picture": "https://example.org/cat.png",
              "card": {"values": {"title": "t", "link": "l", "score": 1}}, field: value}
    added = await h.add_records(gql, dataset_id, [{"fields": fields}])
    assert added["created"] == 0
    (error,) = added["errors"]
    assert error["code"] == "VALIDATION"
    assert message in error["message"]
    assert await records(gql, dataset_id) == []


@pytest.mark.parametrize(("custom", "message"), [
    ({"template": "<script>{{ x }}</script>"}, "no record value"),
    ({"template": "<b>static</b>"}, "no record value"),
    ({"template": ""}, "template"),
    ({"template": "{{ x }}" * 5000}, "template"),
    ({"template": "<p onclick=\"{{ x }}\">hi</p>"}, "no record value"),
])
async def test_bad_templates_are_refused(gql: GraphQLClient, custom: dict[str, Any], message: str) -> None:
    ws = await h.workspace(gql)
    error = await gql.error(h.CREATE_DATASET, {"input": {"workspaceId": ws, "name": "m", "fields": [
        {"name": "card", "settings": {"custom": custom}}]}})
    assert error["extensions"]["code"] == "VALIDATION"
    assert message in error["message"]
    assert (await gql("query($ws: ID!) { datasets(workspaceId: $ws) { id } }", {"ws": ws}))["datasets"] == []

"""The browser side on a real server: the UI at /, GraphiQL with its own assets, the
graphql-response+json status codes, and plugin widgets served at their stable URLs."""

from __future__ import annotations

import re
import types
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest

from feedbackql_server.app import create_app
from feedbackql_server.kinds import KindModel, QuestionKind, hookimpl
from feedbackql_server.kinds.registry import PluginError, load_registry
from feedbackql_server.settings import Settings
from tests.conftest import OWNER_KEY
from tests.live import live_server

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
def base_url(settings: Settings) -> Iterator[str]:
    with live_server(create_app(settings, load_registry())) as url:
        yield url


def post(base_url: str, body: dict[str, Any], accept: str = GRAPHQL_RESPONSE) -> httpx.Response:
    return httpx.post(f"{base_url}/graphql", json=body, headers={
        "Authorization": f"Bearer {OWNER_KEY}", "Accept": accept})


def test_the_ui_is_served_at_the_root_with_a_strict_policy(base_url: str) -> None:
    page = httpx.get(f"{base_url}/")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("style-src")[0]
    assert "<script>" not in page.text  # no inline script
    scripts = re.findall(r'src="(/ui/[^"]+\.js)"', page.text)
    assert scripts, page.text
    for path in scripts + re.findall(r'href="(/ui/[^"]+\.css)"', page.text):
        asset = httpx.get(f"{base_url}{path}")
        assert asset.status_code == 200, path
        assert len(asset.content) > 1000


def test_graphiql_loads_its_assets_from_the_service(base_url: str) -> None:
    page = httpx.get(f"{base_url}/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()
    assert "unpkg" not in page.text
    assert "https://" not in page.text
    assert "<script>" not in page.text
    paths = re.findall(r'(?:src|href)="(/graphiql/[^"]+)"', page.text)
    assert len(paths) >= 5, paths
    for path in paths:
        asset = httpx.get(f"{base_url}{path}")
        assert asset.status_code == 200, path


def test_graphql_response_media_type_gives_spec_status_codes(base_url: str) -> None:
    syntax = post(base_url, {"query": "{ me { username "})
    assert syntax.status_code == 400
    assert syntax.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    error = syntax.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION"
    assert "Syntax Error" in error["message"]
    assert "data" not in syntax.json()

    unknown_field = post(base_url, {"query": "{ me { nope } }"})
    assert unknown_field.status_code == 400
    assert unknown_field.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION"

    bad_variable = post(base_url, {"query": "query($id: ID!) { dataset(id: $id) { id } }", "variables": {}})
    assert bad_variable.status_code == 400

    ok = post(base_url, {"query": "{ me { username } }"})
    assert (ok.status_code, ok.json()) == (200, {"data": {"me": {"username": "owner"}}})
    assert ok.headers["content-type"].startswith(GRAPHQL_RESPONSE)

    # Execution started: a field error is still 200 (data is present, null).
    missing = post(base_url, {"query": '{ dataset(id: "nope") { id } }'})
    assert missing.status_code == 200
    assert missing.json()["data"] is None
    assert missing.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # Plain JSON clients see no change; a body that is not GraphQL keeps its own 400.
    legacy = post(base_url, {"query": "{ me { username "}, accept="application/json")
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")
    assert legacy.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION"
    preferred_json = post(base_url, {"query": "{ me {"}, accept=f"application/json, {GRAPHQL_RESPONSE};q=0.5")
    assert preferred_json.status_code == 200
    not_graphql = httpx.post(f"{base_url}/graphql", content=b"{", headers={
        "Accept": GRAPHQL_RESPONSE, "Content-Type": "application/json", "Authorization": f"Bearer {OWNER_KEY}"})
    assert not_graphql.status_code == 400
    assert not_graphql.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_plugin_widgets_are_published_and_served(base_url: str) -> None:
    kinds = post(base_url, {"query": "{ questionTypes { name uiHints widgetUrl } fieldTypes { name widgetUrl } }"})
    by_name = {k["name"]: k for k in kinds.json()["data"]["questionTypes"]}
    assert by_name["slider"]["widgetUrl"] == "/widgets/question/slider.js?v=1.4.0"
    assert by_name["slider"]["uiHints"] == {"keyboard": "arrows"}
    assert by_name["severity"]["widgetUrl"] is None
    assert by_name["rating"] == {"name": "rating", "uiHints": {}, "widgetUrl": None}
    fields = {f["name"]: f["widgetUrl"] for f in kinds.json()["data"]["fieldTypes"]}
    assert fields.pop("code") == "/widgets/field/code.js?v=1.4.0"  # the slider plugin's field kind
    assert all(url is None for url in fields.values())
    field_module = httpx.get(base_url + "/widgets/field/code.js?v=1.4.0")
    assert (field_module.status_code, "export default function mount" in field_module.text) == (200, True)

    module = httpx.get(base_url + by_name["slider"]["widgetUrl"])
    assert module.status_code == 200
    assert module.headers["content-type"].startswith("text/javascript")
    assert "export default function mount" in module.text
    assert httpx.get(f"{base_url}/widgets/question/severity.js").status_code == 404
    # The built-in span kind brings its own widget, like any plugin (ui/tests/browser.mjs drives it).
    span = httpx.get(base_url + by_name["span"]["widgetUrl"])
    assert span.status_code == 200
    assert "export default function mount" in span.text
    assert httpx.get(f"{base_url}/widgets/field/slider.js").status_code == 404


class _Settings(KindModel):
    scale: int = 1


class _MissingWidget(QuestionKind):
    name = "ghost"
    settings_model = _Settings
    value_type = int
    widget: ClassVar[str | None] = "no-such-widget.js"


def test_a_declared_widget_that_is_missing_stops_start_up(settings: Settings) -> None:
    plugin = types.ModuleType("ghostly")

    @hookimpl
    def feedbackql_question_types() -> list[Any]:
        return [_MissingWidget]

    plugin.feedbackql_question_types = feedbackql_question_types  # type: ignore[attr-defined]
    with pytest.raises(PluginError, match=r"plugin 'ghostly'.*'ghost'.*'no-such-widget.js', but the file is missing"):
        load_registry(builtin_only=True, extra_plugins=[plugin])

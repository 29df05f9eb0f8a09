"""The browser side: the labeling UI at ``/``, GraphiQL's own assets, and plugin widgets.

The UI and GraphiQL's scripts are built from ``ui/`` with npm and committed under
``service/feedbackql_server/webui_dist`` (package data), so a Python install never needs Node. Pages are sent
with a Content-Security-Policy that allows no inline script and no other origin.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from feedbackql_server.kinds.registry import WIDGET_ROUTE, KindRegistry, RegisteredKind

DIST = Path(__file__).resolve().parent.parent / "webui_dist"
APP_DIR = DIST / "app"
GRAPHIQL_DIR = DIST / "graphiql"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
"""GraphiQL and the UI set element styles from script (hence 'unsafe-inline' for styles only)."""
SECURITY_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer"}
MISSING_BUILD = ("<!doctype html><title>FeedbackQL</title><p>The labeling UI is not built: run "
                 "<code>npm ci &amp;&amp; npm run build</code> in <code>ui/</code>. GraphiQL is at "
                 '<a href="/graphql">/graphql</a>.</p>')


def _widget_files(registry: KindRegistry) -> dict[tuple[str, str], Path]:
    """Every declared widget file (checked to exist when its kind was registered)."""
    families: Mapping[str, Mapping[str, RegisteredKind[Any]]] = {
        "question": registry.questions, "field": registry.fields}
    return {(family, name): entry.widget_file for family, kinds in families.items()
            for name, entry in kinds.items() if entry.widget_file is not None}


def graphiql_html() -> str:
    """GraphiQL's page, loading its scripts from this service (no CDN, no inline script)."""
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>FeedbackQL GraphiQL</title>"
            '<link rel="stylesheet" href="/graphiql/graphiql.min.css">'
            '<link rel="stylesheet" href="/graphiql/page.css"></head>'
            '<body><div id="graphiql">Loading…</div>'
            '<script src="/graphiql/react.production.min.js"></script>'
            '<script src="/graphiql/react-dom.production.min.js"></script>'
            '<script src="/graphiql/graphiql.min.js"></script>'
            '<script src="/graphiql/start.js"></script></body></html>')


def ui_routes(registry: KindRegistry) -> list[BaseRoute]:
    """``/`` (the UI), ``/ui/*`` (its assets), ``/graphiql/*`` and ``/widgets/*``."""
    widgets = _widget_files(registry)

    async def index(request: Request) -> Response:
        page = APP_DIR / "index.html"
        if not page.is_file():
            return HTMLResponse(MISSING_BUILD, headers=SECURITY_HEADERS)
        return FileResponse(page, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    async def widget(request: Request) -> Response:
        path = widgets.get((request.path_params["family"], request.path_params["name"]))
        if path is None:
            return Response("no such widget", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type="text/javascript",
                            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"})

    return [
        Route("/", index, methods=["GET"]),
        Route(WIDGET_ROUTE, widget, methods=["GET"]),
        Mount("/ui", app=StaticFiles(directory=APP_DIR / "ui", check_dir=False), name="ui"),
        Mount("/graphiql", app=StaticFiles(directory=GRAPHIQL_DIR, check_dir=False), name="graphiql"),
    ]

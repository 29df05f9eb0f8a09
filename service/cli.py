"""The ``feedbackql`` command: serve, schema, plugins, install-ferretdb."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType

import platformdirs

from feedbackql import __version__
from feedbackql.database.ferretdb import DatabaseUnavailable, build_ferretdb
from feedbackql.database.local import local_database
from feedbackql.kinds.registry import PluginError, load_registry
from feedbackql.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedbackql", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the GraphQL service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--data-dir", type=Path,
                       default=Path(platformdirs.user_data_dir("feedbackql")),
                       help="where the embedded database keeps its data")
    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.add_argument("--builtin-only", action="store_true",
                        help="only the kinds that ship with FeedbackQL (as in schema.graphql)")
    commands.add_parser("plugins", help="list installed field and question kinds")
    commands.add_parser("install-ferretdb", help="build the embedded FerretDB if missing")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args.host, args.port, args.data_dir)
        if args.command == "schema":
            return _schema(args.builtin_only)
        if args.command == "plugins":
            return _plugins()
        print(build_ferretdb())
        return 0
    except (PluginError, DatabaseUnavailable) as exc:
        print(f"feedbackql: {exc}", file=sys.stderr)
        return 1


def _schema(builtin_only: bool) -> int:
    from feedbackql.api.schema import build_schema

    print(build_schema(load_registry(builtin_only=builtin_only)).as_str())
    return 0


def _plugins() -> int:
    registry = load_registry()
    for category, entries in (("field", registry.fields), ("question", registry.questions)):
        for name, entry in entries.items():
            print(f"{category:8} {name:16} {entry.plugin} {entry.version}")
    return 0


@contextlib.contextmanager
def _database(settings: Settings, data_dir: Path) -> Iterator[str]:
    if settings.mongodb_uri:
        yield settings.mongodb_uri
        return
    with local_database(data_dir) as uri:
        yield uri


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _serve(host: str, port: int, data_dir: Path) -> int:
    import uvicorn

    from feedbackql.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()
    registry = load_registry(builtin_only=settings.builtin_plugins_only)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal; turning
    # it into SystemExit lets the `with` below stop the embedded database server too.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_quietly)
    with _database(settings, data_dir) as uri:
        settings = settings.model_copy(update={"mongodb_uri": uri})
        app = create_app(settings, registry)
        logging.getLogger("feedbackql").info("serving on http://%s:%d/graphql", host, port)
        uvicorn.run(app, host=host, port=port, log_level="info")
    return 0

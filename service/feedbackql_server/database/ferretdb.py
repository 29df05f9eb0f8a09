"""Building FerretDB v1.24.2 from the Go module proxy, once per machine, and its command line.

``go install ...@v1.24.2`` yields a binary that panics at start (the module's
``build/version/version.txt`` is generated, not published), so the module source is
downloaded through the proxy, the version file written, and the command built from it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import platformdirs

from feedbackql_server.database.errors import DatabaseUnavailable

FERRETDB_MODULE = "github.com/FerretDB/FerretDB"
FERRETDB_VERSION = "v1.24.2"


def default_bin_dir() -> Path:
    """Where FerretDB is built: ``FEEDBACKQL_BIN_DIR``, else the per-user cache folder
    (``$XDG_CACHE_HOME/feedbackql/bin``, usually ``~/.cache/feedbackql/bin``), so that one build
    serves every project folder and ``feedbackql serve`` run from anywhere."""
    override = os.environ.get("FEEDBACKQL_BIN_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("feedbackql")) / "bin"


def find_ferretdb(bin_dir: Path | None = None) -> Path | None:
    """The built binary: in ``bin_dir`` (default: ``default_bin_dir()``), else in ``./.bin``
    where earlier versions built it, else on PATH."""
    folders = [bin_dir or default_bin_dir()]
    if bin_dir is None and not os.environ.get("FEEDBACKQL_BIN_DIR"):
        folders.append(Path.cwd() / ".bin")
    for folder in folders:
        candidate = folder / "ferretdb"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which("ferretdb")
    return Path(on_path) if on_path else None


def build_ferretdb(bin_dir: Path | None = None) -> Path:
    """The FerretDB binary in ``bin_dir`` (default: ``default_bin_dir()``): already there,
    copied from ``./.bin`` where earlier versions built it, found on PATH, or built."""
    target = (bin_dir or default_bin_dir()) / "ferretdb"
    existing = find_ferretdb(bin_dir)
    if existing == target:
        return target
    if existing is not None and existing.parent == Path.cwd() / ".bin":
        _install(target, lambda partial: shutil.copy2(existing, partial))
        return target
    if existing is not None:
        return existing
    go = shutil.which("go")
    if go is None:
        raise DatabaseUnavailable(
            "FerretDB is not built and Go is not installed: install Go, set MONGODB_URI to a "
            "MongoDB server, or put `mongod` on PATH"
        )
    env = {**os.environ, "GOTOOLCHAIN": os.environ.get("GOTOOLCHAIN", "local"), "GOFLAGS": "-mod=mod"}
    source = _download(go, env)
    with tempfile.TemporaryDirectory(prefix="ferretdb-src-") as work:
        tree = Path(work) / "src"
        shutil.copytree(source, tree)
        for path in tree.rglob("*"):
            path.chmod(path.stat().st_mode | 0o200)
        (tree / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
        _install(target, lambda partial: _run(
            [go, "build", "-buildvcs=false", "-trimpath", "-o", str(partial), "./cmd/ferretdb"], cwd=tree, env=env))
    return target


def _install(target: Path, write: Callable[[Path], object]) -> None:
    """Have ``write`` make the binary under a temporary name, then move it into place: a
    service starting meanwhile, from any folder, never finds half a binary."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        write(partial)
        partial.chmod(0o755)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def _download(go: str, env: dict[str, str]) -> Path:
    out = _run([go, "mod", "download", "-json", f"{FERRETDB_MODULE}@{FERRETDB_VERSION}"],
               cwd=Path.cwd(), env=env)
    return Path(json.loads(out)["Dir"])


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise DatabaseUnavailable(
            f"building FerretDB failed ({' '.join(command[:3])}): {result.stderr.strip()[-2000:]}"
        )
    return result.stdout


def ferretdb_command(binary: Path, postgresql_url: str, state_dir: Path, socket: Path) -> list[str]:
    """FerretDB on PostgreSQL, on the Unix socket ``socket`` only, its state file in ``state_dir``."""
    return [str(binary), "--handler=postgresql", f"--postgresql-url={postgresql_url}",
            *_common_options(state_dir, socket)]


def ferretdb_sqlite_command(binary: Path, folder: Path, state_dir: Path, socket: Path) -> list[str]:
    """FerretDB on the SQLite files in ``folder``: how earlier versions stored the default
    database (read once, to move it; see ``sqlite_move``)."""
    return [str(binary), "--handler=sqlite", f"--sqlite-url=file:{folder}/", *_common_options(state_dir, socket)]


def socket_uri(socket: Path) -> str:
    """PyMongo's URI for a server on a Unix socket: the path, percent-encoded, as the host."""
    return f"mongodb://{quote(str(socket), safe='')}/?directConnection=true"


def _common_options(state_dir: Path, socket: Path) -> list[str]:
    # An empty --listen-addr turns TCP off: only who can enter the socket's folder connects.
    # Telemetry and the debug HTTP listener off; warnings and errors only (at info and debug
    # FerretDB logs every connection and, at debug, the documents it is sent).
    return ["--listen-addr=", f"--listen-unix={socket}", "--telemetry=disable", "--debug-addr=-",
            f"--state-dir={state_dir}", "--log-level=warn", "--log-format=json", "--no-log-uuid"]


SECRET_ERROR_FIELDS = ("Detail", "Where", "InternalQuery")


def scrub_log_line(line: str) -> str:
    """A line of FerretDB's JSON log without the values it carries about failed queries.

    At every level FerretDB logs a failed query with its arguments (``"args"``: the values of
    the filter or document, cut at 100 characters) and PostgreSQL's error detail (for a unique
    violation, the key). When PostgreSQL went away mid-request, that put API-key hashes in the
    log (checked: ``"args":{"0":"api_key_hash","1":"\"a1038c4c…``). They are dropped here,
    before the line is written; the SQL text (no values) and the error message stay.
    """
    try:
        entry = json.loads(line)
    except ValueError:
        return line  # not a log entry (a Go panic's stack trace has no values)
    if not isinstance(entry, dict):
        return line
    if not isinstance(entry.get("time"), str):  # a query's duration overwrote the timestamp
        entry = {"time": datetime.now(UTC).isoformat(timespec="milliseconds"), "took": entry.pop("time", None),
                 **entry}
    entry.pop("args", None)
    error = entry.get("err")
    if isinstance(error, dict):
        for name in SECRET_ERROR_FIELDS:
            error.pop(name, None)
    return json.dumps(entry)

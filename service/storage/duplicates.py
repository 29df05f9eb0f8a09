"""Recognizing unique-index violations on both servers.

MongoDB reports them as ``DuplicateKeyError`` (code 11000); FerretDB 1.24 does too for
inserts, but a ``findAndModify`` that breaks a unique index comes back as ``InternalError``
naming SQLite's "UNIQUE constraint failed".
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError, OperationFailure


def is_duplicate_key(exc: Exception) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    return isinstance(exc, OperationFailure) and "UNIQUE constraint failed" in str(exc)

"""The database layer's own error, and how to tell an error that says the database is gone.

``unreachable`` is asked by the HTTP edge (``edge/middleware/outage.py``) and by the GraphQL
error mapping (``api/errors.py``) alike, so it lives here, next to the server it knows about.
"""

from __future__ import annotations

from pymongo.errors import ConnectionFailure, OperationFailure

FERRETDB_INTERNAL_ERROR = 1
BACKEND_GONE = ("failed to connect", "connection refused", "broken pipe", "connection reset", "conn closed",
                "unexpected eof", "unexpected postmaster exit", "sqlstate 08", "sqlstate 57p")
"""What FerretDB's InternalError says when its PostgreSQL is gone (SQLSTATE class 08 is a
connection exception, 57P an operator intervention such as a shutdown)."""
BACKEND_SHORT = ("sqlstate 53", "no space left on device")
"""... or out of a resource until someone frees it: class 53 is insufficient resources (53100 a
full disk: every write failed with a masked INTERNAL while the data folder's disk was full)."""
MONGODB_OUT_OF_DISK_SPACE = 14031


def unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database cannot be reached, or cannot write for now: the
    server itself (a network error), the storage under FerretDB (it answers InternalError
    naming the lost connection to its PostgreSQL), or a full disk."""
    if isinstance(error, ConnectionFailure):
        return True
    if isinstance(error, OperationFailure) and error.code == MONGODB_OUT_OF_DISK_SPACE:
        return True
    if isinstance(error, OperationFailure) and error.code == FERRETDB_INTERNAL_ERROR:
        message = str(error).lower()
        return any(sign in message for sign in (*BACKEND_GONE, *BACKEND_SHORT))
    return False


class DatabaseUnavailable(RuntimeError):
    """No database server can be had; the message says what to do."""

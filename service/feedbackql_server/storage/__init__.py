"""The package that touches MongoDB collections; two exceptions, each reading one: the
change-stream broker (``events/change_stream.py``) and the one-time move of an old
SQLite-backed database (``database/sqlite_move.py``)."""

from feedbackql_server.storage.store import Storage

__all__ = ["Storage"]

"""The only package that touches MongoDB collections."""

from feedbackql_server.storage.store import Storage

__all__ = ["Storage"]

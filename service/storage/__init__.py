"""The only package that touches MongoDB collections."""

from feedbackql.storage.store import Storage

__all__ = ["Storage"]

"""The public API for plugin authors: base classes and the hook marker."""

from feedbackql_server.kinds.base import Agreement, FieldKind, KindModel, QuestionKind, Unified
from feedbackql_server.kinds.hookspecs import hookimpl

__all__ = ["Agreement", "FieldKind", "KindModel", "QuestionKind", "Unified", "hookimpl"]

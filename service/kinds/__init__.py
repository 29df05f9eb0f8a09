"""The public API for plugin authors: base classes and the hook marker."""

from feedbackql.kinds.base import Agreement, FieldKind, KindModel, QuestionKind, Unified
from feedbackql.kinds.hookspecs import hookimpl

__all__ = ["Agreement", "FieldKind", "KindModel", "QuestionKind", "Unified", "hookimpl"]

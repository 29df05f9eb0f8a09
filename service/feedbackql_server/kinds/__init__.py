"""The public API for plugin authors: base classes, contexts, problems and the hook marker."""

from feedbackql_server.kinds.base import Agreement, FieldKind, KindModel, QuestionKind, Unified
from feedbackql_server.kinds.context import DatasetContext, FieldInfo, RecordContext
from feedbackql_server.kinds.hookspecs import hookimpl
from feedbackql_server.kinds.problems import Problem, Problems, raise_all

__all__ = [
    "Agreement",
    "DatasetContext",
    "FieldInfo",
    "FieldKind",
    "KindModel",
    "Problem",
    "Problems",
    "QuestionKind",
    "RecordContext",
    "Unified",
    "hookimpl",
    "raise_all",
]

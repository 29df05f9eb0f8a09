"""Hook specifications: what a FeedbackQL plugin may implement.

Every hook is called once per registered plugin and all results are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from feedbackql_server.kinds.base import FieldKind, QuestionKind
    from feedbackql_server.kinds.tasks import TrainingTask
    from feedbackql_server.kinds.vector_indexes import ApproximateIndex

PROJECT = "feedbackql"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def feedbackql_question_types() -> Sequence[type[QuestionKind]]:
    """Return the question kinds (subclasses of ``QuestionKind``) this plugin adds."""
    raise NotImplementedError


@hookspec
def feedbackql_field_types() -> Sequence[type[FieldKind]]:
    """Return the field kinds (subclasses of ``FieldKind``) this plugin adds."""
    raise NotImplementedError


@hookspec
def feedbackql_training_tasks() -> Sequence[type[TrainingTask]]:
    """Return the training tasks (subclasses of ``TrainingTask``) this plugin adds; each is
    served at ``/datasets/{id}/training/{name}`` and by ``trainingData(task: name)``."""
    raise NotImplementedError


@hookspec
def feedbackql_vector_indexes() -> Sequence[type[ApproximateIndex]]:
    """Return approximate vector indexes (subclasses of ``ApproximateIndex``); the service uses
    the first one registered for large vector spaces (``docs/vectors.md``)."""
    raise NotImplementedError

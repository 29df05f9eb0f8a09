"""Training tasks: turning a question's answers into training-ready rows.

A task is a class registered through the ``feedbackql_training_tasks()`` hook. The core makes
one instance per export with the ``TaskRequest``; the constructor refuses a question or
options it cannot use by raising ``Unsuitable`` or ``Problem``. The core then pages through
the dataset and calls ``rows`` once per record, and ``finish`` at the end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from feedbackql_server.kinds.base import QuestionKind, Unified
from feedbackql_server.kinds.columns import JSON, Column
from feedbackql_server.kinds.context import FieldInfo
from feedbackql_server.kinds.problems import Problem

Row = dict[str, Any]


class Unsuitable(Problem):
    """The task cannot use answers to this question (e.g. ``sft`` on a rating question)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ["question"], "unsuitable_question")


@dataclass(frozen=True)
class TaskOptions:
    """What the caller asked for (``question`` is resolved into ``TaskRequest.question``)."""

    field: str | None = None
    question: str | None = None
    strategy: str | None = None
    best_vs_worst: bool = False
    implicit_prompt: bool = False
    threshold: float | None = None
    top_k: int | None = None


@dataclass(frozen=True)
class TaskQuestion:
    """The question whose answers the task reads: its kind, parsed settings, and the kind's
    unification (on answers as given to ``rows``)."""

    name: str
    kind: QuestionKind
    settings: Any
    unify: Callable[[Sequence[Any], str], Unified]

    def strategy(self, asked: str | None) -> str:
        """``asked``, or the kind's first strategy; ``Problem`` when the kind has no such one."""
        strategies = self.kind.strategies
        if not strategies:
            raise Problem(f"{self.kind.name} questions cannot be unified", ["strategy"], "no_unification")
        chosen = asked or strategies[0]
        if chosen not in strategies:
            raise Problem(f"{self.kind.name} questions unify with one of {list(strategies)}", ["strategy"],
                          "unknown_strategy")
        return chosen


@dataclass(frozen=True)
class TaskRequest:
    question: TaskQuestion
    fields: Mapping[str, FieldInfo]
    """The dataset's fields, in order."""
    options: TaskOptions
    field_columns: Mapping[str, Column] = field(default_factory=dict)
    """The column type of each field's values (from its kind's value schema)."""

    def field_column(self, name: str) -> Column:
        return self.field_columns.get(name, JSON)

    def prompt_field(self) -> str:
        """The field named by ``options.field``, else the dataset's first field."""
        chosen = self.options.field or next(iter(self.fields), None)
        if chosen is None or chosen not in self.fields:
            raise Problem(f"the dataset has no field {chosen!r}", ["field"], "unknown_field")
        return chosen


@dataclass(frozen=True)
class TaskRecord:
    id: str
    external_id: str | None
    fields: Mapping[str, Any]
    answers: Sequence[Any] = field(default_factory=list)
    """Submitted answers to the question, oldest first (values as the kind reads them)."""


class TrainingTask:
    """One training-data format, e.g. ``sft`` or ``dpo``."""

    name: ClassVar[str]
    """Its name in ``/training/{name}`` and ``trainingData(task:)``: lowercase, digits, ``_``."""
    description: ClassVar[str] = ""
    columns: ClassVar[tuple[str, ...]] = ()
    """Every column the task can give, in order (listed by ``trainingTasks``)."""
    column_types: ClassVar[Mapping[str, Column]] = {}
    """Declared types by column; a column left out is typed from the first rows."""
    ui_options: ClassVar[Mapping[str, Any]] = {}
    """Options a one-click download in a UI passes (``{"threshold": 4}``), listed by
    ``trainingTasks`` as ``uiOptions``; the API itself takes whatever options the caller gives."""

    @classmethod
    def accepts(cls, kind: QuestionKind) -> bool:
        """Whether the task can use questions of this kind: ``trainingTasks`` lists the kinds
        it accepts (``questionKinds``), so a UI offers it for those questions. Default: every
        kind (``__init__`` may still refuse one question with ``Unsuitable``)."""
        return True

    def __init__(self, request: TaskRequest) -> None:
        self.request = request
        self.ties = 0
        """Records (or units) whose unified answer is a tie; reported with the export."""
        self.skipped: Counter[str] = Counter()
        """Records left out because they cannot make a valid row, by reason."""

    def schema(self) -> dict[str, Column | None]:
        """The columns of this export's rows, in order, with their types (None: inferred).
        Override when the columns depend on the dataset (a chat prompt gives ``messages``)."""
        return {name: self.column_types.get(name) for name in self.columns}

    def skip(self, reason: str) -> list[Row]:
        """Leave a record out, counted under ``reason`` in the export's header."""
        self.skipped[reason] += 1
        return []

    def rules(self) -> dict[str, Any]:
        """How rows are made, stated in the export (``task`` is added by the core)."""
        return {}

    def rows(self, record: TaskRecord) -> Iterable[Row]:
        """The rows one record gives (none is fine: a record without answers)."""
        raise NotImplementedError

    def finish(self) -> Iterable[Row]:
        """Rows known only at the end (e.g. a top k). Default: none."""
        return ()


def is_conversation(value: Any) -> bool:
    """A chat field's value: a list of ``{role, content}`` messages."""
    return isinstance(value, list) and all(isinstance(m, dict) and "role" in m and "content" in m for m in value)


def prompt_problem(messages: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a conversation cannot be the prompt of a chat row, or None.

    The rule, so that the prompt plus one assistant turn passes a chat template that requires
    alternating roles: an optional first ``system`` turn, then ``user`` and ``assistant``
    turns alternating from ``user``, ending with a ``user`` turn (the answer is the reply)."""
    roles = [m.get("role") for m in messages]
    if roles and roles[0] == "system":
        roles = roles[1:]
    if not roles:
        return "prompt_without_user_turn"
    if any(role != ("user" if i % 2 == 0 else "assistant") for i, role in enumerate(roles)):
        return "prompt_roles_not_alternating"
    return None if roles[-1] == "user" else "prompt_ends_with_assistant_turn"

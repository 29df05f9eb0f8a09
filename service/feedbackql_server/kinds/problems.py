"""Problems a kind reports about a value or its settings.

A plain ``ValueError`` is a problem with the whole value. Raise ``Problem`` to point at a part
of it (a path in the schema's names, e.g. ``(0, "end")``) and to give a machine-readable
``reason``; raise ``Problems`` to report several at once.
"""

from __future__ import annotations

from collections.abc import Sequence

INVALID = "invalid"


class Problem(ValueError):
    """One broken rule: a message a person can act on, where in the value, and why (a short
    snake_case reason such as ``out_of_bounds``, stable across versions)."""

    def __init__(self, message: str, path: Sequence[str | int] = (), reason: str = INVALID) -> None:
        super().__init__(message)
        self.message = message
        self.path = tuple(path)
        self.reason = reason


class Problems(ValueError):
    """Several broken rules in one value, reported together."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = list(problems)


def problems_of(exc: ValueError) -> list[Problem]:
    """The problems an exception raised by a kind stands for."""
    if isinstance(exc, Problems):
        return exc.problems
    if isinstance(exc, Problem):
        return [exc]
    return [Problem(str(exc))]


def raise_all(problems: Sequence[Problem]) -> None:
    """Raise the problems found, if any: one as itself, several as ``Problems``."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise Problems(problems)

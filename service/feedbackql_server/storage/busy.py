"""Retrying what FerretDB refuses only because SQLite was busy.

Under many concurrent writers FerretDB 1.24 answers some commands with an ``InternalError``
"database is locked (SQLITE_BUSY)": nothing was written, and the same command succeeds a
moment later (seen at 50 concurrent labelers in bench/labeler_loop.py). MongoDB never says
this, so there the wrapper costs nothing. Only single-document commands are wrapped: they
either happened or not.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from pymongo.errors import OperationFailure

P = ParamSpec("P")
R = TypeVar("R")
ATTEMPTS = 8


def is_busy(exc: Exception) -> bool:
    return isinstance(exc, OperationFailure) and ("SQLITE_BUSY" in str(exc) or "database is locked" in str(exc))


def retry_when_busy(command: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    @functools.wraps(command)
    async def retried(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(ATTEMPTS):
            try:
                return await command(*args, **kwargs)
            except OperationFailure as exc:
                if not is_busy(exc) or attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.005 * 2**attempt)
        raise AssertionError("unreachable")

    return retried

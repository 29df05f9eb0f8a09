"""Per-key quotas on listing reads: what one caller's pages and counts may ask of the database.

The request's own budget (``listing.ReadBudget``) bounds one request; it did not bound a key that
sends requests back to back, over HTTP and any number of WebSockets at once. An annotator sending
the worst query it could write over two sockets took the labeler loop's p95 from 74 ms to 780 ms
(10.5 x, ``bench/worst_query.py`` at 10,000 records): the refusals were cheap, but every request
still read its buckets first, and the database's two cores were the annotator's.

So each user has, across all their connections:

- one read at a time (a page's lookups, or a count): another request's reads wait (up to
  ``WAIT_SECONDS``) for it to finish, then get ``RATE_LIMITED``; the aliases of one request
  take turns. A read runs to its end even when its request is cancelled (a cancelled read costs
  the database a new connection), and holds the slot until then;
- a budget of bucket reads (``BUCKET_SIZE`` records each) that refills at ``per_second`` up to
  ``burst``: a filtered page gets the buckets left (and may come back short, with
  ``hasNextPage``), an unfiltered page is charged what it read, and a user whose budget is spent
  gets ``RATE_LIMITED`` with the seconds until a bucket's worth is back; until then every
  request of theirs is refused at the door (``cooling``).

Users are named by ``identity.quota_id``: the edge names API keys the same way.

The labeler loop (``nextRecords``, ``submitResponse``) reads no listing: it never waits here.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from feedbackql_server.errors import RateLimited

WAIT_SECONDS = 1.0
"""How long a listing read waits for the same user's other listing request to finish."""
MAX_USERS = 100_000
"""Users whose budgets are remembered (the least recently used are forgotten beyond)."""


@dataclass
class _Budget:
    tokens: float
    updated: float


@dataclass
class _Holder:
    owner: object
    released: asyncio.Event = field(default_factory=asyncio.Event)


class ReadQuotas:
    """The quotas of every user of one process (``per_second`` 0: no budget of bucket reads)."""

    def __init__(self, per_second: float, burst: int, wait_seconds: float = WAIT_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = burst
        self.wait_seconds = wait_seconds
        self.clock = clock
        self.budgets: OrderedDict[str, _Budget] = OrderedDict()
        self.holders: dict[str, _Holder] = {}
        self.refused_until: OrderedDict[str, float] = OrderedDict()

    async def acquire(self, user: str, owner: object) -> None:
        """Take the user's read slot for ``owner`` (a request). Another request's reads are
        waited for up to ``wait_seconds``, then ``RATE_LIMITED``; the request's own (its other
        aliases) for as long as they take: one read of a key runs at a time."""
        deadline = self.clock() + self.wait_seconds
        while (holder := self.holders.get(user)) is not None:
            if holder.owner is owner:
                await holder.released.wait()
                continue
            try:
                async with asyncio.timeout(max(0.0, deadline - self.clock())):
                    await holder.released.wait()
            except TimeoutError:
                self._refuse_until(user, self.wait_seconds)
                raise RateLimited.after("another request of this API key is reading records; send one listing "
                                        "request at a time", self.wait_seconds) from None
        self.holders[user] = _Holder(owner)

    def release(self, user: str) -> None:
        holder = self.holders.pop(user, None)
        if holder is not None:
            holder.released.set()

    @contextlib.asynccontextmanager
    async def one_at_a_time(self, user: str, owner: object) -> AsyncIterator[None]:
        """The user's read slot, for ``owner``, for the duration of the context."""
        await self.acquire(user, owner)
        try:
            yield
        finally:
            self.release(user)

    def take(self, user: str, wanted: int) -> int:
        """Up to ``wanted`` bucket reads (at least one); ``RATE_LIMITED`` when not one is left."""
        if self.per_second <= 0:
            return wanted
        budget = self._refilled(user)
        self._check(user, budget)
        granted = min(wanted, math.floor(budget.tokens))
        budget.tokens -= granted
        return granted

    def check(self, user: str) -> None:
        """``RATE_LIMITED`` when the user has not one bucket read left (taking none): a request
        refused this early costs the database nothing."""
        if self.per_second > 0:
            self._check(user, self._refilled(user))

    def cooling(self, user: str) -> float:
        """Seconds until a user refused for a spent budget may ask again (0: now). Until then
        the edge refuses all their requests before any work (``rate_limit.py``): a client that
        ignores ``retryAfter`` cannot make the service parse and plan its queries for nothing."""
        until = self.refused_until.get(user)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self.refused_until[user]
        return max(0.0, left)

    def _check(self, user: str, budget: _Budget) -> None:
        if budget.tokens < 1:
            # Refused at the door for as long as the caller is told to wait (whole seconds), not
            # just until a bucket's worth is back: a key that ignored ``retryAfter`` got through
            # five times a second, and each 30-alias request it sent then cost the service the
            # planning of 30 pages and 29 refusals (bench/worst_query.py: 1.57 x the labeler
            # loop's p95, against 1.26 for a trivial query sent as often).
            wait = max(1, math.ceil((1 - budget.tokens) / self.per_second))
            self._refuse_until(user, wait)
            raise RateLimited.after(f"this API key has read its share of records ({self.burst * 100} at once, "
                                    f"{self.per_second * 100:g} a second); ask again later, or use the export "
                                    "to read a whole dataset", wait)

    def charge(self, user: str, buckets: float) -> None:
        """Count reads made without asking first (the budget may go below zero: they are owed);
        a negative amount gives back reads asked for and not made."""
        if self.per_second > 0:
            budget = self._refilled(user)
            budget.tokens = min(float(self.burst), budget.tokens - buckets)

    def _refuse_until(self, user: str, wait: float) -> None:
        self.refused_until[user] = self.clock() + wait
        self.refused_until.move_to_end(user)
        if len(self.refused_until) > MAX_USERS:
            self.refused_until.popitem(last=False)

    def _refilled(self, user: str) -> _Budget:
        now = self.clock()
        budget = self.budgets.pop(user, None) or _Budget(tokens=float(self.burst), updated=now)
        budget.tokens = min(float(self.burst), budget.tokens + (now - budget.updated) * self.per_second)
        budget.updated = now
        self.budgets[user] = budget
        if len(self.budgets) > MAX_USERS:
            self.budgets.popitem(last=False)
        return budget

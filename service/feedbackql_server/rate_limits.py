"""Rate limits: a token bucket per API key, and one per client address for every request.

The address bucket (``ADDRESS_SHARE`` keys' worth) is what stops a client that sends a new
random key with each request: each such key has a full bucket of its own. One ``RateLimits``
serves the whole app: operations over WebSockets take from their key's bucket too
(``api/live_sessions.py``), so opening more sockets gains nothing (8 sockets of one key ran
3,200 operations in 6.9 s when each socket had a bucket of its own), and opening a socket
takes from its address's bucket. A key also has at most ``max_in_flight`` requests and
operations running at once: slow queries cannot pile up behind one key."""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from feedbackql_server.domain.identity import bearer_key, hash_key, quota_id

ADDRESS_SHARE = 4
"""An address may send as much as this many keys."""
FAST_SECONDS = 0.25
"""Request time that is not charged to a key's time budget (see RateLimits)."""
BUSY_RATE = 0.25
"""Seconds of slow work per second a key's time budget refills with."""
BUSY_BURST_SECONDS = 60
"""Seconds of slow work a key may use at once before its budget refills."""
@dataclass
class Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """``rate`` tokens per second up to ``burst``; the least recently used buckets are
    forgotten beyond ``max_keys`` so memory stays bounded whatever clients send."""

    def __init__(self, rate: float, burst: int, max_keys: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self.buckets: OrderedDict[str, Bucket] = OrderedDict()

    def take(self, key: str) -> float:
        """0 when a token was taken, else the seconds until one will be there."""
        bucket = self._refilled(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _refilled(self, key: str) -> Bucket:
        now = self.clock()
        bucket = self.buckets.pop(key, None) or Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self.buckets[key] = bucket
        if len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        return bucket

    def balance_wait(self, key: str) -> float:
        """0 while the key's bucket is not overdrawn, else the seconds until it is not."""
        bucket = self._refilled(key)
        return 0.0 if bucket.tokens > 0 else (-bucket.tokens + 0.001) / self.rate

    def charge(self, key: str, amount: float) -> None:
        """Take ``amount`` (the bucket may go below zero: time already spent is owed)."""
        self._refilled(key).tokens -= amount


class RateLimits:
    """The buckets and the running counts the whole app shares (one per process).

    Besides requests per second, a key has a budget of time for slow work: what its requests
    and operations took beyond ``FAST_SECONDS`` each is charged to a bucket that refills at
    ``BUSY_RATE`` seconds per second up to ``BUSY_BURST_SECONDS``; a key whose budget is spent
    waits. Slow queries cost their sender; a labeler's quick requests cost nothing (an
    annotator's worst query over two sockets held every other labeler's loop at 8 s while a
    budget charged every request and refilled at two seconds per second)."""

    def __init__(self, rate: float, burst: int, max_in_flight: int,
                 clock: Callable[[], float] = time.monotonic,
                 cooling: Callable[[str], float] = lambda key: 0.0) -> None:
        self.keys = TokenBuckets(rate, burst)
        self.addresses = TokenBuckets(rate * ADDRESS_SHARE, burst * ADDRESS_SHARE)
        self.max_in_flight = max_in_flight
        self.in_flight: Counter[str] = Counter()
        self.busy = TokenBuckets(BUSY_RATE, BUSY_BURST_SECONDS, clock=clock)
        self.clock = clock
        self.cooling = cooling
        """Seconds a key was told to wait that are not over yet (``domain/read_quota.py``)."""

    def take(self, address: str | None, key: str | None) -> float:
        """0 when the address (if given) and the key (if any) each had a token, else the wait."""
        wait = self.addresses.take(f"addr:{address or 'unknown'}") if address is not None else 0.0
        if wait == 0 and key is not None:
            wait = self.cooling(key) or self.keys.take(key)
        return wait

    @contextlib.contextmanager
    def running(self, key: str | None) -> Iterator[float]:
        """Counts a request or operation of ``key`` as running and charges its time; yields 0,
        or (counting nothing) the seconds to wait when the key already has ``max_in_flight``
        running or has spent its time budget."""
        if key is None:
            yield 0.0
            return
        wait = self.busy.balance_wait(key)
        if self.in_flight[key] >= self.max_in_flight or wait > 0:
            yield max(wait, 1.0)
            return
        self.in_flight[key] += 1
        started = self.clock()
        try:
            yield 0.0
        finally:
            self.in_flight[key] -= 1
            if self.in_flight[key] <= 0:
                del self.in_flight[key]
            self.busy.charge(key, max(0.0, self.clock() - started - FAST_SECONDS))


def retry_seconds(wait: float) -> int:
    """Whole seconds, the same in the ``Retry-After`` header and in the body."""
    return max(1, math.ceil(wait))


def key_id(authorization: str | None) -> str | None:
    """The bucket name of the API key in an ``Authorization`` value (its hash, never the key)."""
    key = bearer_key(authorization or "")
    return None if key is None else quota_id(hash_key(key))

"""Rate limiting: a token bucket per API key, and one per client address for every request.

The address bucket (``ADDRESS_SHARE`` keys' worth) is what stops a client that sends a new
random key with each request: each such key has a full bucket of its own. Operations over a
WebSocket take from a bucket of their connection (``live_sessions.py``)."""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from feedbackql_server.domain.identity import bearer_key
from feedbackql_server.http_errors import error_response

ADDRESS_SHARE = 4
"""An address may send as much as this many keys."""


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
        now = self.clock()
        bucket = self.buckets.pop(key, None) or Bucket(tokens=float(self.burst), updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self.buckets[key] = bucket
        if len(self.buckets) > self.max_keys:
            self.buckets.popitem(last=False)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate


class RateLimit:
    """ASGI middleware: 429 ``RATE_LIMITED`` with ``Retry-After`` when a bucket is empty."""

    def __init__(self, app: ASGIApp, rate: float, burst: int, exempt: frozenset[str]) -> None:
        self.app = app
        self.buckets = TokenBuckets(rate, burst)
        self.addresses = TokenBuckets(rate * ADDRESS_SHARE, burst * ADDRESS_SHARE)
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.addresses.take(f"addr:{client[0] if client else 'unknown'}")
        key = _key(scope)
        if wait == 0 and key is not None:
            wait = self.buckets.take(key)
        if wait == 0:
            await self.app(scope, receive, send)
            return
        await refusal(wait)(scope, receive, send)


def retry_seconds(wait: float) -> int:
    """Whole seconds, the same in the ``Retry-After`` header and in the body."""
    return max(1, math.ceil(wait))


def refusal(wait: float) -> JSONResponse:
    seconds = retry_seconds(wait)
    return error_response(429, "RATE_LIMITED", f"too many requests; retry after {seconds} s",
                          headers={"Retry-After": str(seconds)}, retryAfter=seconds)


def _key(scope: Scope) -> str | None:
    headers = dict(scope["headers"])
    key = bearer_key(headers.get(b"authorization", b"").decode("latin-1"))
    return None if key is None else "key:" + hashlib.sha256(key.encode()).hexdigest()

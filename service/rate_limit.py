"""Per-key rate limiting: a token bucket for each API key (or client address without one)."""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from feedbackql.domain.identity import bearer_key
from feedbackql.http_errors import error_response


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
        self.exempt = exempt

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(_client_key(scope))
        if wait == 0:
            await self.app(scope, receive, send)
            return
        retry_after = round(wait, 3)
        response = error_response(
            429, "RATE_LIMITED", f"too many requests; retry after {retry_after} s",
            headers={"Retry-After": str(math.ceil(wait))}, retryAfter=retry_after,
        )
        await response(scope, receive, send)


def _client_key(scope: Scope) -> str:
    headers = dict(scope["headers"])
    key = bearer_key(headers.get(b"authorization", b"").decode("latin-1"))
    if key is not None:
        return "key:" + hashlib.sha256(key.encode()).hexdigest()
    client = scope.get("client")
    return f"addr:{client[0] if client else 'unknown'}"

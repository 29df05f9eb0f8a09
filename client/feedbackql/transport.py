"""Posting GraphQL operations and downloading exports, with retries where they are safe.

Every mutation carries a fresh ``Idempotency-Key`` (the same on each of its retries), so the
service does it once however often it is sent. That makes it safe to retry what may have
reached the service: a read that timed out, a connection dropped mid-answer, and the answers
that say "try again" (``RATE_LIMITED``, ``TIMEOUT``, ``UNAVAILABLE``,
``IDEMPOTENCY_KEY_IN_PROGRESS``), with exponential backoff or the server's ``retryAfter``.
Queries change nothing and are retried alike. Validation and every other answered error are
not retried: sending the same request again cannot change them.
"""

from __future__ import annotations

import asyncio
import random
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from feedbackql.errors import RETRIED, ConnectionFailed, ServerError, from_graphql

RETRIED_TRANSPORT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)
"""Failures to connect (nothing sent) and to read the answer (maybe done: safe with a key)."""
MUTATION = re.compile(r"\A(?:\s|,|#[^\n]*\n?)*mutation\b")


def is_mutation(query: str) -> bool:
    """Whether ``query`` starts with a mutation (comments and blanks aside)."""
    return MUTATION.match(query) is not None


class AsyncTransport:
    def __init__(self, url: str, api_key: str, *, timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 0.5, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout)
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.max_retries = max_retries
        self.backoff = backoff

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        """The operation's data; a mutation is sent with one key however often it is tried."""
        headers = {**self.headers, "Idempotency-Key": uuid.uuid4().hex} if is_mutation(query) else self.headers
        body = {"query": query, "variables": variables or {}}
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = await self.http.post("/graphql", json=body, headers=headers)
            except RETRIED_TRANSPORT as exc:
                if last:
                    raise ConnectionFailed(f"no answer from the service after {attempt + 1} attempt(s): "
                                           f"{type(exc).__name__} {exc}".rstrip()) from exc
                await self._pause(attempt)
                continue
            error = _first_error(response)
            if isinstance(error, RETRIED) and not last:
                await self._pause(attempt, error.details.get("retryAfter") or _retry_after(response))
                continue
            if error is not None:
                raise error
            return response.json()["data"]
        raise AssertionError("unreachable")

    async def stream(self, path: str, params: dict[str, Any]) -> AsyncIterator[bytes]:
        async with self.http.stream("GET", path, params=params, headers=self.headers) as response:
            if response.status_code != 200:
                await response.aread()
                error = _first_error(response)
                raise error or ServerError(f"export failed with HTTP {response.status_code}")
            async for chunk in response.aiter_bytes():
                yield chunk

    async def _pause(self, attempt: int, retry_after: float | None = None) -> None:
        delay = retry_after if retry_after else self.backoff * 2**attempt
        await asyncio.sleep(delay * (1 + random.random() / 10))

    async def close(self) -> None:
        await self.http.aclose()


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None


def _first_error(response: httpx.Response) -> Exception | None:
    try:
        body = response.json()
    except ValueError:
        return ServerError(f"HTTP {response.status_code}: {response.text[:200]}")
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        return from_graphql(errors[0])
    if response.status_code != 200:
        return ServerError(f"HTTP {response.status_code}")
    return None

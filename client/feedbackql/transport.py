"""Posting GraphQL operations and downloading exports, with retries where they are safe.

Connection failures and ``RATE_LIMITED`` answers are retried with exponential backoff (the
server's ``retryAfter`` when it gives one); validation and every other answered error are
not, because sending the same request again cannot change them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx

from feedbackql.errors import ConnectionFailed, RateLimitedError, ServerError, from_graphql


class AsyncTransport:
    def __init__(self, url: str, api_key: str, *, timeout: float = 60.0, max_retries: int = 5,
                 backoff: float = 0.5, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=url.rstrip("/"), timeout=timeout)
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.max_retries = max_retries
        self.backoff = backoff

    async def execute(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        for attempt in range(self.max_retries + 1):
            try:
                response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}},
                                                headers=self.headers)
            except httpx.TransportError as exc:
                if attempt == self.max_retries:
                    raise ConnectionFailed(f"cannot reach the service: {exc}") from exc
                await self._pause(attempt)
                continue
            error = _first_error(response)
            if isinstance(error, RateLimitedError) and attempt < self.max_retries:
                await self._pause(attempt, error.details.get("retryAfter"))
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

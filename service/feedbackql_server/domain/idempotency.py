"""Idempotent requests: a keyed request is done once; its retries get the first answer.

A client that lost an answer (its read timed out after the service committed) cannot tell
whether to send again; with an ``Idempotency-Key`` it can. The first request claims the key
in the database before doing anything, so a retry that arrives while it still runs waits for
it (then ``IDEMPOTENCY_KEY_IN_PROGRESS``, "try again"), and one that arrives after it — also
after a restart — gets the stored answer. The same key with another request is refused
(``IDEMPOTENCY_KEY_REUSED``). Keys live for ``WINDOW``; a claim whose request never finished
(the process died) is given up after ``ABANDONED``, and the request may then run again.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from feedbackql_server.errors import Conflict, IdempotencyKeyInProgress, IdempotencyKeyReused
from feedbackql_server.storage import Storage
from feedbackql_server.storage.idempotency import DONE, Doc

WINDOW = timedelta(hours=24)
ABANDONED = timedelta(minutes=10)
"""Longer than any request runs (the request timeout is 30 s by default)."""
WAIT_SECONDS = 2.0
"""How long a retry waits for the first request before it is told to come back."""
POLL_SECONDS = 0.05
MAX_KEPT_BYTES = 1024 * 1024
"""Answers up to this size are kept (an ``addRecords`` report of 1,000 errors is ~150 KB)."""
SWEEP_EVERY = timedelta(minutes=10)
TRY_AGAIN = frozenset({"UNAVAILABLE", "TIMEOUT", "RATE_LIMITED"})
"""Codes that mean the request did not take effect as a whole: its retry must run it."""


@dataclass(frozen=True)
class Answer:
    """An HTTP answer as it is kept: ``body`` None when it was too large to keep."""

    status: int
    media_type: str
    body: str | None
    size: int
    try_again: bool = False


@dataclass(frozen=True)
class Claim:
    claim_id: ObjectId


class IdempotentRequests:
    """One caller's idempotency keys (keys are scoped per user)."""

    last_sweep = datetime.min.replace(tzinfo=UTC)

    def __init__(self, storage: Storage, user_id: ObjectId) -> None:
        self.storage = storage
        self.repo = storage.idempotency
        self.user_id = user_id

    async def begin(self, key: str, digest: str) -> Claim | Answer:
        """Claim ``key`` for the request whose SHA-256 is ``digest``, or the first answer."""
        await self._sweep()
        deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
        while True:
            now = datetime.now(UTC)
            claim_id = await self.repo.claim(self.user_id, key, digest, now)
            if claim_id is not None:
                return Claim(claim_id)
            found = await self.repo.find(self.user_id, key)
            if found is None:
                continue  # released between the two reads: claim again
            if _outlived(found, now):
                await self.repo.release(found["_id"])
                continue
            if found["digest"] != digest:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used with another request; use a new key per request",
                    reason="idempotency_key_reused")
            if found["state"] == DONE:
                return _answer(found)
            if asyncio.get_running_loop().time() >= deadline:
                raise IdempotencyKeyInProgress(
                    "the first request with this Idempotency-Key is still running; retry shortly", retryAfter=1)
            await asyncio.sleep(POLL_SECONDS * (1 + random.random()))

    async def complete(self, claim: Claim, work: Coroutine[Any, Any, Answer]) -> Answer:
        """Run ``work`` to its end even if the caller is cancelled (a request timeout: the
        retry will want its answer), then keep the answer — or give the key up when the
        answer says "try again", so that the retry runs the request."""
        return await self.storage.uncancellable.run(self._complete(claim, work))

    async def _complete(self, claim: Claim, work: Coroutine[Any, Any, Answer]) -> Answer:
        try:
            answer = await work
        except BaseException:
            await self.repo.release(claim.claim_id)
            raise
        if answer.try_again:
            await self.repo.release(claim.claim_id)
        else:
            await self.repo.finish(claim.claim_id, answer.status, answer.media_type, answer.body, answer.size)
        return answer

    async def _sweep(self) -> None:
        now = datetime.now(UTC)
        if now - IdempotentRequests.last_sweep >= SWEEP_EVERY:
            IdempotentRequests.last_sweep = now
            await self.repo.sweep(now - WINDOW)


def kept(status: int, media_type: str, body: bytes) -> Answer:
    """``body`` as it will be kept: text (answers are JSON) unless too large, and whether
    it tells the client to try again (then the key is given up, not kept)."""
    text = body.decode("utf-8", "replace") if len(body) <= MAX_KEPT_BYTES else None
    return Answer(status, media_type, text, len(body), try_again=_says_try_again(status, text))


def _says_try_again(status: int, text: str | None) -> bool:
    if status >= 500 or status == 429:
        return True
    try:
        errors = json.loads(text or "").get("errors") or []
    except (ValueError, AttributeError):
        return False
    return any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") in TRY_AGAIN for e in errors)


def not_kept_error(answer: Answer) -> Conflict:
    return Conflict(f"the request with this Idempotency-Key was done, but its answer ({answer.size:,} bytes) "
                    "was too large to keep; read the result instead of sending it again",
                    reason="answer_not_kept")


def _outlived(found: Doc, now: datetime) -> bool:
    created: datetime = found["created_at"]
    return now - created >= (WINDOW if found["state"] == DONE else ABANDONED)


def _answer(found: Doc) -> Answer:
    return Answer(found["status"], found["media_type"], found.get("body"), found.get("size", 0))

"""Answers that come in with their records: a migration from another tool, a re-imported export.

Each is checked like an answer given in the service (the question kinds' rules, required
questions when submitted) and written through the same path (``responses.write_response``),
so that record status, progress, tallies and agreement count it exactly as any other answer.
Only owners and admins add records, so only they bring answers in; the answer's user is named
by username and must exist and see the dataset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bson import ObjectId

from feedbackql_server.documents import RESPONSE_STATUSES, DatasetDoc, UserDoc
from feedbackql_server.domain.config import DatasetConfig
from feedbackql_server.domain.records import RecordSpec
from feedbackql_server.domain.responses import CheckedResponse, ResponseSpec, announce, check_values, write_response
from feedbackql_server.errors import Invalid, all_of, within
from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.policy import Caller
from feedbackql_server.policy.datasets import visible
from feedbackql_server.storage import Storage

if TYPE_CHECKING:
    from feedbackql_server.domain.session import Services

CONCURRENCY = 8
"""Records whose answers are written at once (one record's answers go one after another)."""


@dataclass(frozen=True)
class ImportedAnswer:
    user_id: ObjectId
    status: str
    values: dict[str, Any]
    """As stored: question -> {kind, value, plugin_version}."""


@dataclass(frozen=True)
class PlacedAnswers:
    """A written record and the answers to write to it; ``fresh``: created by this batch,
    so it has no answers yet to compare with."""

    record_id: ObjectId
    seq: int
    bucket: str
    fresh: bool
    answers: Sequence[ImportedAnswer]


async def users_named(storage: Storage, specs: Sequence[RecordSpec]) -> dict[str, UserDoc]:
    names = sorted({response.user for spec in specs for response in spec.responses if _lookable(response.user)})
    return await storage.users.by_usernames(names) if names else {}


def _lookable(username: str) -> bool:
    """A name the database can be asked for (a lone surrogate or a NUL would fail in the
    driver); any other is simply not found, and its record refused for it."""
    return "\x00" not in username and not any(0xD800 <= ord(c) <= 0xDFFF for c in username)


def check(registry: KindRegistry, config: DatasetConfig, dataset: DatasetDoc, spec: RecordSpec,
          fields: dict[str, Any], users: dict[str, UserDoc]) -> list[ImportedAnswer]:
    """The record's answers, ready to write; ``Invalid`` with every problem found otherwise
    (paths from the record input: ``responses[1].values[0].value``)."""
    answers: list[ImportedAnswer] = []
    errors: list[Invalid] = []
    seen: set[ObjectId] = set()
    for index, response in enumerate(spec.responses):
        path: list[str | int] = ["responses", index]
        try:
            user = _user(users, dataset, response.user, [*path, "user"])
            if user["_id"] in seen:
                raise Invalid(f"user {response.user!r} answers this record twice", [*path, "user"],
                              reason="duplicate")
            if response.status not in RESPONSE_STATUSES:
                raise Invalid(f"status is one of {list(RESPONSE_STATUSES)}", [*path, "status"])
        except Invalid as error:
            errors.append(error)
            continue
        try:
            values = check_values(registry, config, ResponseSpec(ObjectId(), response.status, response.values),
                                  fields)
        except Invalid as error:
            errors.append(within(error, path))
            continue
        seen.add(user["_id"])
        answers.append(ImportedAnswer(user["_id"], response.status, values))
    if errors:
        raise all_of(errors)
    return answers


def _user(users: dict[str, UserDoc], dataset: DatasetDoc, name: str, path: list[str | int]) -> UserDoc:
    user = users.get(name)
    if user is None:
        raise Invalid(f"no user is named {name!r}: create the user first (createUser)", path,
                      reason="unknown_user")
    if not visible(Caller.of(user), dataset):
        raise Invalid(f"user {name!r} cannot see this dataset: add them to its workspace first "
                      "(addWorkspaceMember)", path, reason="not_a_member")
    return user


async def write(services: Services, dataset_id: ObjectId, placed: Sequence[PlacedAnswers]) -> int:
    """Write the answers (those a record already holds as they are are left alone, so that
    importing the same file twice changes nothing); how many were written."""
    storage = services.storage
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one_record(record: PlacedAnswers) -> int:
        written = 0
        async with gate:
            for answer in record.answers:
                if not record.fresh and await _already_there(storage, record.record_id, answer):
                    continue
                checked = CheckedResponse(ResponseSpec(record.record_id, answer.status), dataset_id,
                                          answer.values, record.seq, record.bucket)
                stored, state = await write_response(storage, answer.user_id, checked)
                await announce(services, checked, stored, state)
                written += 1
        return written

    return sum(await asyncio.gather(*(one_record(record) for record in placed if record.answers)))


async def _already_there(storage: Storage, record_id: ObjectId, answer: ImportedAnswer) -> bool:
    stored = await storage.responses.of_user(record_id, answer.user_id)
    if stored is None or stored["status"] != answer.status:
        return False
    return _plain(stored["values"]) == _plain(answer.values)


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    return {question: (v["kind"], v["value"]) for question, v in values.items() if v is not None}

"""Progress counters: a dataset's in its document (``tally``), each labeler's in a document of
their own (``user_tallies``, one per dataset and user).

The labelers' counters were in the dataset document too, so it grew with every labeler, and
every read of the dataset (several per answer) and every counter write decoded and rewrote all
of them: with 200 labelers a dataset read took 24 ms (p50) and the labeler loop's p95 grew
with the number of labelers. Now a dataset document has the same size whoever answers it, and
a labeler's answer also moves one small document of its own.

Increments arrive as ``domain/tally.py`` makes them, dotted keys (``responses.submitted``,
``users.<user id>.submitted``); ``users.*`` keys go to the user's document. Each document's
increments are a group commit (``increments.py``).

``tally.writes`` counts the dataset's counter writes: a recount that reads it before and after
reading the records, and finds it unchanged (with no write in flight: ``storage/intents.py``),
knows that no increment fell between its reads (``domain/invariants.py``).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Collection, Hashable
from typing import Any, cast

from bson import ObjectId
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import OperationFailure

from feedbackql_server.documents import DatasetDoc
from feedbackql_server.storage.duplicates import is_duplicate_key
from feedbackql_server.storage.increments import GroupedIncrements
from feedbackql_server.storage.locks import KeyedLocks

Doc = dict[str, Any]
USERS = "users"
COUNTER_FIELDS = ("dataset_id", "user")
"""The fields of a user's document that are not counters."""
WRITES = "writes"


def user_tally_id(dataset_id: ObjectId, user: str) -> str:
    return f"{dataset_id}:{user}"


def split(increments: dict[str, int]) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The dataset's increments, and each user's (by user id string)."""
    shared: dict[str, int] = {}
    per_user: defaultdict[str, dict[str, int]] = defaultdict(dict)
    for key, value in increments.items():
        scope, _, rest = key.partition(".")
        if scope == USERS:
            user, _, name = rest.partition(".")
            per_user[user][name] = value
        else:
            shared[key] = value
    return shared, dict(per_user)


class TallyRepo:
    def __init__(self, datasets: AsyncCollection[DatasetDoc], users: AsyncCollection[Doc],
                 dataset_locks: KeyedLocks | None = None) -> None:
        """``dataset_locks``: those every writer of a dataset document holds on FerretDB
        (``storage/datasets.py``), since the counters live in that document."""
        self._datasets = datasets
        self._users = users
        self._dataset_writes = GroupedIncrements(self._increment_dataset,
                                                KeyedLocks() if dataset_locks is None else dataset_locks)
        self._user_locks = KeyedLocks()
        self._user_writes = GroupedIncrements(self._increment_user, self._user_locks)

    async def add(self, dataset_id: ObjectId, increments: dict[str, int]) -> None:
        """Move the counters by ``increments``, merged with concurrent callers' increments of
        the same documents into one write each."""
        shared, per_user = split(increments)
        if not shared and not per_user:
            return
        shared[WRITES] = 1
        writes = [self._user_writes.join((dataset_id, user), counts) for user, counts in per_user.items()]
        writes.append(self._dataset_writes.join(dataset_id, shared))
        # Shielded: a caller that is cancelled must not cancel the writes others wait for.
        await asyncio.shield(asyncio.gather(*writes))

    async def _increment_dataset(self, dataset_id: Hashable, increments: dict[str, int]) -> None:
        await self._datasets.update_one(
            {"_id": dataset_id}, {"$inc": {f"tally.{key}": value for key, value in increments.items()}})

    async def _increment_user(self, key: Hashable, increments: dict[str, int]) -> None:
        dataset_id, user = cast(tuple[ObjectId, str], key)
        change = {"$inc": increments, "$setOnInsert": {"dataset_id": dataset_id, "user": user}}
        try:
            await self._users.update_one({"_id": user_tally_id(dataset_id, user)}, change, upsert=True)
        except OperationFailure as exc:  # another replica inserted it first: now it exists
            if not is_duplicate_key(exc):
                raise
            await self._users.update_one({"_id": user_tally_id(dataset_id, user)}, change, upsert=True)

    async def of_users(self, dataset_id: ObjectId, user: str | None = None) -> dict[str, dict[str, int]]:
        """Per user id string, their counters in the dataset (only ``user``'s, if given)."""
        selector: Doc = {"_id": user_tally_id(dataset_id, user)} if user else {"dataset_id": dataset_id}
        return {doc["user"]: {name: value for name, value in doc.items()
                              if name not in COUNTER_FIELDS and name != "_id"}
                async for doc in self._users.find(selector)}

    async def uncounted_datasets(self) -> list[DatasetDoc]:
        return await self._datasets.find({"tally": {"$exists": False}}).to_list()

    async def set(self, dataset_id: ObjectId, tally: Doc, *, writes: int | None) -> bool:
        """Replace the counters with ``tally`` (a recount: ``domain/tally.recount``) if no
        increment was written since the recount's reads saw ``tally.writes`` at ``writes``
        (None: never written); whether they were replaced. ``writes`` moves on, it is not
        replaced, so that a recount racing this one fails its own condition."""
        users: dict[str, dict[str, int]] = tally.get(USERS, {})
        counters = {f"tally.{k}": v for k, v in tally.items() if k not in (USERS, WRITES)}
        selector: Doc = {"_id": dataset_id, f"tally.{WRITES}": writes}
        async with self._dataset_writes.lock(dataset_id):
            result = await self._datasets.update_one(selector, {"$set": counters, "$inc": {f"tally.{WRITES}": 1}})
        if result.matched_count == 0:
            return False
        await self.set_users(dataset_id, users)
        counted = [user_tally_id(dataset_id, user) for user in users]
        await self._users.delete_many({"dataset_id": dataset_id, "_id": {"$nin": counted}})
        # A labeler's increment that landed between the two writes may have been replaced:
        # then the dataset's moved on too, and the caller counts again.
        after = await self._datasets.find_one({"_id": dataset_id}, {f"tally.{WRITES}": 1})
        return after is not None and after.get("tally", {}).get(WRITES) == (writes or 0) + 1

    async def set_users(self, dataset_id: ObjectId, users: dict[str, dict[str, int]]) -> None:
        """Replace these users' counters (those not named stay)."""
        async def set_one(user: str, counts: dict[str, int]) -> None:
            async with self._user_writes.lock((dataset_id, user)):
                await self._users.replace_one(
                    {"_id": user_tally_id(dataset_id, user)},
                    {"_id": user_tally_id(dataset_id, user), "dataset_id": dataset_id, "user": user, **counts},
                    upsert=True)

        await asyncio.gather(*(set_one(user, counts) for user, counts in users.items()))

    async def delete_dataset(self, dataset_id: ObjectId) -> None:
        await self._users.delete_many({"dataset_id": dataset_id})

    async def orphans(self, dataset_ids: Collection[ObjectId]) -> list[ObjectId]:
        """Datasets, not among ``dataset_ids``, that labelers' counters are kept for."""
        groups = await self._users.aggregate([{"$group": {"_id": "$dataset_id"}}])
        return [doc["_id"] async for doc in groups if doc["_id"] not in dataset_ids]

"""Progress counters are written as grouped increments (storage/increments.py), against the
real server: none lost under concurrency, fewer writes than callers, a failed write fails
every caller it carried and changes nothing, and a cancelled caller does not cancel the write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from typing import Any

import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient
from pymongo.errors import OperationFailure

from feedbackql_server.storage.tallies import TallyRepo

WAVES, PER_WAVE = 20, 10


@pytest.fixture
async def datasets(mongodb_uri: str, database_name: str) -> AsyncIterator[TallyRepo]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_uri)
    db = client[database_name]
    yield TallyRepo(db["datasets"], db["user_tallies"])  # type: ignore[arg-type]
    await client.close()


async def new_dataset(datasets: TallyRepo, tally: dict[str, Any]) -> ObjectId:
    dataset_id = ObjectId()
    await datasets._datasets.insert_one({"_id": dataset_id, "tally": tally})  # type: ignore[arg-type]
    return dataset_id


async def tally_of(datasets: TallyRepo, dataset_id: ObjectId) -> dict[str, Any]:
    stored = await datasets._datasets.find_one({"_id": dataset_id})
    assert stored is not None
    return {name: value for name, value in stored["tally"].items() if name != "writes"}  # counts writes


def counting_writes(repo: TallyRepo) -> list[dict[str, int]]:
    """The increments of each write the repository makes from now on."""
    writes: list[dict[str, int]] = []
    write = repo._increment_dataset

    async def counted(dataset_id: Hashable, increments: dict[str, int]) -> None:
        writes.append(increments)
        await write(dataset_id, increments)

    repo._dataset_writes._write = counted
    return writes


async def test_concurrent_increments_are_all_counted_in_fewer_writes(datasets: TallyRepo) -> None:
    dataset_id = await new_dataset(datasets, {"records": 0})
    writes = counting_writes(datasets)
    callers = []
    for _ in range(WAVES):  # waves of callers arriving while earlier writes are in flight
        callers += [asyncio.ensure_future(datasets.add(dataset_id, {"records": 1, "pending": 1 - 2 * (i % 2)}))
                    for i in range(PER_WAVE)]
        await asyncio.sleep(0.002)
    await asyncio.gather(*callers)
    tally = await tally_of(datasets, dataset_id)
    assert tally["records"] == WAVES * PER_WAVE
    assert tally.get("pending", 0) == 0
    assert 2 <= len(writes) <= WAVES, writes
    assert sum(write["records"] for write in writes) == WAVES * PER_WAVE


async def test_a_failed_write_fails_every_caller_it_carried(datasets: TallyRepo) -> None:
    dataset_id = await new_dataset(datasets, {"records": "not a number"})
    results = await asyncio.gather(*(datasets.add(dataset_id, {"records": 1}) for _ in range(20)),
                                   return_exceptions=True)
    assert [isinstance(result, OperationFailure) for result in results] == [True] * 20, results
    assert await tally_of(datasets, dataset_id) == {"records": "not a number"}
    # The next increments start a new write: the failure does not stick to the dataset.
    await datasets._datasets.update_one({"_id": dataset_id}, {"$set": {"tally.records": 0}})
    await asyncio.gather(*(datasets.add(dataset_id, {"records": 1}) for _ in range(20)))
    assert await tally_of(datasets, dataset_id) == {"records": 20}


async def test_a_cancelled_caller_does_not_cancel_the_write_others_wait_for(datasets: TallyRepo) -> None:
    dataset_id = await new_dataset(datasets, {"records": 0})
    callers = [asyncio.ensure_future(datasets.add(dataset_id, {"records": 1})) for _ in range(10)]
    await asyncio.sleep(0)  # every caller has joined the first write
    callers[0].cancel()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1:] == [None] * 9
    assert await tally_of(datasets, dataset_id) == {"records": 10}

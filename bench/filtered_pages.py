"""Filtered pages and the first search of a common word, before and after the keys and the
sample that make them cheap, side by side in one run on one dataset (p50 / p95, ms).

    nice .venv-test/bin/python -u -m bench.filtered_pages 20000

- ``metadata values`` and ``responseStatus`` pages: *after* is the service as it is (the
  condition's key, ``storage/filter_keys.py``, pushed down beside each bucket's equality);
  *before* is the same page with the keys left out of the filter (the filter 0.2 sent).
- the first search of a common word (the service's memory of common words emptied before each
  one): *after* tells the word common from a sample of buckets (``RecordRepo._looks_common``);
  *before* skips the sample and probes the word by index, as 0.2 did. A rare word is timed
  both ways too: what the sample adds to a search it does not help.

``migration SIZE`` times instead the start-up that gives SIZE records stored without keys
theirs and the dataset its bands (layouts 7 and 9: one update per record with metadata or
answers), against a start-up with nothing to do:

    nice .venv-test/bin/python -u -m bench.filtered_pages migration 20000

Each sample runs *before* then *after*, alternately, so that the machine's load falls on both
alike. The service runs in this process (rate limits off), on a FerretDB started here (or
``MONGODB_URI``).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from bench.common import comparison_dataset, database_uri, gql, record, service
from feedbackql_server.app import create_app
from feedbackql_server.kinds.registry import load_registry
from feedbackql_server.settings import Settings
from feedbackql_server.storage import records as stored_records
from feedbackql_server.storage.filter_keys import METADATA_KEYS, RESPONSE_KEYS

SAMPLES = 15
ANSWERED_EVERY = 2_000
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
PAGE = """query($id: ID!, $f: RecordFilter, $first: Int!) {
  records(datasetId: $id, filter: $f, first: $first) { edges { node { id } } pageInfo { hasNextPage } } }"""
SUBMIT = "mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }"
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}
METADATA = [{"name": "length", "kind": "INTEGER"}]
PAGES: dict[str, dict[str, Any]] = {
    "metadata values (first 100)": {"metadata": [{"name": "length", "values": [7]}]},
    "metadata values [7, 8, 9] (first 100)": {"metadata": [{"name": "length", "values": [7, 8, 9]}]},
    "responseStatus SUBMITTED (first 100)": {"responseStatus": ["SUBMITTED"]},
}
SEARCHES = {"text, common word, first search": "answer", "text, rare word": "zzzzqqq"}


async def prepare(client: httpx.AsyncClient, size: int) -> str:
    dataset_id = await comparison_dataset(client, metadata=METADATA)
    for start in range(0, size, 1000):
        batch = [record(i) for i in range(start, min(size, start + 1000))]
        if start <= size // 2 < start + 1000:
            batch[size // 2 - start]["fields"]["prompt"] = "zzzzqqq is rare"
        await gql(client, ADD, {"id": dataset_id, "r": batch})
    for external in range(0, size, ANSWERED_EVERY):
        found = await gql(client, PAGE, {"id": dataset_id, "first": 1, "f": {"externalIds": [f"rec-{external}"]}})
        record_id = found["records"]["edges"][0]["node"]["id"]
        await gql(client, SUBMIT, {"input": {"recordId": record_id, "status": "SUBMITTED",
                                             "values": [{"question": "preference", "value": RANKING}]}})
    return dataset_id


@contextmanager
def before(storage: Any) -> Iterator[None]:
    """The service as 0.2 was: no key in a filter, no sample of a word."""
    conditions, looks_common = stored_records._conditions, stored_records.RecordRepo._looks_common
    bucket_filters = stored_records._bucket_filters

    def without_keys(query: stored_records.RecordQuery) -> dict[str, Any]:
        where = conditions(query)
        return {key: value for key, value in where.items() if key not in (RESPONSE_KEYS, METADATA_KEYS)}

    async def never(*_: Any) -> bool:
        return False

    stored_records._conditions = without_keys
    stored_records._bucket_filters = without_keys
    stored_records.RecordRepo._looks_common = never  # type: ignore[assignment, method-assign]
    try:
        yield
    finally:
        stored_records._conditions = conditions
        stored_records._bucket_filters = bucket_filters
        stored_records.RecordRepo._looks_common = looks_common  # type: ignore[method-assign]


async def compare(client: httpx.AsyncClient, storage: Any, dataset_id: str, name: str,
                  variables: dict[str, Any]) -> None:
    times: dict[str, list[float]] = {"before": [], "after": []}
    outcome: dict[str, int] = {}
    for _ in range(SAMPLES):
        for side in ("before", "after"):
            storage.records.common_words.until.clear()
            start = time.perf_counter()
            if side == "before":
                with before(storage):
                    data = await gql(client, PAGE, {"id": dataset_id, **variables})
            else:
                data = await gql(client, PAGE, {"id": dataset_id, **variables})
            times[side].append(time.perf_counter() - start)
            outcome[side] = len(data["records"]["edges"])
    assert outcome["before"] == outcome["after"], (name, outcome)
    p50 = {side: statistics.median(values) * 1000 for side, values in times.items()}
    p95 = {side: sorted(values)[int(0.95 * (len(values) - 1))] * 1000 for side, values in times.items()}
    print(f"{name:40} {p50['before']:8.1f} {p95['before']:8.1f} {p50['after']:8.1f} {p95['after']:8.1f} "
          f"{p50['before'] / p50['after']:7.1f}x  {outcome['after']} records", flush=True)


async def main(size: int) -> None:
    with database_uri() as uri:
        async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (client, _):
            started = time.perf_counter()
            dataset_id = await prepare(client, size)
            print(f"{size} records ingested in {time.perf_counter() - started:.0f} s; load average "
                  f"{' '.join(f'{load:.1f}' for load in os.getloadavg())}", flush=True)
            storage = client._transport.app.state.storage  # type: ignore[attr-defined]
            print(f"{'query':40} {'before p50':>8} {'p95':>8} {'after p50':>8} {'p95':>8} {'p50 ratio':>8}")
            for name, where in PAGES.items():
                await compare(client, storage, dataset_id, name, {"first": 100, "f": where})
            for name, text in SEARCHES.items():
                await compare(client, storage, dataset_id, name, {"first": 100, "f": {"text": text}})
    print(f"load average at the end {' '.join(f'{load:.1f}' for load in os.getloadavg())}")


async def migration(size: int) -> None:
    with database_uri() as uri:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (client, settings):
            await prepare(client, size)
            db = mongo[settings.database_name]
            started = time.perf_counter()
            async with started_again(settings):
                unchanged = time.perf_counter() - started
            await db["records"].update_many({}, {"$unset": {RESPONSE_KEYS: "", METADATA_KEYS: ""}})
            await db["metadata_bands"].delete_many({})
            await db["meta"].update_one({"_id": "layout"}, {"$set": {"version": 6}})
            started = time.perf_counter()
            async with started_again(settings):
                migrated = time.perf_counter() - started
            print(f"{size} records: start-up {unchanged:.1f} s with nothing to do, {migrated:.1f} s giving every "
                  f"record its keys and the dataset its bands (layouts 7 and 9); load average "
                  f"{' '.join(f'{load:.1f}' for load in os.getloadavg())}")
        await mongo.close()


@asynccontextmanager
async def started_again(settings: Settings) -> AsyncIterator[None]:
    """The service started (and stopped) once more on the same database."""
    app = create_app(settings, load_registry(builtin_only=True))
    async with app.router.lifespan_context(app):
        yield


if __name__ == "__main__":
    if sys.argv[1:2] == ["migration"]:
        asyncio.run(migration(int(sys.argv[2]) if len(sys.argv) > 2 else 20_000))
    else:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))

"""The record export: rows/s of the service's export pipeline versus a raw cursor plus the
same JSON encoding, on the same server in one run, and the pipeline's peak Python memory
(tracemalloc) at 10k and at 100k records. The memory test is this benchmark: run it as

    .venv-test/bin/python -m bench.export            # 10k and 100k records
    EXPORT_SIZES=2000,20000 .venv-test/bin/python -m bench.export   # quicker

``EXPORT_VECTORS=384`` also exports a copy of each dataset whose records carry a vector of that
dimension, side by side with the plain one, in each format (JSON Lines, Parquet, CSV): rows/s
with vectors over rows/s without (each export run twice, alternately, the faster run kept), and
the peak memory with vectors (a page's vectors at a time, whatever the size).
``EXPORT_RAW=0`` leaves out the raw-cursor comparison (only the vector one then runs):

    EXPORT_VECTORS=384 EXPORT_RAW=0 EXPORT_SIZES=10000 .venv-test/bin/python -m bench.export
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import tracemalloc
from typing import Any

import numpy as np
from bson import ObjectId
from pymongo import AsyncMongoClient

from bench.common import comparison_dataset, database_uri, gql, record, service
from feedbackql_server.export import formats
from feedbackql_server.export.rows import record_columns, record_rows
from feedbackql_server.storage.content import unpack

ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
SIZES = [int(n) for n in os.environ.get("EXPORT_SIZES", "10000,100000").split(",")]
VECTORS = int(os.environ.get("EXPORT_VECTORS", "0"))
RAW = os.environ.get("EXPORT_RAW", "1") != "0"
FORMAT_NAMES = ("jsonl", "parquet", "csv")
SPACE = """mutation($id: ID!, $d: Int!) { addVectorSpace(datasetId: $id, space: {name: "emb", dimension: $d}) {
  name } }"""


async def service_export(storage: Any, dataset: dict[str, Any]) -> tuple[int, int]:
    rows = size = 0
    async for chunk in formats.jsonl(record_rows(storage, dataset)):
        size += len(chunk)
        rows += chunk.count(b"\n")
    return rows, size


async def timed_export(storage: Any, dataset: Any) -> tuple[int, float]:
    started = time.perf_counter()
    rows, _ = await service_export(storage, dataset)
    return rows, time.perf_counter() - started


def peak_ratio(peaks: dict[int, int]) -> str:
    small, large = SIZES[0], SIZES[-1]
    return f"peak memory at {large} / at {small}: {peaks[large] / peaks[small]:.2f}"


async def raw_export(collection: Any, dataset_id: ObjectId) -> tuple[int, int]:
    rows = size = 0
    async for stored in collection.find({"dataset_id": dataset_id}).sort("_id", 1).batch_size(500):
        doc = unpack(stored)  # the fields are packed in a string (storage/content.py)
        size += len(json.dumps({"id": str(doc["_id"]), "fields": doc["fields"],
                                "metadata": doc.get("metadata")}, ensure_ascii=False)) + 1
        rows += 1
    return rows, size


async def peak_memory(action: Any) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    await action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


async def main() -> None:
    with database_uri() as uri:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri, tz_aware=True)
        async with service(uri, request_timeout_seconds=600, rate_limit_per_second=0) as (client, settings):
            storage = client._transport.app.state.storage  # type: ignore[attr-defined]
            peaks = {}
            for size in SIZES if RAW else []:
                dataset_id = await comparison_dataset(client, workspace=f"export-{size}")
                for start in range(0, size, 1000):
                    await gql(client, ADD, {"id": dataset_id, "r": [record(i) for i in range(start, start + 1000)]})
                dataset = await storage.datasets.get(ObjectId(dataset_id))
                rows, service_seconds = await timed_export(storage, dataset)
                started = time.perf_counter()
                raw_rows, _ = await raw_export(mongo[settings.database_name]["records"], dataset["_id"])
                raw_seconds = time.perf_counter() - started
                assert rows == raw_rows == size
                peaks[size] = await peak_memory(lambda: service_export(storage, dataset))  # noqa: B023
                print(f"{size:>7} records: service {rows / service_seconds:8.0f} rows/s, raw cursor + json "
                      f"{raw_rows / raw_seconds:8.0f} rows/s, ratio {raw_seconds / service_seconds:.2f}; "
                      f"peak memory {peaks[size] / 2**20:.1f} MiB")
            if RAW:
                print(peak_ratio(peaks))
            if VECTORS:
                await with_vectors(client, storage)
        await mongo.close()


async def format_export(storage: Any, dataset: Any, name: str) -> tuple[int, float]:
    """Bytes and seconds of the record export in format ``name``, as the endpoint encodes it."""
    started, size = time.perf_counter(), 0
    async for chunk in formats.FORMATS[name].encode(record_rows(storage, dataset), record_columns(dataset), {}, None):
        size += len(chunk)
    return size, time.perf_counter() - started


async def with_vectors(client: Any, storage: Any) -> None:
    """Each size twice, with and without a vector per record (sent as base64, as the SDK
    sends them), exported one after the other in each format."""
    rng = np.random.default_rng(1)
    peaks = {}
    for size in SIZES:
        plain = await comparison_dataset(client, workspace=f"export-{size}-plain")
        embedded = await comparison_dataset(client, workspace=f"export-{size}-vectors")
        await gql(client, SPACE, {"id": embedded, "d": VECTORS})
        for start in range(0, size, 1000):
            batch = [record(i) for i in range(start, start + 1000)]
            await gql(client, ADD, {"id": plain, "r": batch})
            await gql(client, ADD, {"id": embedded, "r": [{**r, "vectors": {"emb": base64.b64encode(
                rng.normal(size=VECTORS).astype("<f4").tobytes()).decode()}} for r in batch]})
        datasets = {name: await storage.datasets.get(ObjectId(dataset_id))
                    for name, dataset_id in (("plain", plain), ("vectors", embedded))}
        for name in FORMAT_NAMES:
            await vector_ratio(storage, datasets, name, size)
        peaks[size] = await peak_memory(lambda: service_export(storage, datasets["vectors"]))  # noqa: B023
        print(f"{size:>7} records: peak memory with vectors (jsonl) {peaks[size] / 2**20:.1f} MiB")
    if len(SIZES) > 1:
        print(f"with vectors, {peak_ratio(peaks)}")


async def vector_ratio(storage: Any, datasets: dict[str, Any], name: str, size: int) -> None:
    """One format's rows/s with vectors over without: plain, vectors, vectors, plain (the
    faster of each pair kept, so that neither side gets only the machine's slow moments)."""
    seconds: dict[str, float] = {}
    sizes: dict[str, int] = {}
    for side in ("plain", "vectors", "vectors", "plain"):
        sizes[side], took = await format_export(storage, datasets[side], name)
        seconds[side] = min(took, seconds.get(side, took))
    print(f"{size:>7} records, {name:>7}: without vectors {size / seconds['plain']:6.0f} rows/s, "
          f"with {VECTORS}-dimension vectors {size / seconds['vectors']:6.0f} rows/s, "
          f"ratio {seconds['plain'] / seconds['vectors']:.2f} "
          f"({sizes['plain'] / 2**20:.1f} MiB and {sizes['vectors'] / 2**20:.1f} MiB)", flush=True)


if __name__ == "__main__":
    asyncio.run(main())

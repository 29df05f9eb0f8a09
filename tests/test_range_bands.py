"""Ranges of metadata numbers looked up by band (``storage/metadata_bands.py``): every range finds
exactly what the numbers say, whatever the numbers (negative, zero, huge, lists), through
re-adds, the layout migration and ``feedbackql check``; and a range reads only its bands."""

from __future__ import annotations

import random
from typing import Any

from bson import ObjectId

from feedbackql_server.kinds.registry import KindRegistry
from feedbackql_server.settings import Settings
from feedbackql_server.storage.filter_keys import metadata_keys
from feedbackql_server.storage.layout import LAYOUT_VERSION
from tests import helpers as h
from tests import interleavings as il
from tests.conftest import GraphQLClient, serve
from tests.test_check_command import _check
from tests.test_record_sort import RECORD_FINDS

PROPERTIES = [{"name": "n", "kind": "INTEGER"}, {"name": "x", "kind": "FLOAT"}]
NAMES = ("n", "x", "single", "pair")
"""``single`` and ``pair`` are extra metadata: ``pair`` sometimes holds a list of numbers, and a
range then matches when one number meets ``ge`` and another ``le``."""
PAGE = """query($id: ID!, $filter: RecordFilter) {
  records(datasetId: $id, first: 100, filter: $filter) { totalCount edges { node { externalId } } } }"""


def _numbers(rng: random.Random, i: int) -> dict[str, Any]:
    x = rng.choice([rng.uniform(-1, 1), rng.uniform(255, 257), -0.0, 0.0, 1e-300, -1e300, rng.gauss(0, 1e6), 0.5])
    metadata: dict[str, Any] = {"n": rng.choice([rng.randint(-1000, 1000), rng.randint(0, 10), 2**40 + i]), "x": x}
    if rng.random() < 0.5:
        metadata["single"] = rng.choice([rng.randint(-50, 50), rng.uniform(1e5, 1e6)])
    if rng.random() < 0.6:
        metadata["pair"] = rng.choice([[rng.randint(0, 100), rng.randint(200, 300)], rng.randint(0, 300), "text"])
    return metadata


def _matches(value: Any, ge: float | None, le: float | None) -> bool:
    """MongoDB's reading of ``{ge, le}`` on a value or a list: each bound met by some number."""
    numbers = [v for v in (value if isinstance(value, list) else [value])
               if isinstance(v, int | float) and not isinstance(v, bool)]
    return bool(numbers) and (ge is None or any(v >= ge for v in numbers)) and \
        (le is None or any(v <= le for v in numbers))


def _ranges(rng: random.Random, records: list[dict[str, Any]], name: str, count: int) -> list[tuple[Any, Any]]:
    """Bounds at the records' numbers, next to them, beyond them all, and the wrong way round."""
    seen = [v for r in records for v in (r.get(name) if isinstance(r.get(name), list) else [r.get(name)])
            if isinstance(v, int | float)]
    edges = [*seen, *(v + 0.001 for v in seen), *(v - 0.001 for v in seen), 1e301, -1e301, 2**41, 257.5, None]
    return [(rng.choice(edges), rng.choice(edges)) for _ in range(count)]


async def _found(gql: GraphQLClient, dataset_id: str, name: str, ge: Any, le: Any) -> tuple[list[str], int]:
    bounds = {key: value for key, value in (("ge", ge), ("le", le)) if value is not None}
    page = (await gql(PAGE, {"id": dataset_id, "filter": {"metadata": [{"name": name, **bounds}]}}))["records"]
    return [edge["node"]["externalId"] for edge in page["edges"]], page["totalCount"]


async def _check_ranges(gql: GraphQLClient, dataset_id: str, records: list[dict[str, Any]], seed: int) -> None:
    rng = random.Random(seed)
    for name in NAMES:
        for ge, le in _ranges(rng, records, name, 25):
            expected = [f"r{i}" for i, metadata in enumerate(records) if _matches(metadata.get(name), ge, le)]
            found, total = await _found(gql, dataset_id, name, ge, le)
            assert (found, total) == (expected, len(expected)), (name, ge, le)


async def _banded_dataset(gql: GraphQLClient, seed: int = 7) -> tuple[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    dataset_id = await h.sft_dataset(gql, metadataProperties=PROPERTIES, allowExtraMetadata=True)
    records = [_numbers(rng, i) for i in range(60)]
    await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"}, "metadata": m}
                                          for i, m in enumerate(records)])
    return dataset_id, records


async def test_every_range_finds_what_the_numbers_say_through_re_adds(gql: GraphQLClient) -> None:
    dataset_id, records = await _banded_dataset(gql)
    await _check_ranges(gql, dataset_id, records, seed=1)
    rng = random.Random(2)
    for i in rng.sample(range(len(records)), 15):  # numbers moved to other bands (and out of lists)
        records[i] = _numbers(rng, i)
        await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                               "metadata": records[i]}])
    await _check_ranges(gql, dataset_id, records, seed=3)


async def test_a_range_reads_only_its_bands_and_one_beyond_the_data_reads_nothing(gql: GraphQLClient) -> None:
    dataset_id = await h.sft_dataset(gql, metadataProperties=PROPERTIES)
    await h.add_records(gql, dataset_id, [{"externalId": f"r{i}", "fields": {"prompt": f"p{i}"},
                                           "metadata": {"n": i}} for i in range(250)])  # 3 buckets
    RECORD_FINDS.filters.clear()
    RECORD_FINDS.recording = True
    try:
        assert await _found(gql, dataset_id, "n", 1000, None) == ([], 0)
        beyond = list(RECORD_FINDS.filters)
        RECORD_FINDS.filters.clear()
        assert await _found(gql, dataset_id, "n", 100.5, 104) == (["r101", "r102", "r103", "r104"], 4)
        narrow = list(RECORD_FINDS.filters)
    finally:
        RECORD_FINDS.recording = False
    assert not [where for where in beyond if "bucket" in where or "dataset_id" in where], beyond
    bucket_reads = [where for where in narrow if "bucket" in where]
    assert len(bucket_reads) == 3, narrow  # n of 96..111 is one band: one lookup a bucket, by its key
    assert all(where.get("metadata_keys") == '["n", "band", 12310]' for where in bucket_reads), bucket_reads


async def _unbanded(settings: Settings, dataset_id: str) -> None:
    """As 0.9 stored them: no band keys, no stored bands."""
    async with il.raw_database(settings) as db:
        for record in await db.records.find({"dataset_id": ObjectId(dataset_id)}).to_list():
            old = [key for key in record["metadata_keys"] if '"band"' not in key]
            await db.records.update_one({"_id": record["_id"]}, {"$set": {"metadata_keys": old}})
        await db.metadata_bands.delete_many({})


async def _keys_agree(settings: Settings, dataset_id: str) -> None:
    async with il.raw_database(settings) as db:
        records = await db.records.find({"dataset_id": ObjectId(dataset_id)}).to_list()
    assert records
    assert all(set(r["metadata_keys"]) == set(metadata_keys(r["metadata"])) for r in records)


async def test_records_stored_before_bands_get_them_at_start(settings: Settings, builtin_registry: KindRegistry) -> None:
    """Layout 9: without it, ranges would find none of these records."""
    async with serve(settings, builtin_registry) as gql:
        dataset_id, records = await _banded_dataset(gql)
    await _unbanded(settings, dataset_id)
    async with il.raw_database(settings) as db:
        await db.meta.update_one({"_id": "layout"}, {"$set": {"version": 8}})
    async with serve(settings, builtin_registry) as gql:
        await _check_ranges(gql, dataset_id, records, seed=4)
    await _keys_agree(settings, dataset_id)


async def test_check_reports_and_repairs_missing_band_keys_and_bands(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    async with serve(settings, builtin_registry) as gql:
        dataset_id, records = await _banded_dataset(gql)
    await _unbanded(settings, dataset_id)
    found = await _check(settings)
    assert found.returncode == 1
    assert "60 record(s) whose metadata keys are not their metadata's" in found.stdout, found.stdout
    assert "band(s) of metadata numbers not stored" in found.stdout, found.stdout
    repaired = await _check(settings, "--repair")
    assert repaired.returncode == 0, repaired.stdout
    assert (await _check(settings)).returncode == 0
    await _keys_agree(settings, dataset_id)
    async with serve(settings, builtin_registry) as gql:
        await _check_ranges(gql, dataset_id, records, seed=5)


async def test_a_version_that_does_not_know_the_stored_layout_refuses_to_run(
        settings: Settings, builtin_registry: KindRegistry) -> None:
    """An older version would write records without what the newer layout reads them by (here,
    their bands): it stops at start-up and says why, instead of serving."""
    async with serve(settings, builtin_registry) as gql:
        await _banded_dataset(gql)
    async with il.raw_database(settings) as db:
        await db.meta.update_one({"_id": "layout"}, {"$set": {"version": LAYOUT_VERSION + 1}})
    refused = await _check(settings)
    assert refused.returncode == 1
    assert f"brought to layout {LAYOUT_VERSION + 1} by a newer FeedbackQL" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr

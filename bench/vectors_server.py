"""``similarRecords`` end to end, against `feedbackql serve` run as a separate process (so this
client does not share its GIL) over real HTTP, side by side in one run with: the raw index query
alone (the server's own saved usearch index and rows, loaded in this process, searched and
re-ranked as ``domain/similar.py`` does), and a plain ``record(id)`` call. Also: recall@10 against
exact search, a filter keeping 1%, ingest with vectors (sent as lists of numbers, and as base64)
against ingest without them (the same records and batches, alternated), the index's memory, and a
restart with the index present against one without it (a full rebuild). The vectors are TF-IDF +
truncated SVD of the bench texts (``bench/vector_data.py``).

    nice .venv-test/bin/python -m bench.vectors_server --records 10000 --approximate-min 5000
    nice .venv-test/bin/python -m bench.vectors_server            # 100,000 records
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from bson import ObjectId
from pymongo import AsyncMongoClient

from bench.common import database_uri
from bench.vector_data import DIMENSION, Corpus, Matrix, corpus
from feedbackql_plugins.usearch_index import UsearchIndex
from feedbackql_server.domain import similar
from feedbackql_server.domain.vector_index import IndexOptions, VectorIndexes
from feedbackql_server.domain.vectors import spaces_of
from feedbackql_server.storage import Storage
from feedbackql_server.storage.records import MetadataCondition, RecordQuery
from tests.record_reads import RecordReads
from tests.served import KEY, Service, service

BATCH = 1_000
SHARDS = 100
"""Records carry ``shard`` = their number mod 100: a filter on one value keeps 1%."""
SIMILAR = """query($id: ID!, $near: NearInput!, $filter: RecordFilter) {
  similarRecords(datasetId: $id, space: "emb", near: $near, first: 10, filter: $filter) {
    exact searched items { score record { id externalId metadata } } } }"""
RECORD = "query($id: ID!) { record(id: $id) { id externalId metadata } }"
NOTHING = "{ __typename }"
"""A request that reads nothing: what any GraphQL call over HTTP costs here before its work."""
BY_EXTERNAL_ID = """query($id: ID!, $ext: [String!]) {
  records(datasetId: $id, first: 1, filter: {externalIds: $ext}) { edges { node { id } } } }"""
ADD = """mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created refused } }"""
SET = """mutation($id: ID!, $r: [RecordVectorsInput!]!) { setRecordVectors(datasetId: $id, records: $r) { updated } }"""


@dataclass
class Client:
    http: httpx.AsyncClient

    async def gql(self, query: str, variables: dict[str, Any]) -> Any:
        body = (await self.http.post("/graphql", json={"query": query, "variables": variables})).json()
        if body.get("errors"):
            raise RuntimeError(body["errors"])
        return body["data"]

    async def timed(self, query: str, variables: dict[str, Any]) -> tuple[float, Any]:
        start = time.perf_counter()
        data = await self.gql(query, variables)
        return time.perf_counter() - start, data

    async def timed_sent(self, query: str, variables: dict[str, Any]) -> tuple[float, float, Any]:
        """The request's seconds with its client encoding the body and without it (the body
        encoded first, then sent as bytes), and its data."""
        start = time.perf_counter()
        body = json.dumps({"query": query, "variables": variables}).encode()
        encoded = time.perf_counter()
        answer = (await self.http.post("/graphql", content=body, headers={"Content-Type": "application/json"})).json()
        end = time.perf_counter()
        if answer.get("errors"):
            raise RuntimeError(answer["errors"])
        return end - start, end - encoded, answer["data"]


@dataclass
class Times:
    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)

    def p(self, name: str, share: float) -> float:
        ordered = sorted(self.samples[name])
        return (statistics.median(ordered) if share == 0.5 else ordered[int(share * (len(ordered) - 1))]) * 1000


def exact_top(vectors: Matrix, query: Matrix, allowed: np.ndarray[Any, Any] | None = None, k: int = 10) -> list[int]:
    scores = vectors @ query
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    head = np.argpartition(-scores, k)[:k]
    return [int(i) for i in head[np.argsort(-scores[head])]]


@dataclass(frozen=True)
class Datasets:
    """Three datasets alike but for a 384-dimension space on the first two: the first is sent
    its vectors as lists of numbers, the second as base64 of their float32 bytes."""

    lists: str
    base64: str
    without: str


async def make_datasets(client: Client) -> Datasets:
    ws = (await client.gql("mutation { createWorkspace(name: \"vectors\") { id } }", {}))["createWorkspace"]["id"]
    made = []
    for name in ("vectors-as-lists", "vectors-as-base64", "without-vectors"):
        dataset = (await client.gql("mutation($i: CreateDatasetInput!) { createDataset(input: $i) { id } }", {"i": {
            "workspaceId": ws, "name": name, "fields": [{"name": "text", "settings": {"text": {}}}],
            "questions": [{"name": "note", "settings": {"text": {}}}],
            "metadataProperties": [{"name": "shard", "kind": "INTEGER"}]}}))["createDataset"]["id"]
        await client.gql("mutation($id: ID!) { publishDataset(id: $id) { id } }", {"id": dataset})
        made.append(dataset)
    for dataset in made[:2]:
        await client.gql("""mutation($id: ID!) { addVectorSpace(datasetId: $id, space: {name: "emb", dimension: 384})
                            { name } }""", {"id": dataset})
    return Datasets(*made)


async def ingest(client: Client, data: Corpus, datasets: Datasets, compared: int) -> dict[str, tuple[float, float]]:
    """Records/s into each dataset, batches alternated so that all meet the same load; past
    ``compared`` records, into the dataset sent lists alone (not timed). Each rate twice: with
    the request's time including its client encoding the body (``json.dumps``, as httpx and
    the SDK do), and without it (the service's share)."""
    spent = {dataset: [0.0, 0.0] for dataset in (datasets.lists, datasets.base64, datasets.without)}
    compared = min(compared, len(data.texts))
    for start in range(0, len(data.texts), BATCH):
        rows = range(start, min(start + BATCH, len(data.texts)))
        plain = [{"externalId": f"r{i}", "fields": {"text": data.texts[i]}, "metadata": {"shard": i % SHARDS}}
                 for i in rows]
        lists = [{**record, "vectors": {"emb": data.vectors[i].tolist()}}
                 for record, i in zip(plain, rows, strict=True)]
        encoded = [{**record, "vectors": {"emb": base64.b64encode(data.vectors[i].astype("<f4").tobytes()).decode()}}
                   for record, i in zip(plain, rows, strict=True)]
        batches = ((datasets.lists, lists), (datasets.base64, encoded), (datasets.without, plain))
        for dataset, records in batches[:1 if start >= compared else 3]:
            seconds, served, added = await client.timed_sent(ADD, {"id": dataset, "r": records})
            assert added["addRecords"]["created"] == len(records), added
            if start < compared:
                spent[dataset][0] += seconds
                spent[dataset][1] += served
    return {dataset: (compared / total, compared / served) for dataset, (total, served) in spent.items()}


async def until_approximate(client: Client, dataset: str, data: Corpus, patience: float = 1_800) -> float:
    """Seconds until a search answers from the approximate index (its build, in the background)."""
    start = time.perf_counter()
    while time.perf_counter() - start < patience:
        found = await client.gql(SIMILAR, {"id": dataset, "near": {"vector": data.vectors[0].tolist()}})
        if not found["similarRecords"]["exact"]:
            return time.perf_counter() - start
        await asyncio.sleep(1)
    raise AssertionError("the approximate index was not built in time")


def saved_space(data_dir: Path) -> Path:
    folders = [meta.parent for meta in (data_dir / "vectors").glob("*/meta.json")]
    assert len(folders) == 1, folders
    return folders[0]


def wait_saved_with_index(data_dir: Path, timeout: float = 120) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metas = list((data_dir / "vectors").glob("*/meta.json"))
        if metas and json.loads(metas[0].read_text())["index"]:
            return metas[0].parent
        time.sleep(0.5)
    raise AssertionError("the server did not save its index")


class RawIndex:
    """The server's saved index and rows, searched as ``similar.Candidates`` does."""

    def __init__(self, folder: Path) -> None:
        self.rows = np.load(folder / "rows.npy")
        self.index = UsearchIndex(DIMENSION, "cosine")
        self.index.load(folder / "index")

    def top(self, query: Matrix) -> np.ndarray[Any, Any]:
        keys = self.index.search(query, 11)
        return keys[np.argsort(-(self.rows[keys] @ query), kind="stable")][:10]


class DomainSearch:
    """The service's own search in this process, without HTTP or GraphQL: a copy of the server's
    saved space loaded as the server loads it; per search, the dataset and the space's sequence
    read together (as ``VectorSession.similar`` does), ``VectorIndexes.ready`` and
    ``similar.search`` (the ranking and the record lookups) on the server's database. What
    ``similarRecords`` adds to it is the request: the caller's key, GraphQL parsing (384
    numbers), the policy and serialising the records."""

    def __init__(self, served: Service, folder: Path, approximate_min: int) -> None:
        self.lookups = RecordReads()
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
            served.env["MONGODB_URI"], event_listeners=[self.lookups])
        self.storage = Storage(self.client[served.env["FEEDBACKQL_DATABASE_NAME"]])
        shutil.copytree(served.folder / "data" / "vectors", folder)
        self.indexes = VectorIndexes(IndexOptions(folder=folder, approximate=UsearchIndex,
                                                  min_approximate=approximate_min))

    async def search(self, dataset: str, vector: Matrix, query: RecordQuery | None = None) -> similar.SimilarResult:
        found, sequence = await asyncio.gather(self.storage.datasets.get(ObjectId(dataset)),
                                               self.storage.vectors.version(ObjectId(dataset)))
        assert found is not None
        index = await self.indexes.ready(self.storage, found["_id"], spaces_of(found)[0], sequence)
        return await similar.search(self.storage, index, query or RecordQuery(found["_id"]), vector, 10, True, None,
                                     found.get("next_seq", 0))

    async def close(self) -> None:
        await self.client.close()


def external_numbers(found: dict[str, Any]) -> list[int]:
    return [int(item["record"]["externalId"][1:]) for item in found["similarRecords"]["items"]]


async def record_id(client: Client, dataset: str, number: int) -> str:
    """(Not timed.) Near its own vector, a record need not be in the top 10: others can be as near."""
    found = await client.gql(BY_EXTERNAL_ID, {"id": dataset, "ext": [f"r{number}"]})
    return str(found["records"]["edges"][0]["node"]["id"])


def recall(truth: list[int], found: list[int]) -> float:
    return len(set(truth) & set(found)) / len(truth)


async def unfiltered(client: Client, raw: RawIndex, domain: DomainSearch, data: Corpus, dataset: str,
                     queries: list[int]) -> None:
    """Per query, side by side: the raw index, the service's search function in this process,
    ``similarRecords`` near the vector and near the record, and ``record(id)`` of that record."""
    times, recalls = Times(), {"vector": [], "record": []}
    await domain.search(dataset, data.vectors[queries[0]])  # loads the space
    for q in queries:
        vector = data.vectors[q]
        start = time.perf_counter()
        raw.top(vector)
        times.add("raw index", time.perf_counter() - start)
        start = time.perf_counter()
        await domain.search(dataset, vector)
        times.add("domain search (no HTTP)", time.perf_counter() - start)
        seconds, found = await client.timed(SIMILAR, {"id": dataset, "near": {"vector": vector.tolist()}})
        times.add("similarRecords near vector", seconds)
        recalls["vector"].append(recall(exact_top(data.vectors, vector), external_numbers(found)))
        own = await record_id(client, dataset, q)
        seconds, near = await client.timed(SIMILAR, {"id": dataset, "near": {"recordId": own}})
        times.add("similarRecords near record", seconds)
        truth = [i for i in exact_top(data.vectors, vector, k=11) if i != q][:10]
        recalls["record"].append(recall(truth, external_numbers(near)))
        seconds, _ = await client.timed(RECORD, {"id": own})
        times.add("record(id)", seconds)
        seconds, _ = await client.timed(NOTHING, {})
        times.add("{ __typename }", seconds)
    raw_p50, record_p50 = times.p("raw index", 0.5), times.p("record(id)", 0.5)
    domain_p50 = times.p("domain search (no HTTP)", 0.5)
    for name in times.samples:
        print(f"  {name:<27} p50 {times.p(name, 0.5):7.2f} ms  p95 {times.p(name, 0.95):7.2f} ms"
              f"  | {times.p(name, 0.5) / raw_p50:6.1f}x raw index, {times.p(name, 0.5) / domain_p50:5.2f}x domain,"
              f" {times.p(name, 0.5) / record_p50:5.2f}x record(id)")
    print("  (raw index: the usearch query and the exact re-rank alone; domain search: that, plus the dataset and"
          " the space's sequence read together, and the 10 records' lookups, in this process;"
          " { __typename }: a request that reads nothing)")
    print(f"  recall@10 against exact search: near vector {statistics.mean(recalls['vector']):.3f}, "
          f"near record {statistics.mean(recalls['record']):.3f}")


async def one_percent(client: Client, domain: DomainSearch, data: Corpus, dataset: str, queries: list[int]) -> None:
    allowed = np.arange(len(data.texts)) % SHARDS == 7
    times, recalls, short, wrong, lookups = Times(), [], 0, 0, []
    for q in queries:
        vector = data.vectors[q]
        domain.lookups.count = 0
        start = time.perf_counter()
        await domain.search(dataset, vector, RecordQuery(ObjectId(dataset), metadata=[
            MetadataCondition("shard", values=[7])]))
        times.add("domain", time.perf_counter() - start)
        lookups.append(domain.lookups.count)
        seconds, found = await client.timed(SIMILAR, {"id": dataset, "near": {"vector": vector.tolist()},
                                                      "filter": {"metadata": [{"name": "shard", "values": [7]}]}})
        times.add("filtered", seconds)
        items = found["similarRecords"]["items"]
        short += len(items) < 10
        wrong += sum(item["record"]["metadata"]["shard"] != 7 for item in items)
        recalls.append(recall(exact_top(data.vectors, vector, allowed=allowed), external_numbers(found)))
    print(f"  filter keeping 1%: p50 {times.p('filtered', 0.5):.1f} ms  p95 {times.p('filtered', 0.95):.1f} ms;"
          f" {len(queries) - short}/{len(queries)} came back with 10 results, {wrong} results not matching;"
          f" recall@10 {statistics.mean(recalls):.3f}")
    print(f"  the same in this process (no HTTP): p50 {times.p('domain', 0.5):.1f} ms, record lookups per search"
          f" p50 {statistics.median(lookups):.0f} (max {max(lookups)})")


async def by_external_ids(client: Client, data: Corpus, dataset: str, queries: list[int], count: int = 100) -> None:
    """A filter an index narrows (``count`` external ids): its matches are read and ranked alone."""
    rng = np.random.default_rng(3)
    times, recalls, wrong = Times(), [], 0
    for q in queries:
        chosen = sorted(int(i) for i in rng.choice(len(data.texts), size=count, replace=False))
        allowed = np.zeros(len(data.texts), dtype=bool)
        allowed[chosen] = True
        seconds, found = await client.timed(SIMILAR, {"id": dataset, "near": {"vector": data.vectors[q].tolist()},
                                                      "filter": {"externalIds": [f"r{i}" for i in chosen]}})
        times.add("ids", seconds)
        wrong += sum(not allowed[number] for number in external_numbers(found))
        recalls.append(recall(exact_top(data.vectors, data.vectors[q], allowed=allowed), external_numbers(found)))
    print(f"  filter by {count} external ids (an index narrows it): p50 {times.p('ids', 0.5):.1f} ms"
          f"  p95 {times.p('ids', 0.95):.1f} ms; {wrong} results not matching;"
          f" recall@10 {statistics.mean(recalls):.3f}")


async def after_a_write(client: Client, data: Corpus, dataset: str, queries: list[int]) -> None:
    """Side by side: a search when no vector changed since the last one, and the first two
    searches after ``setRecordVectors`` changed one (each catches up with what was written)."""
    times = Times()
    for q in queries:
        near = {"vector": data.vectors[q].tolist()}
        seconds, _ = await client.timed(SIMILAR, {"id": dataset, "near": near})
        times.add("quiet", seconds)
        own = await record_id(client, dataset, q)
        await client.gql(SET, {"id": dataset, "r": [{"recordId": own, "vectors": {"emb": data.vectors[q].tolist()}}]})
        for name in ("first after", "second after"):
            seconds, _ = await client.timed(SIMILAR, {"id": dataset, "near": near})
            times.add(name, seconds)
    quiet = times.p("quiet", 0.5)
    print(f"  after setRecordVectors of one record ({len(queries)} rounds): a quiet search p50 {quiet:.1f} ms;"
          f" the first search after {times.p('first after', 0.5):.1f} ms"
          f" ({times.p('first after', 0.5) / quiet:.2f}x), the second {times.p('second after', 0.5):.1f} ms"
          f" ({times.p('second after', 0.5) / quiet:.2f}x)")


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def first_query(served: Service, data: Corpus, dataset: str) -> tuple[float, bool, int]:
    """After a restart: the first search's time, whether it was approximate, and the server's
    memory growth across it (the space loaded)."""
    assert served.process is not None
    before = rss_bytes(served.process.pid)
    async with httpx.AsyncClient(base_url=served.url, timeout=3_600,
                                 headers={"Authorization": f"Bearer {KEY}"}) as http:
        near = {"vector": data.vectors[1].tolist()}
        seconds, found = await Client(http).timed(SIMILAR, {"id": dataset, "near": near})
    return seconds, not found["similarRecords"]["exact"], rss_bytes(served.process.pid) - before


async def restarts(served: Service, data: Corpus, dataset: str, raw: RawIndex) -> None:
    raw_bytes = data.vectors.nbytes
    print(f"  approximate index (usearch, f16): {raw.index.memory_bytes() / 1e6:.0f} MB = "
          f"{raw.index.memory_bytes() / raw_bytes:.2f}x the raw float32 bytes ({raw_bytes / 1e6:.0f} MB)")
    served.stop()
    served.start()
    seconds, approximate, grown = await first_query(served, data, dataset)
    print(f"  restart with the index present: first query {seconds * 1000:.0f} ms, "
          f"{'approximate (no rebuild)' if approximate else 'EXACT (the index was not loaded)'}; "
          f"the server's memory grew {grown / 1e6:.0f} MB = {grown / raw_bytes:.2f}x the raw bytes "
          "(rows + index + ids)")
    served.stop()
    shutil.rmtree(served.folder / "data" / "vectors")
    served.start()
    seconds, approximate, grown = await first_query(served, data, dataset)
    async with httpx.AsyncClient(base_url=served.url, timeout=3_600,
                                 headers={"Authorization": f"Bearer {KEY}"}) as http:
        rebuilt = await until_approximate(Client(http), dataset, data)
    print(f"  restart without it (full rebuild): first query {seconds * 1000:.0f} ms "
          f"({'approximate' if approximate else 'exact, read from the database'}), "
          f"the approximate index back {rebuilt:.1f} s later; memory grew {grown / 1e6:.0f} MB")


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def measure(served: Service, data: Corpus, args: argparse.Namespace) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=3_600,
                                 headers={"Authorization": f"Bearer {KEY}"}) as http:
        client = Client(http)
        datasets = await make_datasets(client)
        with_vectors = datasets.lists
        rates = await ingest(client, data, datasets, args.ingest_compared)
        print(f"ingest of {min(args.ingest_compared, args.records)} records, batches of {BATCH} alternated "
              f"(load {load_average()}):")
        for share, label in ((0, "the client's json.dumps included"), (1, "the service's share (body encoded first)")):
            without = rates[datasets.without][share]
            lists, encoded = rates[datasets.lists][share], rates[datasets.base64][share]
            print(f"  {label}: without vectors {without:.0f} records/s; with 384-dim vectors as lists {lists:.0f}"
                  f" records/s (ratio {lists / without:.2f}), as base64 {encoded:.0f} records/s"
                  f" (ratio {encoded / without:.2f})")
        built = await until_approximate(client, with_vectors, data)
        print(f"approximate index built {built:.1f} s after the first search (load {load_average()})")
        raw = RawIndex(wait_saved_with_index(served.folder / "data"))
        rng = np.random.default_rng(2)
        queries = [int(q) for q in rng.choice(len(data.texts), size=args.queries, replace=False)]
        print(f"top-10, {args.queries} queries (load {load_average()}):")
        with tempfile.TemporaryDirectory() as copy:
            domain = DomainSearch(served, Path(copy) / "vectors", args.approximate_min)
            try:
                await unfiltered(client, raw, domain, data, with_vectors, queries)
                await one_percent(client, domain, data, with_vectors, queries[:args.filtered])
                await by_external_ids(client, data, with_vectors, queries[:args.filtered])
                await after_a_write(client, data, with_vectors, queries[:args.filtered])
            finally:
                await domain.close()
    print(f"restart (load {load_average()}):")
    await restarts(served, data, with_vectors, raw)


async def main(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    data = corpus(args.records)
    print(f"{args.records} texts, TF-IDF + truncated SVD to {DIMENSION} dimensions in "
          f"{time.perf_counter() - start:.1f} s (load {load_average()})")
    with database_uri() as uri, tempfile.TemporaryDirectory() as folder, \
            service(Path(folder), uri, request_timeout_seconds=3_600,
                    vector_approximate_min=args.approximate_min) as served:
        await measure(served, data, args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--filtered", type=int, default=50, help="queries with the 1%% filter")
    parser.add_argument("--ingest-compared", type=int, default=100_000,
                        help="records ingested both with and without vectors (the rest: with vectors only)")
    parser.add_argument("--approximate-min", type=int, default=20_000,
                        help="FEEDBACKQL_VECTOR_APPROXIMATE_MIN of the server (its default: 20,000)")
    asyncio.run(main(parser.parse_args()))

"""The queries a caller could use to stall the service (issue 20), on one dataset of SIZE records:
p50 and p95 of text search (a rare word, a common one, two words), each filter, each sort and
``totalCount``, next to a plain page; a query the service refuses (``QUERY_TOO_COSTLY``) is
reported as refused, with how long the refusal took. The sorts no index serves are also timed on a
small dataset (``SMALL`` records, under ``maxScanRecords``) in the same collection: what they cost
there is what the collection's size makes them cost.

Then the labeler loop (nextRecords, then submitResponse; one labeler, no think time) in short
blocks, ``ROUNDS`` rounds of: alone; while an annotator sends the worst query it can write (30
aliased text searches and filters with totalCount) back to back over two WebSockets; while a
control "attacker" sends a trivial query (``{ me { id } }``) over two WebSockets at the rate the
worst attacker managed in the block before; while an annotator sends the most reading a request
may do (three filtered pages, by band key); while one sends three pages no key serves (nine
metadata values). Interleaving puts the machine's noise on every phase alike; the
control's ratio is the noise floor to read the others against.

For each phase it also reports, per second of its blocks, what the server asked of the database
and what the service, FerretDB and PostgreSQL spent (``server_costs.py``), and the loops that start
in a block's first ``EARLY_SECONDS`` (when an attacker spends its key's burst) apart from the rest.

    .venv-test/bin/python -m bench.worst_query [SIZE]      (default 100000)

Targets: every query either fast (p95 well under the 30 s request timeout; a page's cost does
not grow with the dataset) or refused at once; the labeler loop's p95 under attack <= 1.5 x alone.
The server is `feedbackql serve` in a process of its own (on MONGODB_URI, else its own embedded
database); each attacker runs in a process of its own too, so no client shares the server's GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.common import comparison_dataset, record
from bench.server_costs import PROBE_FOLDER, ServerCosts
from feedbackql_server.settings import Settings
from tests.served import KEY, service

SAMPLES = 20
SMALL = 1000
"""Records of the small dataset the unindexed sorts are timed on (under maxScanRecords)."""
ROUNDS = 6
BLOCK_SECONDS = 5.0
WARM_SECONDS = 0.5
"""An attacker runs this long before a block's loops are timed."""
SETTLE_SECONDS = 1.0
"""Pause after an attack block, so that reads it left running do not count against the next."""
SOCKETS = 2
ADD = "mutation($id: ID!, $r: [RecordInput!]!) { addRecords(datasetId: $id, records: $r) { created } }"
RECORDS = """query($id: ID!, $f: RecordFilter, $s: RecordSort, $first: Int!) {
  records(datasetId: $id, filter: $f, sort: $s, first: $first) { edges { node { id } } %s } }"""
CREATE_USER = "mutation($input: CreateUserInput!) { createUser(input: $input) { apiKey } }"
WORKSPACE = "query($id: ID!) { dataset(id: $id) { workspace { id } } }"
NEXT = "mutation($id: ID!) { nextRecords(datasetId: $id, first: 1) { id } }"
SUBMIT = "mutation($input: ResponseInput!) { submitResponse(input: $input) { id } }"
RANKING = {"ranking": [{"value": "response-1", "rank": 1}, {"value": "response-2", "rank": 2}]}
METADATA = [{"name": "length", "kind": "INTEGER"}]
WORST = "query($id: ID!) { " + " ".join(
    f'a{i}: records(datasetId: $id, first: 100, filter: {{text: "answer", '
    f'metadata: [{{name: "length", ge: {1000 + i}}}]}}) {{ totalCount edges {{ node {{ id }} }} }}'
    for i in range(30)) + " }"
"""A common word and a metadata range that matches nothing, 30 times, each with totalCount."""
ALLOWED_WORST = "query($id: ID!) { " + " ".join(
    f'a{i}: records(datasetId: $id, first: 100, filter: {{text: "answer", '
    f'metadata: [{{name: "length", ge: {50.1 + i / 10}, le: 50.9}}]}}) {{ edges {{ node {{ id }} }} }}'
    for i in range(3)) + " }"
"""The most reading a request may do: three filtered pages (the request's 60 buckets) that find
nothing. Their range is within the records' numbers (``length`` is 0..99, a whole number): one
beyond them all is known empty without a read (``storage/metadata_bands.py``); this one is one
band's lookup a bucket (lengths 48..55)."""
UNKEYED_WORST = "query($id: ID!) { " + " ".join(
    f'a{i}: records(datasetId: $id, first: 100, filter: {{metadata: [{{name: "source", '
    f'values: [{", ".join(f"{chr(34)}none-{i}-{n}{chr(34)}" for n in range(9))}]}}]}}) {{ edges {{ node {{ id }} }} }}'
    for i in range(3)) + " }"
"""Three filtered pages no key serves, that find nothing: nine metadata values (a page looks up
at most eight by key), so every bucket they read is decoded whole."""
TRIVIAL = "query { me { id } }"
"""The control attacker's query: as cheap as an authenticated operation gets."""
SORTS: dict[str, dict[str, Any]] = {
    "sort INSERTED_AT DESC": {"field": "INSERTED_AT", "direction": "DESC"},
    "sort UPDATED_AT": {"field": "UPDATED_AT"},
    "sort METADATA length": {"field": "METADATA", "name": "length"},
    "sort SUGGESTION_SCORE": {"field": "SUGGESTION_SCORE", "name": "preference"},
}
SHAPES: dict[str, tuple[dict[str, Any], bool]] = {
    # name: (variables besides id, with totalCount)
    "plain page (first 100)": ({"first": 100}, False),
    "plain page + totalCount": ({"first": 100}, True),
    "text, rare word + totalCount": ({"first": 1, "f": {"text": "zzzzqqq"}}, True),
    "text, common word (first 100)": ({"first": 100, "f": {"text": "answer"}}, False),
    "text, common word + totalCount": ({"first": 100, "f": {"text": "answer"}}, True),
    "text, two words + totalCount": ({"first": 100, "f": {"text": "first 4242"}}, True),
    "status PENDING + totalCount": ({"first": 100, "f": {"status": "PENDING"}}, True),
    "status COMPLETED + totalCount": ({"first": 100, "f": {"status": "COMPLETED"}}, True),
    "responseStatus SUBMITTED": ({"first": 100, "f": {"responseStatus": ["SUBMITTED"]}}, False),
    "responseStatus SUBMITTED + totalCount": ({"first": 100, "f": {"responseStatus": ["SUBMITTED"]}}, True),
    "metadata values (first 100)": ({"first": 100, "f": {"metadata": [{"name": "length", "values": [7]}]}}, False),
    "metadata range + totalCount": ({"first": 100, "f": {"metadata": [{"name": "length", "ge": 99}]}}, True),
    "metadata range, none within (first 100)": (
        {"first": 100, "f": {"metadata": [{"name": "length", "ge": 50.1, "le": 50.9}]}}, False),
    "metadata range beyond all + totalCount": ({"first": 100, "f": {"metadata": [{"name": "length", "ge": 1000}]}},
                                               True),
    "externalIds (3) + totalCount": ({"first": 100, "f": {"externalIds": ["rec-1", "rec-500", "nope"]}}, True),
    **{name: ({"first": 100, "s": sort}, False) for name, sort in SORTS.items()},
}


async def call(http: httpx.AsyncClient, query: str, variables: dict[str, Any], key: str = KEY) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables},
                               headers={"Authorization": f"Bearer {key}"})
    body: dict[str, Any] = response.json()
    return body


def data(body: dict[str, Any]) -> Any:
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return body["data"]


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def add_records(http: httpx.AsyncClient, dataset_id: str, size: int, rare: bool) -> None:
    for start in range(0, size, 1000):
        batch = [record(i) for i in range(start, min(size, start + 1000))]
        if rare and start <= size // 2 < start + 1000:
            batch[size // 2 - start]["fields"]["prompt"] = "zzzzqqq is rare"
        data(await call(http, ADD, {"id": dataset_id, "r": batch}))


async def prepare(http: httpx.AsyncClient, size: int) -> tuple[str, str, dict[str, str]]:
    """The dataset (one record has the rare word), a small one beside it, and annotators' keys by
    name: the labeler's, and one for each attacker (so that what one is told to wait does not slow
    another)."""
    dataset_id = await comparison_dataset(http, workspace="worst", metadata=METADATA)
    await add_records(http, dataset_id, size, rare=True)
    small_id = await comparison_dataset(http, workspace="worst-small", name="small", metadata=METADATA)
    await add_records(http, small_id, SMALL, rare=False)
    ws = data(await call(http, WORKSPACE, {"id": dataset_id}))["dataset"]["workspace"]["id"]
    keys = {name: data(await call(http, CREATE_USER, {"input": {"username": f"user-{index}", "role": "ANNOTATOR",
                                                                "workspaceIds": [ws]}}))["createUser"]["apiKey"]
            for index, name in enumerate(("labeler", *phases()))}
    return dataset_id, small_id, keys


async def shape(http: httpx.AsyncClient, dataset_id: str, variables: dict[str, Any], counted: bool
                ) -> tuple[list[float], str]:
    query = RECORDS % ("totalCount" if counted else "")
    times, outcome = [], "ok"
    for _ in range(SAMPLES):
        start = time.perf_counter()
        body = await call(http, query, {"id": dataset_id, **variables})
        times.append(time.perf_counter() - start)
        if body.get("errors"):
            outcome = "refused: " + body["errors"][0]["extensions"].get("code", "?")
        elif counted:
            outcome = f"totalCount {next(iter(body['data'].values()))['totalCount']}"
    return times, outcome


async def shapes(http: httpx.AsyncClient, dataset_id: str, small_id: str) -> None:
    print(f"{'query':48} {'p50 ms':>9} {'p95 ms':>9}  outcome")
    cases = [(name, dataset_id, variables, counted) for name, (variables, counted) in SHAPES.items()]
    cases += [(f"{name} ({SMALL} records)", small_id, {"first": 100, "s": sort}, False)
              for name, sort in SORTS.items()]
    for name, target, variables, counted in cases:
        times, outcome = await shape(http, target, variables, counted)
        print(f"{name:48} {1000 * statistics.median(times):9.1f} {1000 * p(times, 0.95):9.1f}  {outcome}")


async def labeler_loop(http: httpx.AsyncClient, dataset_id: str, key: str, seconds: float,
                       failures: Counter[str], starts: list[float] | None = None) -> list[float]:
    """Loop latencies; a loop that fails (e.g. ``TIMEOUT``) counts in ``failures`` by code. A
    labeler with no think time can outrun its key's rate limit (50 requests a second): told
    ``RATE_LIMITED``, it waits ``retryAfter``, and that loop is not timed."""
    latencies: list[float] = []
    began = time.perf_counter()
    ends = began + seconds
    while time.perf_counter() < ends:
        start = time.perf_counter()
        body = await call(http, NEXT, {"id": dataset_id}, key)
        if not body.get("errors") and body["data"]["nextRecords"]:
            body = await call(http, SUBMIT, {"input": {
                "recordId": body["data"]["nextRecords"][0]["id"], "status": "SUBMITTED",
                "values": [{"question": "preference", "value": RANKING}]}}, key)
        elif not body.get("errors"):
            raise RuntimeError("the labeler has labelled every record: use a larger SIZE")
        if body.get("errors"):
            code = body["errors"][0]["extensions"].get("code", "?")
            failures[code] += 1
            if code == "RATE_LIMITED":  # faster than a key may go: wait as told, as the UI and SDK do
                await asyncio.sleep(body["errors"][0]["extensions"].get("retryAfter", 1))
                continue
        latencies.append(time.perf_counter() - start)
        if starts is not None:
            starts.append(start - began)
    return latencies


@dataclass
class Attacker:
    """What the bench and an attacker process share: switched on for its blocks, paced by
    ``interval`` (seconds between sends on each socket; 0: back to back), its answers counted."""

    active: Event
    stop: Event
    interval: Any  # multiprocessing.Value("d")
    answered: Any  # multiprocessing.Value("i")
    block: Any  # multiprocessing.Value("i"): the block its outcomes are counted in
    results: Any  # multiprocessing.Queue: {block: {code: count}} once stopped


async def operation(ws: Any, query: str, dataset_id: str) -> tuple[str, float]:
    """Sends ``query``; its outcome (``OK`` or the first error's code) and, for a refusal at the
    door, the seconds it was told to wait."""
    await ws.send(json.dumps({"id": uuid.uuid4().hex, "type": "subscribe",
                              "payload": {"query": query, "variables": {"id": dataset_id} if "$id" in query else {}}}))
    code = "OK"
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "next":
            errors = message["payload"].get("errors") or []
            code = errors[0]["extensions"]["code"] if errors else code
        elif message["type"] == "error":
            extensions = message["payload"][0].get("extensions", {})
            return extensions.get("code", "?"), extensions.get("retryAfter", 1)
        elif message["type"] == "complete":
            return code, 0.0


async def attack_socket(url: str, dataset_id: str, key: str, query: str, shared: Attacker,
                        outcomes: dict[int, Counter[str]]) -> None:
    """``query`` over one WebSocket while the attacker is switched on; told to wait, it waits half
    a second (less than told: an impatient client)."""
    async with connect(url.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                       max_size=None) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {key}"}}))
        await ws.recv()
        while not shared.stop.is_set():
            if not shared.active.is_set():
                await asyncio.sleep(0.02)
                continue
            started = time.monotonic()
            code, wait = await operation(ws, query, dataset_id)
            outcomes.setdefault(shared.block.value, Counter())[code] += 1
            with shared.answered.get_lock():
                shared.answered.value += 1
            pause = max(min(wait, 0.5), shared.interval.value - (time.monotonic() - started))
            if pause > 0:
                await asyncio.sleep(pause)


def attacker_process(url: str, dataset_id: str, key: str, query: str, shared: Attacker) -> None:
    outcomes: dict[int, Counter[str]] = {}

    async def run() -> None:
        await asyncio.gather(*(attack_socket(url, dataset_id, key, query, shared, outcomes) for _ in range(SOCKETS)))

    try:
        asyncio.run(run())
    finally:
        shared.results.put({block: dict(counts) for block, counts in outcomes.items()})


@dataclass
class Phase:
    query: str | None
    """What the attacker sends (None: the labeler is alone)."""
    latencies: list[float] = field(default_factory=list)
    round_p95: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    """What the attacker was answered, by code."""
    blocks: list[int] = field(default_factory=list)
    answered: int = 0
    seconds: float = 0.0
    costs: Counter[str] = field(default_factory=Counter)
    """What the server and its database spent during the phase's blocks (``server_costs.py``)."""
    timed_seconds: float = 0.0
    starts: list[float] = field(default_factory=list)
    """When each timed loop started, in seconds from its block's start (its latency: ``latencies``)."""


WORST_PHASE = "30-alias query"
CONTROL = "control (me { id })"


def phases() -> dict[str, Phase]:
    return {"alone": Phase(None), WORST_PHASE: Phase(WORST), CONTROL: Phase(TRIVIAL),
            "3 filtered pages": Phase(ALLOWED_WORST), "3 unkeyed pages": Phase(UNKEYED_WORST)}


def start_attackers(url: str, dataset_id: str, keys: dict[str, str], timed: dict[str, Phase]
                    ) -> dict[str, tuple[Attacker, multiprocessing.process.BaseProcess]]:
    context = multiprocessing.get_context("spawn")
    attackers: dict[str, tuple[Attacker, multiprocessing.process.BaseProcess]] = {}
    for name, phase in timed.items():
        if phase.query is None:
            continue
        shared = Attacker(context.Event(), context.Event(), context.Value("d", 0.0), context.Value("i", 0),
                          context.Value("i", -1), context.Queue())
        process = context.Process(target=attacker_process, args=(url, dataset_id, keys[name], phase.query, shared),
                                  daemon=True)
        process.start()
        attackers[name] = (shared, process)
    return attackers


async def block(http: httpx.AsyncClient, dataset_id: str, key: str, phase: Phase, shared: Attacker | None,
                index: int, costs: ServerCosts) -> None:
    """One block of the labeler loop, with the phase's attacker switched on from WARM_SECONDS
    before it to its end."""
    answered = 0
    before, began = costs.snapshot(), time.perf_counter()
    if shared is not None:
        shared.block.value = index
        answered = shared.answered.value
        shared.active.set()
        await asyncio.sleep(WARM_SECONDS)
    started = time.perf_counter()
    latencies = await labeler_loop(http, dataset_id, key, BLOCK_SECONDS, phase.failures, phase.starts)
    elapsed = time.perf_counter() - started
    if shared is not None:
        shared.active.clear()
    phase.costs.update(costs.snapshot() - before)
    phase.timed_seconds += time.perf_counter() - began
    if shared is not None:
        phase.answered += shared.answered.value - answered
        phase.seconds += elapsed + WARM_SECONDS
        await asyncio.sleep(SETTLE_SECONDS)
    phase.latencies += latencies
    phase.round_p95.append(p(latencies, 0.95))
    phase.blocks.append(index)


async def interleaved(url: str, dataset_id: str, keys: dict[str, str], costs: ServerCosts) -> dict[str, Phase]:
    timed = phases()
    attackers = start_attackers(url, dataset_id, keys, timed)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            await asyncio.sleep(3)  # the attackers' processes start and open their sockets
            index = 0
            for _ in range(ROUNDS):
                for name, phase in timed.items():
                    shared = attackers[name][0] if name in attackers else None
                    if name == CONTROL and shared is not None:  # at the worst attacker's rate so far
                        worst = timed[WORST_PHASE]
                        rate = worst.answered / worst.seconds if worst.seconds else 1.0
                        shared.interval.value = SOCKETS / max(rate, 0.1)
                    await block(http, dataset_id, keys["labeler"], phase, shared, index, costs)
                    index += 1
    finally:
        for name, (shared, process) in attackers.items():
            shared.stop.set()
            with contextlib.suppress(Exception):
                for counts in shared.results.get(timeout=30).values():
                    timed[name].outcomes.update(counts)
            process.join(timeout=10)
    return timed


def report_costs(timed: dict[str, Phase]) -> None:
    """Per second of each phase's blocks (attack switched on to off): what the database was asked
    and what each process spent (CPU % of one core)."""
    names = sorted({name for phase in timed.values() for name in phase.costs})
    print("per second of the blocks: " + ", ".join(f"{name}" for name in names))
    for name, phase in timed.items():
        seconds = phase.timed_seconds or 1.0
        print(f"  {name:22} " + "  ".join(_per_second(what, phase.costs[what] / seconds) for what in names))


def _per_second(what: str, value: float) -> str:
    return f"{100 * value:6.1f}%" if what.endswith("CPU s") else f"{value:7.1f}"


EARLY_SECONDS = 1.5
"""Loops that start this soon in a block meet the attacker's burst (its key's quota is full at
each block's start: the other phases' blocks in between refill it)."""


def report_early(timed: dict[str, Phase]) -> None:
    print(f"loops starting in a block's first {EARLY_SECONDS:g} s (with WARM_SECONDS before) / later: p50 / p95 ms")
    for name, phase in timed.items():
        early = [lat for lat, at in zip(phase.latencies, phase.starts, strict=True) if at < EARLY_SECONDS]
        later = [lat for lat, at in zip(phase.latencies, phase.starts, strict=True) if at >= EARLY_SECONDS]
        if early and later:
            print(f"  {name:22} {1000 * statistics.median(early):6.1f} / {1000 * p(early, 0.95):6.1f} ({len(early)}); "
                  f"{1000 * statistics.median(later):6.1f} / {1000 * p(later, 0.95):6.1f} ({len(later)})")


def report(timed: dict[str, Phase]) -> None:
    report_costs(timed)
    report_early(timed)
    alone = timed["alone"]
    for name, phase in timed.items():
        sent = ""
        if phase.query is not None:
            rate = phase.answered / phase.seconds if phase.seconds else 0.0
            sent = f"; attacker {rate:.1f} answers/s: {dict(phase.outcomes)}"
        print(f"labeler loop, {name:22} p50 {1000 * statistics.median(phase.latencies):6.1f} ms, "
              f"p95 {1000 * p(phase.latencies, 0.95):6.1f} ms ({len(phase.latencies)} loops in "
              f"{len(phase.blocks)} blocks, failed: {dict(phase.failures)}){sent}")
    print("block p95s (ms), round by round:")
    for name, phase in timed.items():
        print(f"  {name:22} " + " ".join(f"{1000 * value:6.1f}" for value in phase.round_p95))
    for name, phase in timed.items():
        if phase.query is None:
            continue
        per_round = [mine / theirs for mine, theirs in zip(phase.round_p95, alone.round_p95, strict=True)]
        print(f"p95 {name} / alone: {p(phase.latencies, 0.95) / p(alone.latencies, 0.95):.2f} "
              f"(round by round: median {statistics.median(per_round):.2f}, {min(per_round):.2f}-"
              f"{max(per_round):.2f}){'  <- noise floor' if name == CONTROL else '  (target <= 1.5)'}")


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


async def measure_queries(url: str, size: int) -> tuple[str, dict[str, str]]:
    async with httpx.AsyncClient(base_url=url, timeout=120, headers={"Authorization": f"Bearer {KEY}"}) as http:
        started = time.perf_counter()
        dataset_id, small_id, keys = await prepare(http, size)
        print(f"{size} records (and {SMALL} beside them) ingested in {time.perf_counter() - started:.0f} s; {load()}")
        await shapes(http, dataset_id, small_id)
    return dataset_id, keys


@contextlib.contextmanager
def probed_environment(variables: dict[str, str]) -> Any:
    """``variables`` set for the server's process (started within), then as they were."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main(size: int) -> None:
    # Ingest, and what each query costs, without rate limits (the served default): the per-key
    # read quota would cut pages short, and ingesting spends the owner's time budget. The attack
    # meets the default limits, rate limits included.
    # FEEDBACKQL_* variables set for this command (e.g. FEEDBACKQL_READ_BUCKETS_PER_SECOND) reach the server.
    defaults = {"rate_limit_per_second": os.environ.get("FEEDBACKQL_RATE_LIMIT_PER_SECOND")
                or Settings.model_fields["rate_limit_per_second"].default}
    uri = os.environ.get("MONGODB_URI")
    with tempfile.TemporaryDirectory() as folder:
        database = f"bench_worst_{uuid.uuid4().hex[:8]}"
        with service(Path(folder), uri, database_name=database) as served:
            dataset_id, keys = asyncio.run(measure_queries(served.url, size))
        probe = Path(folder) / "probe.json"
        probed = {"PYTHONPATH": os.pathsep.join(filter(None, (PROBE_FOLDER, os.environ.get("PYTHONPATH")))),
                  "FEEDBACKQL_BENCH_PROBE": str(probe)}
        with probed_environment(probed), service(Path(folder), uri, database_name=database, **defaults) as served:
            os.environ.pop("FEEDBACKQL_BENCH_PROBE")  # the attackers' processes are not probed
            assert served.process is not None
            costs = ServerCosts(served.process.pid, probe)
            print(f"labeler loop: {ROUNDS} rounds of {len(phases())} blocks of {BLOCK_SECONDS:g} s; {load()}")
            timed = asyncio.run(interleaved(served.url, dataset_id, keys, costs))
            costs.close()
            print(f"after the blocks: {load()}")
    report(timed)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
